"""SQLite persistence: the connection (``connection``), migrations, writes, read queries, merging."""

from arena.store.connection import Store, utc_now

__all__ = ["Store", "utc_now"]
