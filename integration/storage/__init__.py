"""Storage: SQLAlchemy tables, engine set-up and Alembic migrations (SQLite by default, PostgreSQL in production)."""
