"""Shared test support: the local stack's environment, the `settlementctl` runner and the
ledger checks that end every fault test. Registered as a pytest plugin in tests/conftest.py
so its assertions are rewritten (detailed failure messages); bench/ imports it too."""
