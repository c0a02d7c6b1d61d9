"""The store: SQLAlchemy Core tables and repository functions, the same on SQLite and PostgreSQL.

Repository modules take an `AsyncConnection` inside a transaction the caller opened with
`Store.transaction()` (writes) or `Store.read()`, so one unit of work can span several of them.
"""

from connector.store.database import Store
from connector.store.migrate import upgrade

__all__ = ["Store", "upgrade"]
