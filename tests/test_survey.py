"""The satisfaction survey (SKM): the index arithmetic of PermenPANRB 14/2017 on a worked
example, the chat flow, anonymity, the 30-day rule, invitations after service, and the report."""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from bot.assistant import Assistant
from bot.content import Content
from bot.context import Services
from bot.queue.state import CallNext, Ticket
from bot.queue_desk import Actor
from bot.skm import grade_of, index_of, report_rows, write_csv
from bot.store import Store
from bot.store import survey as repo
from bot.store.outbox import BULK
from bot.store.retention import forget_expired
from tests.conftest import CONTENT_DIR, ROOT, Chat, FixedClock, all_text, option_ids

# A worked example, computed by hand the regulation's way: four respondents, nine elements.
WORKED = [
    (4, 4, 3, 4, 3, 4, 4, 3, 3),
    (3, 3, 3, 4, 3, 3, 4, 2, 3),
    (4, 3, 2, 4, 4, 3, 3, 3, 4),
    (3, 4, 3, 4, 3, 4, 4, 3, 2),
]
# NRR per element: the column sums (14, 14, 11, 16, 13, 14, 15, 11, 12) divided by 4.
WORKED_NRR = (3.5, 3.5, 2.75, 4.0, 3.25, 3.5, 3.75, 2.75, 3.0)
# Σ NRR = 30.0; × 1/9 = 3.3333; × 25 = 83.33 → B (76.61-88.30). With the rounded weight
# 0.111 it would be 30.0 × 0.111 × 25 = 83.25: the exact 1/9 is what the regulation defines.
WORKED_IKM = Decimal("83.33")


def test_the_index_of_the_worked_example_is_83_33_grade_b() -> None:
    index = index_of(WORKED)
    assert index is not None
    assert index.respondents == 4
    assert index.averages == WORKED_NRR
    assert index.value == WORKED_IKM
    assert index.grade == "B"


def test_the_scale_ends_map_to_25_and_100() -> None:
    best, worst = index_of([(4,) * 9]), index_of([(1,) * 9])
    assert best is not None and (best.value, best.grade) == (Decimal("100.00"), "A")
    assert worst is not None and (worst.value, worst.grade) == (Decimal("25.00"), "D")
    assert index_of([]) is None


@pytest.mark.parametrize(
    ("value", "grade"),
    [
        ("100.00", "A"),
        ("88.31", "A"),
        ("88.30", "B"),
        ("76.61", "B"),
        ("76.60", "C"),
        ("65.00", "C"),
        ("64.99", "D"),
        ("25.00", "D"),
    ],
)
def test_grades_follow_the_regulation_intervals(value: str, grade: str) -> None:
    assert grade_of(Decimal(value)) == grade


def test_the_report_groups_by_month_and_service_and_writes_csv() -> None:
    answers = [repo.Response("2026-11-03", "paspor", a) for a in WORKED]
    answers.append(repo.Response("2026-11-20", "informasi", (4,) * 9))
    answers.append(repo.Response("2026-12-01", "paspor", (1,) * 9))
    rows = report_rows(answers)
    assert [(r.month, r.service, r.index.respondents, r.index.value) for r in rows] == [
        ("2026-11", "informasi", 1, Decimal("100.00")),
        ("2026-11", "paspor", 4, WORKED_IKM),
        ("2026-11", "all", 5, index_of([*WORKED, (4,) * 9]).value),  # type: ignore[union-attr]
        ("2026-12", "paspor", 1, Decimal("25.00")),
        ("2026-12", "all", 1, Decimal("25.00")),
    ]
    out = io.StringIO()
    write_csv(rows, out)
    table = list(csv.reader(io.StringIO(out.getvalue())))
    assert table[0][:3] == ["month", "service", "respondents"] and table[0][-2:] == ["ikm", "grade"]
    assert table[2] == ["2026-11", "paspor", "4", *(f"{n:.3f}" for n in WORKED_NRR), "83.33", "B"]


async def finish_survey(chat: Chat, answers: tuple[int, ...], service: int = 0) -> list[str]:
    """Take the survey by tapping what the bot offers; returns every action tapped."""
    tapped = ["sv"]
    replies = await chat.say("/survei")
    choice = f"sv:{service}"
    assert choice in option_ids(replies)
    for answer in answers:
        tapped.append(choice)
        replies = await chat.tap(choice)
        choice = next(i for i in option_ids(replies) if i.endswith(str(answer)))
        assert len(option_ids(replies)) == 4  # the element's four-point scale, nothing else
    tapped.append(choice)
    replies = await chat.tap(choice)  # the first profile question: skip the rest and send
    skip_rest = option_ids(replies)[-1]
    tapped.append(skip_rest)
    await chat.tap(skip_rest)
    return tapped


async def test_a_resident_finishes_in_twelve_taps_and_the_answers_are_stored(
    resident: Chat, store: Store, content: Content
) -> None:
    tapped = await finish_survey(resident, WORKED[0])
    # /survei, the service, nine elements, "skip the rest": one tap per element.
    assert len(tapped) == 12
    assert all(len(action.encode()) <= 64 for action in tapped)
    rows = await repo.responses(store.db, dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert rows == [repo.Response("2026-11-30", "paspor", WORKED[0], (None,) * 4)]


async def test_profile_answers_are_kept_and_each_can_be_skipped(
    resident: Chat, store: Store
) -> None:
    await resident.say("/survei")
    # gender P, age skipped, education 5, occupation 4
    replies = await resident.tap("sv:1444444444P-5")
    assert "sv:1444444444P-54" in option_ids(replies)
    thanks = await resident.tap("sv:1444444444P-54")
    assert option_ids(thanks) == ["svd"]
    [row] = await repo.responses(store.db, dt.date(2026, 11, 30), dt.date(2026, 11, 30))
    assert row == repo.Response("2026-11-30", "izin-tinggal", (4,) * 9, ("P", None, "5", "4"))


@pytest.mark.parametrize("action", ["sv:9", "sv:05", "sv:0111111111Z", "sv:0111111111LLLLL"])
async def test_crafted_survey_actions_are_refused(
    resident: Chat, store: Store, content: Content, action: str
) -> None:
    assert all_text(await resident.tap(action)) == content.t("unknown_action", "id")
    assert await repo.responses(store.db, dt.date(2026, 1, 1), dt.date(2027, 1, 1)) == []


async def test_the_answers_table_has_no_column_that_names_a_person(
    resident: Chat, store: Store
) -> None:
    await finish_survey(resident, WORKED[1])
    columns = {
        row["name"] for row in await store.db.execute_fetchall("PRAGMA table_info(skm_responses)")
    }
    assert columns.isdisjoint({"channel", "user_key", "chat_key", "created_at"})
    comment_columns = {
        row["name"] for row in await store.db.execute_fetchall("PRAGMA table_info(skm_comments)")
    }
    assert comment_columns == {"id", "day", "text"}
    # The per-person table holds no answer, only the invitation.
    invitation_columns = {
        row["name"] for row in await store.db.execute_fetchall("PRAGMA table_info(skm_invitations)")
    }
    assert invitation_columns == {"channel", "chat_key", "offered_on", "used", "comment_until"}
    for row in await store.db.execute_fetchall("SELECT * FROM skm_responses"):
        assert resident.user not in [str(value) for value in tuple(row)]


async def test_a_second_tap_on_the_last_button_stores_nothing_more(
    resident: Chat, store: Store, content: Content
) -> None:
    tapped = await finish_survey(resident, WORKED[2])
    again = await resident.tap(tapped[-1])
    assert all_text(again) == content.t("skm.not_open", "id")
    assert len(await repo.responses(store.db, dt.date(2026, 11, 1), dt.date(2026, 11, 30))) == 1


async def test_a_suggestion_is_kept_without_a_name_and_only_once(
    resident: Chat, store: Store, content: Content
) -> None:
    await finish_survey(resident, WORKED[3])
    thanks = await resident.say("Ruang tunggu panas, mohon tambah kipas")
    assert all_text(thanks) == content.t("skm.comment_thanks", "id")
    rows = await store.db.execute_fetchall("SELECT day, text FROM skm_comments")
    assert [tuple(r) for r in rows] == [("2026-11-30", "Ruang tunggu panas, mohon tambah kipas")]
    await resident.say("syarat paspor baru")  # a question again, not a suggestion
    assert len(await store.db.execute_fetchall("SELECT * FROM skm_comments")) == 1


async def test_once_answered_the_survey_waits_thirty_days(
    resident: Chat, clock: FixedClock, content: Content
) -> None:
    await finish_survey(resident, WORKED[0])
    refused = await resident.say("/survei")
    assert all_text(refused) == content.t("skm.already", "id", date="30-12-2026")
    clock.now += dt.timedelta(days=29)
    assert all_text(await resident.say("/survei")) == content.t(
        "skm.already", "id", date="30-12-2026"
    )
    clock.now += dt.timedelta(days=1)
    assert "sv:0" in option_ids(await resident.say("/survei"))


async def outbox_keys(store: Store) -> list[str]:
    return [row["key"] for row in await store.db.execute_fetchall("SELECT key FROM outbox")]


async def test_a_served_ticket_brings_one_invitation_per_thirty_days(
    content: Content, store: Store, understanding: object, clock: FixedClock
) -> None:
    services = Services(
        content=content,
        store=store,
        understanding=understanding,  # type: ignore[arg-type]
        push_channels=frozenset({"test"}),
    )
    desk = services.queue_desk()
    staff = Actor("test", "100")
    await desk.remind(Ticket("B", 2), "test", "7", "en")
    for _ in range(2):
        await desk.change("B", CallNext(), staff, "/panggil B")
    assert not any(k.startswith("skm-offer") for k in await outbox_keys(store))  # B-002 called
    await desk.change("B", CallNext(), staff, "/panggil B")  # B-003: B-002 was served
    offers = [k for k in await outbox_keys(store) if k.startswith("skm-offer")]
    assert offers == ["skm-offer:test:7:2026-11-30"]
    [row] = await store.db.execute_fetchall(
        "SELECT replies, priority FROM outbox WHERE key = ?", (offers[0],)
    )
    assert row["priority"] == BULK  # nobody waits for it: reminders and answers go first
    assert "sv:1" in row["replies"]  # counter B rates the stay-permit service, in English
    assert content.t("skm.btn_start", "en") in row["replies"]

    clock.now += dt.timedelta(days=10)  # another visit ten days later: no second invitation
    await desk.remind(Ticket("B", 1), "test", "7", "en")
    for _ in range(2):
        await desk.change("B", CallNext(), staff, "/panggil B")
    assert len([k for k in await outbox_keys(store) if k.startswith("skm-offer")]) == 1


async def test_staff_see_the_month_index_with_a_chart(
    assistant: Assistant, store: Store, content: Content
) -> None:
    for number, answers in enumerate(WORKED):
        await finish_survey(Chat(assistant, f"r{number}"), answers)
    officer = Chat(assistant, "100", role="admin")
    [reply] = await officer.say("/statistik 2026-11")
    name = content.survey.services[0].name.get("id")
    line = content.t("skm.stats_line", "id", service=name, count=4, value="83,33", grade="B")
    assert line in reply.text
    assert "- U3 Waktu penyelesaian: 2,75" in reply.text
    assert reply.image is not None and reply.image.startswith(b"\x89PNG")
    assert all_text(await officer.say("/statistik November")) == content.t("skm.bad_month", "id")


def run_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
        "CONTENT_DIR": str(CONTENT_DIR),
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )


@pytest.mark.subprocess
async def test_the_cli_report_prints_the_index_and_writes_the_csv(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "bot.sqlite3")
    async with store.transaction() as db:
        await db.executemany(
            "INSERT INTO skm_responses (day, service, u1, u2, u3, u4, u5, u6, u7, u8, u9) "
            "VALUES ('2026-11-03', 'paspor', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            WORKED,
        )
    await store.close()
    done = run_cli(
        tmp_path, "skm", "report", "--from", "2026-11-01", "--to", "2026-11-30",
        "--csv", str(tmp_path / "skm.csv"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "paspor" in done.stdout and " 83.33  B" in done.stdout
    table = list(csv.reader((tmp_path / "skm.csv").open(encoding="utf-8")))
    assert [row[-2:] for row in table[1:]] == [["83.33", "B"], ["83.33", "B"]]


@pytest.mark.subprocess
def test_the_cli_report_names_a_bad_date_and_exits_2(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "skm", "report", "--from", "1-11-2026", "--to", "2026-11-30")
    assert done.returncode == 2
    assert "--from" in done.stderr and "YYYY-MM-DD" in done.stderr
    assert "Traceback" not in done.stderr
    backwards = run_cli(tmp_path, "skm", "report", "--from", "2026-12-01", "--to", "2026-11-30")
    assert backwards.returncode == 2 and "--to" in backwards.stderr


async def test_done_closes_the_suggestion_window(
    resident: Chat, store: Store, content: Content
) -> None:
    await finish_survey(resident, WORKED[0])
    assert all_text(await resident.tap("svd")) == content.t("skm.closed", "id")
    await resident.say("Ruang tunggu panas")
    assert await store.db.execute_fetchall("SELECT * FROM skm_comments") == []


async def test_invitations_are_forgotten_after_thirty_days(
    resident: Chat, store: Store, clock: FixedClock
) -> None:
    await finish_survey(resident, WORKED[0])
    clock.now += dt.timedelta(days=29)
    await forget_expired(store)
    assert len(await store.db.execute_fetchall("SELECT * FROM skm_invitations")) == 1
    clock.now += dt.timedelta(days=1)
    await forget_expired(store)
    assert await store.db.execute_fetchall("SELECT * FROM skm_invitations") == []
    assert len(await store.db.execute_fetchall("SELECT * FROM skm_responses")) == 1
