"""The database: SQLAlchemy 2 tables, Alembic migrations, repositories and the audit trail."""
