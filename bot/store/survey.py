"""Survey tables: anonymous responses and suggestions, and per person only the invitation the
30-day rule needs. No function here writes a person's key next to an answer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import aiosqlite

from bot.store.db import as_text, select_rows

REPEAT_AFTER = dt.timedelta(days=30)  # at most one invitation (and one response) per person
# Suggestions, for the survey's yearly report.
COMMENTS_KEPT = dt.timedelta(days=365)
COMMENT_WINDOW = dt.timedelta(minutes=15)  # short: a question typed later is a question
MAX_COMMENT_CHARS = 1000
PROFILE_COLUMNS = ("gender", "age", "education", "occupation")
_ELEMENT_COLUMNS = ", ".join(f"u{i}" for i in range(1, 10))


@dataclass(frozen=True)
class Response:
    day: str  # local day, YYYY-MM-DD
    service: str
    answers: tuple[int, ...]  # U1-U9
    profile: tuple[str | None, ...] = ()


async def invite(db: aiosqlite.Connection, channel: str, chat_key: str, today: dt.date) -> bool:
    """Invite unless invited within the last 30 days; True when a new invitation was made."""
    cursor = await db.execute(
        "INSERT INTO skm_invitations (channel, chat_key, offered_on) VALUES (?, ?, ?) "
        "ON CONFLICT (channel, chat_key) DO UPDATE SET offered_on = excluded.offered_on, "
        "used = 0, comment_until = NULL WHERE skm_invitations.offered_on <= ?",
        (channel, chat_key, today.isoformat(), (today - REPEAT_AFTER).isoformat()),
    )
    return cursor.rowcount == 1


async def begin(
    db: aiosqlite.Connection, channel: str, chat_key: str, today: dt.date
) -> dt.date | None:
    """The person starts the survey: keep an open invitation or make one. When they already
    answered within 30 days, nothing changes and the day they may answer again is returned."""
    if await invite(db, channel, chat_key, today):
        return None
    rows = await db.execute_fetchall(
        "SELECT offered_on, used FROM skm_invitations WHERE channel = ? AND chat_key = ?",
        (channel, chat_key),
    )
    row = next(iter(rows))
    if not row["used"]:
        return None
    return dt.date.fromisoformat(row["offered_on"]) + REPEAT_AFTER


async def submit(
    db: aiosqlite.Connection,
    channel: str,
    chat_key: str,
    now: dt.datetime,
    response: Response,
) -> bool:
    """Use the person's open invitation and store the response apart from it; False (nothing
    stored) when there is no open invitation, such as a second tap on the last button."""
    today = dt.date.fromisoformat(response.day)
    cursor = await db.execute(
        "UPDATE skm_invitations SET used = 1, comment_until = ? WHERE channel = ? "
        "AND chat_key = ? AND used = 0 AND offered_on > ?",
        (
            as_text(now + COMMENT_WINDOW),
            channel,
            chat_key,
            (today - REPEAT_AFTER).isoformat(),
        ),
    )
    if cursor.rowcount != 1:
        return False
    profile = list(response.profile) + [None] * (len(PROFILE_COLUMNS) - len(response.profile))
    await db.execute(
        f"INSERT INTO skm_responses (day, service, {_ELEMENT_COLUMNS}, "
        f"{', '.join(PROFILE_COLUMNS)}) VALUES ({', '.join('?' * 15)})",
        (response.day, response.service, *response.answers, *profile),
    )
    return True


async def awaiting_comment(
    db: aiosqlite.Connection, channel: str, chat_key: str, now: dt.datetime
) -> bool:
    rows = await db.execute_fetchall(
        "SELECT 1 FROM skm_invitations WHERE channel = ? AND chat_key = ? AND comment_until > ?",
        (channel, chat_key, as_text(now)),
    )
    return bool(rows)


async def end_comment(db: aiosqlite.Connection, channel: str, chat_key: str) -> None:
    await db.execute(
        "UPDATE skm_invitations SET comment_until = NULL WHERE channel = ? AND chat_key = ?",
        (channel, chat_key),
    )


async def add_comment(db: aiosqlite.Connection, day: dt.date, text: str) -> None:
    """A suggestion, kept with its day only."""
    await db.execute(
        "INSERT INTO skm_comments (day, text) VALUES (?, ?)",
        (day.isoformat(), text[:MAX_COMMENT_CHARS]),
    )


async def responses(db: aiosqlite.Connection, first: dt.date, last: dt.date) -> list[Response]:
    """Every response from `first` to `last` (local days, both included)."""
    rows = await db.execute_fetchall(
        f"SELECT day, service, {_ELEMENT_COLUMNS}, {', '.join(PROFILE_COLUMNS)} "
        "FROM skm_responses WHERE day BETWEEN ? AND ? ORDER BY day, id",
        (first.isoformat(), last.isoformat()),
    )
    return [
        Response(
            row["day"],
            row["service"],
            tuple(row[f"u{i}"] for i in range(1, 10)),
            tuple(row[column] for column in PROFILE_COLUMNS),
        )
        for row in rows
    ]


async def comments(db: aiosqlite.Connection, first: dt.date, last: dt.date) -> list[str]:
    rows = await db.execute_fetchall(
        "SELECT text FROM skm_comments WHERE day BETWEEN ? AND ? ORDER BY day, id",
        (first.isoformat(), last.isoformat()),
    )
    return [row["text"] for row in rows]


async def forget_old_invitations(db: aiosqlite.Connection, today: dt.date) -> None:
    """Invitations older than 30 days no longer decide anything."""
    await db.execute(
        "DELETE FROM skm_invitations WHERE offered_on <= ?",
        ((today - REPEAT_AFTER).isoformat(),),
    )


async def forget_old_comments(db: aiosqlite.Connection, today: dt.date) -> None:
    """Suggestions are free text, which may name someone: kept for the yearly SKM report
    (README "Personal data"), then deleted."""
    await db.execute(
        "DELETE FROM skm_comments WHERE day < ?", ((today - COMMENTS_KEPT).isoformat(),)
    )


async def forget_chat(db: aiosqlite.Connection, channel: str, chat_key: str) -> None:
    """Erase what the survey keeps about a person (their invitation; answers name no one)."""
    await db.execute(
        "DELETE FROM skm_invitations WHERE channel = ? AND chat_key = ?", (channel, chat_key)
    )


async def export_person(
    db: aiosqlite.Connection, channel: str, key: str
) -> dict[str, list[dict[str, object]]]:
    sql = "SELECT * FROM skm_invitations WHERE channel = ? AND chat_key = ?"
    return {"skm_invitations": await select_rows(db, sql, (channel, key))}
