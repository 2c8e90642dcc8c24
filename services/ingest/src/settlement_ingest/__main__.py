"""`python -m settlement_ingest`: serve the intake on INGEST_HOST:INGEST_PORT with
INGEST_WORKERS processes."""

from __future__ import annotations

from settlement_ingest.serve import main

if __name__ == "__main__":
    main()
