"""`python -m settlement_aggregate`."""

from settlement_aggregate.app import main

main()
