"""`python -m settlement_ingest`: serve the intake on INGEST_HOST:INGEST_PORT."""

from __future__ import annotations

import uvicorn
from prometheus_client import disable_created_metrics

from settlement_core.logs import configure_logging
from settlement_ingest.main import create_app
from settlement_ingest.settings import IngestSettings


def main() -> None:
    settings = IngestSettings()  # values from the environment
    configure_logging(settings.log_level)
    # The *_created series only double the scrape size; the dashboards do not use them.
    disable_created_metrics()  # type: ignore[no-untyped-call]
    uvicorn.run(create_app(settings), host=settings.ingest_host, port=settings.ingest_port,
                log_config=None, access_log=False, proxy_headers=False)


if __name__ == "__main__":
    main()
