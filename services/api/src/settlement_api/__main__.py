"""`python -m settlement_api`: serve on API_HOST:API_PORT (default 127.0.0.1:8002)."""

from __future__ import annotations

import uvicorn
from prometheus_client import disable_created_metrics

from settlement_api.app import create_app
from settlement_api.settings import ApiSettings
from settlement_core.http_timeouts import HttpTimeouts, timed_protocol
from settlement_core.logs import configure_logging


def main() -> None:
    settings = ApiSettings()
    configure_logging(settings.log_level)
    # *_created series double the request metrics' cardinality and nothing here uses them.
    disable_created_metrics()  # type: ignore[no-untyped-call]
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        access_log=False,
        # Slow headers or a stalled body close the connection (HTTP_HEADER_TIMEOUT_S,
        # HTTP_BODY_TIMEOUT_S; settlement_core.http_timeouts).
        http=timed_protocol(HttpTimeouts()),
    )


if __name__ == "__main__":
    main()
