"""What every credential command runs against: the settings from the environment, one
database transaction, the Redis principal cache, the secret box, and how it reports."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from settlement_core.auth import forget_key
from settlement_core.db.engine import make_engine
from settlement_core.redis_io import RedisUnavailable, sync_client, translate_errors
from settlement_core.settings import CoreSettings


def settings() -> CoreSettings:
    return CoreSettings()  # from the environment (deploy/local/stack.sh env)


def fail(message: str) -> int:
    print(f"settlementctl: {message}", file=sys.stderr)
    return 1


@contextmanager
def transaction(config: CoreSettings) -> Iterator[Session]:
    """One transaction: the change and its audit entry commit together or not at all."""
    engine = make_engine(config.database_url, pool_size=1)
    try:
        with Session(engine) as session, session.begin():
            yield session
    finally:
        engine.dispose()


def forget(config: CoreSettings, key_hash: str | None) -> None:
    """Marks a key hash revoked in the principal cache; called after the commit, so a request
    racing the revocation cannot re-cache the old principal."""
    if key_hash is None:
        return
    try:
        with translate_errors():
            forget_key(sync_client(config.redis_url, mode=config.redis_mode), key_hash)
    except RedisUnavailable as exc:
        print(
            f"warning: Redis unreachable ({exc}); "
            "the services may accept the old key for up to 30 s until their cache expires",
            file=sys.stderr,
        )
