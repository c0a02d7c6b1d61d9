"""The store: SQLAlchemy Core tables and repository functions, the same on SQLite and PostgreSQL.

Repository modules take a `Connection` (SQLAlchemy's `AsyncConnection`) inside a transaction the
caller opened with `Store.transaction()` (writes) or `Store.read()`, so one unit of work can span
several of them. SQL lives here and nowhere else: the rest of the connector calls these
functions (a test holds it to that).
"""

from sqlalchemy.ext.asyncio import AsyncConnection as Connection

from connector.store.database import Store
from connector.store.migrate import upgrade

__all__ = ["Connection", "Store", "upgrade"]
