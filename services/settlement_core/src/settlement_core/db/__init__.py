"""PostgreSQL ledger of record: SQLAlchemy models, engine factory, Alembic migrations."""
