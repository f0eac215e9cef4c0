"""Everything the bot keeps about one person, across the table modules: /hapusdata erases it,
`ukkbot export` shows it. Each table family that holds a person's id offers `erase_person`
and/or `export_person`; a new family (surveys, reminders…) plugs in by adding its two here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiosqlite

from bot.store import (
    announcements,
    audit,
    handovers,
    outbox,
    queue,
    reminders,
    survey,
    users,
    whatsapp,
)
from bot.store.db import Store

Erase = Callable[[aiosqlite.Connection, str, str], Awaitable[object]]
Export = Callable[[aiosqlite.Connection, str, str], Awaitable[dict[str, list[dict[str, object]]]]]

# Hand-overs before the outbox: they remove the messages they caused in the staff group too.
# The audit has no eraser: it is the office's account of staff powers, kept a year.
ERASERS: tuple[Erase, ...] = (
    users.erase_person,
    announcements.erase_person,
    queue.erase_person,
    handovers.erase_person,
    outbox.erase_person,
    whatsapp.erase_person,
    survey.forget_chat,
    reminders.forget_chat,
)
EXPORTERS: tuple[Export, ...] = (
    users.export_person,
    announcements.export_person,
    queue.export_person,
    handovers.export_person,
    outbox.export_person,
    whatsapp.export_person,
    survey.export_person,
    reminders.export_person,
    audit.export_person,
)


async def erase_person(store: Store, channel: str, key: str) -> None:
    """Erase what every table keeps about (channel, key), in one transaction."""
    async with store.transaction() as db:
        for erase in ERASERS:
            await erase(db, channel, key)


async def export_person(
    db: aiosqlite.Connection, channel: str, key: str
) -> dict[str, list[dict[str, object]]]:
    """Every row about (channel, key), by table."""
    found: dict[str, list[dict[str, object]]] = {}
    for export in EXPORTERS:
        found.update(await export(db, channel, key))
    return found
