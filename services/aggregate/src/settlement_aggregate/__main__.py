"""`python -m settlement_aggregate`."""

from settlement_aggregate.main import main

main()
