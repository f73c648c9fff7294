"""SQLite persistence through sqlite-utils: migrations, writes and read queries."""

from arena.store.database import Store, utc_now

__all__ = ["Store", "utc_now"]
