"""What to say when the database cannot be used: which one, and its driver's own words, on one
line, never with a password or an SQL statement."""

from __future__ import annotations

import re

import sqlalchemy.exc
from sqlalchemy.engine.url import make_url

#: Errors that come from the database or its driver (for the CLI's error boundary).
DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    sqlalchemy.exc.DBAPIError,
    sqlalchemy.exc.InterfaceError,
)


def database_label(url: str) -> str:
    """Which database, for messages: driver, user, host, port and name; never a password."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite {parsed.database}"
    user = f"{parsed.username}@" if parsed.username else ""
    port = f":{parsed.port}" if parsed.port else ""
    return f"PostgreSQL {user}{parsed.host or 'localhost'}{port}/{parsed.database or ''}"


def sqlite_file(url: str) -> str | None:
    """The file a SQLite URL names (None for another database)."""
    parsed = make_url(url)
    return parsed.database if parsed.get_backend_name() == "sqlite" else None


def driver_message(error: BaseException, url: str | None = None) -> str:
    """The database driver's own words, on one line, without a password or an SQL statement."""
    original = getattr(error, "orig", None) or error
    text = str(original).split("\n[SQL:")[0]
    text = re.sub(r"\s+", " ", text).strip().removeprefix("connection failed: ")
    password = make_url(url).password if url else None
    if password:
        text = text.replace(str(password), "***")
    return text[:300] or type(original).__name__
