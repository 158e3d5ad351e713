"""Storage: one schema on SQLite and PostgreSQL, reached through :class:`Database`."""

from chinwag.storage.db import Database, Tx, open_database

__all__ = ["Database", "Tx", "open_database"]
