"""PostgreSQL databases of their own for test modules, dropped when the session ends.

Each integration module migrates a fresh database (tests/conftest.py `isolated_env`); a full
run makes one per module that uses it (about 45), 8.3 MB each once migrated and seeded
(measured with pg_database_size), and nothing ever dropped them: they are dropped now at the
end of the session. They stay until then, so a failing module's rows can be read while the run goes
on; set KEEP_TEST_DATABASES=1 to keep them after it too (for a post-mortem).
"""

from __future__ import annotations

import os
import warnings

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

KEEP_ENV = "KEEP_TEST_DATABASES"


def create_database(base_url: str, name: str) -> str:
    """Creates the database on base_url's server (as base_url's role); returns its URL."""
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


def drop_database(base_url: str, name: str) -> None:
    """Drops it even if a killed service's connection is still open (FORCE ends them)."""
    assert make_url(base_url).database != name, "connected to the database to drop"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


class TestDatabases:
    """The databases this session created, to drop when it ends."""

    __test__ = False  # not a test class, whatever its name

    def __init__(self) -> None:
        self.created: list[tuple[str, str]] = []  # (base_url, name)

    def create(self, base_url: str, name: str) -> str:
        url = create_database(base_url, name)
        self.created.append((base_url, name))
        return url

    def drop_all(self) -> None:
        if os.environ.get(KEEP_ENV) == "1":
            return
        while self.created:
            base_url, name = self.created.pop()
            try:
                drop_database(base_url, name)
            except SQLAlchemyError as exc:  # housekeeping: say so, fail no test for it
                warnings.warn(f"test database {name} not dropped: {exc}", stacklevel=1)
