"""settlementctl: the operator's command line."""
