"""SQLite store behind one narrow interface; migrations in migrations/NNN_*.sql run at open."""

from bot.store.db import Store, utcnow

__all__ = ["Store", "utcnow"]
