"""Personal data is kept only as long as README's retention table says (the hourly sweep
enforces it for every table holding a person's id or number), a person can erase what the bot
keeps about them with /hapusdata, and staff can export one person's data."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import aiosqlite
import pytest

from bot.cli import main
from bot.store import Store, whatsapp
from bot.store.db import as_text
from bot.store.personal import erase_person, export_person
from bot.store.retention import forget_expired
from tests.conftest import CONTENT_DIR, Chat, FixedClock, option_ids

DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Kept:
    """A row of `table` with `columns` = `values` (naming :key and its moment :at) is
    forgotten `days` after that moment."""

    table: str
    days: float
    columns: str
    values: str

    async def insert(self, db: aiosqlite.Connection, key: str, at: str) -> None:
        statement = f"INSERT INTO {self.table} ({self.columns}) VALUES ({self.values})"
        await db.execute(statement, {"key": key, "at": at})


USER = "channel, user_key, first_seen, last_seen"
OUTBOX = "key, channel, chat_key, replies, created_at"
RETENTION = {
    "web users": Kept("users", 30, USER, "'web', :key, :at, :at"),
    "telegram and whatsapp users": Kept("users", 365, USER, "'telegram', :key, :at, :at"),
    "audit": Kept(
        "audit", 365, "at, channel, user_key, action, outcome",
        ":at, 'telegram', :key, '/panggil A', 'refused'",
    ),
    "sent outbox messages": Kept(
        "outbox", 30, f"{OUTBOX}, done_at, outcome",
        ":key, 'telegram', :key, '[]', :at, :at, 'sent'",
    ),
    "outbox messages never sent": Kept("outbox", 30, OUTBOX, ":key, 'telegram', :key, '[]', :at"),
    "whatsapp windows": Kept("whatsapp_windows", 7, "user_key, last_inbound", ":key, :at"),
    "whatsapp message ids": Kept("whatsapp_messages", 30, "wamid, received", ":key, :at"),
    "ended subscriptions": Kept(
        "subscriptions", 30, "channel, chat_key, language, active, changed_at",
        "'telegram', :key, 'id', 0, :at",
    ),
    "queue reminders": Kept(
        "queue_alerts", 7, "day, service, number, channel, chat_key, language, created_at",
        "'2026-01-01', 'A', 5, 'telegram', :key, 'id', :at",
    ),
    "hand-overs": Kept(
        "handovers", 90, "channel, chat_key, language, created_at", "'telegram', :key, 'id', :at"
    ),
    "survey invitations": Kept(
        "skm_invitations", 30, "channel, chat_key, offered_on", "'telegram', :key, date(:at)"
    ),
    "expiry reminder requests left unfinished": Kept(
        "expiry_reminder_drafts", 1 / 24, "channel, chat_key, document, started_at",
        "'telegram', :key, 'paspor', :at",
    ),
    "announcement drafts": Kept(
        "announcement_drafts", 7, "channel, user_key, step, updated_at",
        "'telegram', :key, 'text_id', :at",
    ),
    "survey suggestions (free text)": Kept("skm_comments", 365, "day, text", "date(:at), :key"),
    "ended announcements": Kept(
        "announcements", 365, "text_id, channel, user_key, chat_key, created_at, ended_at",
        "'x', 'telegram', :key, :key, :at, :at",
    ),
}  # fmt: skip
# Tables with a person's id kept while their purpose lasts: staff until an administrator
# removes them, expiry reminders until the document expires (tested below).
KEPT_WHILE_NEEDED = {"staff", "expiry_reminders"}
# Kept with a retention though no column names a person: free text that may.
FREE_TEXT = {"skm_comments"}


async def keys(store: Store, table: str) -> set[str]:
    column = {
        "audit": "user_key",
        "users": "user_key",
        "announcement_drafts": "user_key",
        "announcements": "user_key",
        "whatsapp_windows": "user_key",
        "whatsapp_messages": "wamid",
        "skm_comments": "text",
    }.get(table, "chat_key")
    rows = await store.db.execute_fetchall(f"SELECT {column} FROM {table}")
    return {row[0] for row in rows}


@pytest.mark.parametrize("case", RETENTION.values(), ids=RETENTION.keys())
async def test_each_kind_of_personal_data_ages_out_in_the_hourly_sweep(
    store: Store, clock: FixedClock, case: Kept
) -> None:
    now, margin = clock(), min(DAY, case.days * DAY / 2)
    async with store.transaction() as db:
        await case.insert(db, "old-person", as_text(now - case.days * DAY - margin))
        await case.insert(db, "recent-person", as_text(now - case.days * DAY + margin))
    await forget_expired(store)
    assert await keys(store, case.table) == {"recent-person"}


async def test_every_table_with_a_persons_id_has_a_retention(store: Store) -> None:
    tables = await store.db.execute_fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    personal = set()
    for (table,) in tables:
        columns = {row[1] for row in await store.db.execute_fetchall(f"PRAGMA table_info({table})")}
        if columns & {"user_key", "chat_key", "wamid"}:
            personal.add(table)
    retained = {case.table for case in RETENTION.values()} - FREE_TEXT
    assert personal == retained | KEPT_WHILE_NEEDED


async def test_active_subscriptions_and_staff_stay_however_old(
    store: Store, clock: FixedClock
) -> None:
    long_ago = as_text(clock() - 1000 * DAY)
    async with store.transaction() as db:
        await db.execute(
            "INSERT INTO subscriptions (channel, chat_key, language, active, changed_at) "
            "VALUES ('telegram', 'reader', 'id', 1, ?)",
            (long_ago,),
        )
        await db.execute(
            "INSERT INTO staff (channel, user_key, added_by, added_at) "
            "VALUES ('telegram', 'officer', '42', ?)",
            (long_ago,),
        )
    await forget_expired(store)
    assert await keys(store, "subscriptions") == {"reader"}
    assert {r[0] for r in await store.db.execute_fetchall("SELECT user_key FROM staff")} == {
        "officer"
    }


async def test_an_expiry_reminder_goes_once_its_document_has_expired(
    store: Store, clock: FixedClock
) -> None:
    today = clock().date()
    async with store.transaction() as db:
        for key, expires in (("expired", today - DAY), ("valid", today)):
            await db.execute(
                "INSERT INTO expiry_reminders (channel, chat_key, language, document, "
                "expires_on, created_at) VALUES ('telegram', ?, 'id', 'paspor', ?, ?)",
                (key, expires.isoformat(), as_text(clock())),
            )
    await forget_expired(store)
    assert await keys(store, "expiry_reminders") == {"valid"}


# --- /hapusdata --------------------------------------------------------------------------


async def what_is_kept_about(store: Store, key: str) -> dict[str, int]:
    counts = {}
    for table, column in (
        ("users", "user_key"),
        ("subscriptions", "chat_key"),
        ("queue_alerts", "chat_key"),
        ("handovers", "chat_key"),
        ("outbox", "chat_key"),
        ("expiry_reminders", "chat_key"),
        ("skm_invitations", "chat_key"),
    ):
        rows = await store.db.execute_fetchall(
            f"SELECT COUNT(*) FROM {table} WHERE {column} = ?", (key,)
        )
        counts[table] = next(iter(rows))[0]
    return counts


async def leave_traces(chat: Chat, store: Store, clock: FixedClock) -> None:
    await chat.say("/bahasa en")
    await chat.say("/langganan")
    await chat.say("/ingatkan A-005")
    async with store.transaction() as db:
        await db.execute(
            "INSERT INTO handovers (channel, chat_key, language, created_at) "
            "VALUES ('test', ?, 'en', ?)",
            (chat.user, as_text(clock())),
        )
        await db.execute(
            "INSERT INTO outbox (key, channel, chat_key, replies, created_at) "
            "VALUES (?, 'test', ?, '[]', ?)",
            (f"handover:{chat.user}", chat.user, as_text(clock())),
        )
        await db.execute(
            "INSERT INTO expiry_reminders (channel, chat_key, language, document, expires_on, "
            "created_at) VALUES ('test', ?, 'en', 'paspor', '2030-01-01', ?)",
            (chat.user, as_text(clock())),
        )
        await db.execute(
            "INSERT INTO skm_invitations (channel, chat_key, offered_on) VALUES ('test', ?, ?)",
            (chat.user, clock().date().isoformat()),
        )


async def test_hapusdata_asks_first_and_cancel_erases_nothing(
    resident: Chat, store: Store, clock: FixedClock
) -> None:
    await leave_traces(resident, store, clock)
    before = await what_is_kept_about(store, resident.user)
    replies = await resident.say("/hapusdata")
    assert option_ids(replies) == ["del:yes", "del:no"]
    assert "subscription" in replies[0].text  # English: the language they chose
    await resident.tap("del:no")
    assert await what_is_kept_about(store, resident.user) == before


async def test_deletemydata_confirmed_erases_what_is_kept_about_them_only(
    resident: Chat, assistant: object, store: Store, clock: FixedClock
) -> None:
    other = Chat(resident.assistant, "301")
    await leave_traces(resident, store, clock)
    await leave_traces(other, store, clock)
    others_before = await what_is_kept_about(store, other.user)

    await resident.say("/deletemydata")
    replies = await resident.tap("del:yes")
    assert "erased" in replies[0].text
    # Their last-seen time, written behind, must not bring their row back afterwards.
    await resident.assistant.services.bookkeeping.flush()
    kept = await what_is_kept_about(store, resident.user)
    assert kept == dict.fromkeys(kept, 0)
    assert await what_is_kept_about(store, other.user) == others_before
    # Their language went too: the next answer follows their message again.
    assert "Menu utama" in (await resident.say("/menu"))[0].text


# --- staff export ------------------------------------------------------------------------


async def two_whatsapp_people(database: Path, clock: FixedClock) -> None:
    store = await Store.open(database, clock=clock)
    async with store.transaction() as db:
        for key in ("6281234567890", "6289999999999"):
            await db.execute(
                "INSERT INTO users (channel, user_key, language, first_seen, last_seen) "
                "VALUES ('whatsapp', ?, 'en', ?, ?)",
                (key, as_text(clock()), as_text(clock())),
            )
            await db.execute(
                "INSERT INTO subscriptions (channel, chat_key, language, changed_at) "
                "VALUES ('whatsapp', ?, 'en', ?)",
                (key, as_text(clock())),
            )
    await store.close()


def test_staff_export_one_persons_data_as_json(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    clock: FixedClock,
) -> None:
    database = tmp_path / "bot.sqlite3"
    asyncio.run(two_whatsapp_people(database, clock))
    monkeypatch.setenv("DATABASE_PATH", str(database))
    monkeypatch.setenv("CONTENT_DIR", str(CONTENT_DIR))

    assert main(["export", "whatsapp", "6281234567890"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported["person"] == {"channel": "whatsapp", "key": "6281234567890"}
    assert [row["language"] for row in exported["data"]["users"]] == ["en"]
    assert [row["chat_key"] for row in exported["data"]["subscriptions"]] == ["6281234567890"]
    assert "6289999999999" not in json.dumps(exported)


async def test_the_export_names_each_table_and_a_whatsapp_window_belongs_to_whatsapp_only(
    resident: Chat, store: Store, clock: FixedClock
) -> None:
    await leave_traces(resident, store, clock)
    async with store.transaction() as db:
        await whatsapp.record_inbound(db, resident.user, clock())
    tables = await store.db.execute_fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    exported = await export_person(store.db, "whatsapp", resident.user)
    assert set(exported) <= {row["name"] for row in tables}  # each key spelled as its table
    assert [row["user_key"] for row in exported["whatsapp_windows"]] == [resident.user]
    assert (await export_person(store.db, "test", resident.user))["whatsapp_windows"] == []
    # Erasing the same key on another channel leaves the WhatsApp window alone.
    await erase_person(store, "test", resident.user)
    assert await whatsapp.last_inbound(store.db, resident.user) == clock()
    await erase_person(store, "whatsapp", resident.user)
    assert await whatsapp.last_inbound(store.db, resident.user) is None
