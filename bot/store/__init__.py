"""SQLite store behind one narrow interface; migrations in migrations/NNN_*.sql run at open."""

from bot.clock import utcnow
from bot.store.db import Store, StoreError

__all__ = ["Store", "StoreError", "utcnow"]
