"""Logs: one line per event (text or LOG_FORMAT=json), and no secret or phone number in them,
also when a WhatsApp conversation fails halfway and a traceback is logged."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.logs import MASK, Redactor, configure_logging
from tests.conftest import CONTENT_DIR, FixedClock
from tests.fake_whatsapp import FakeGraphApi, graph_error, payload
from tests.test_whatsapp import SECRET, VERIFY, make_harness, whatsapp_settings

NUMBER = "6281234567890"  # the sender of tests/data/whatsapp/text.json


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def failing_record(message: str, *args: object) -> logging.LogRecord:
    try:
        raise RuntimeError(f"Graph refused the message to +{NUMBER}")
    except RuntimeError as exc:
        return logging.LogRecord(
            "bot.test",
            logging.ERROR,
            __file__,
            1,
            message,
            args,
            (type(exc), exc, exc.__traceback__),
        )


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_an_event_with_a_traceback_is_one_masked_line(
    tmp_path: Path, restore_logging: None, log_format: str
) -> None:
    settings = whatsapp_settings(tmp_path / "l.sqlite3", LOG_FORMAT=log_format)
    stream = io.StringIO()
    handler = configure_logging(settings, stream)
    handler.handle(
        failing_record("send to %s with token %s failed", "0812-3456-7890", "graph-token")
    )
    [line] = stream.getvalue().splitlines()
    for leak in (NUMBER, "0812-3456-7890", "graph-token"):
        assert leak not in line
    assert "RuntimeError: Graph refused the message to ***" in line
    if log_format == "json":
        event = json.loads(line)
        assert event["level"] == "ERROR" and event["logger"] == "bot.test"
        assert event["message"] == "send to *** with token *** failed"
        assert "Traceback" in event["exception"]


def test_ids_that_are_not_numbers_of_people_are_left_alone() -> None:
    redact = Redactor(["s3cret"])
    text = "wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABIYFjNFQjBDMEY1QkY2RTQ2QjQxRjAyAA== v23.0 12:30 A-025"
    assert redact(text) == text
    assert redact("token=s3cret tel +62 812 3456 7890") == f"token={MASK} tel {MASK}"


async def test_a_failing_whatsapp_conversation_logs_no_number_or_secret(
    tmp_path: Path, clock: FixedClock, restore_logging: None
) -> None:
    graph = FakeGraphApi(fail_next=[graph_error(131026), graph_error(2, status=503)])
    harness = await make_harness(tmp_path / "wa.sqlite3", clock, graph)
    stream = io.StringIO()
    configure_logging(harness.app.settings, stream)
    logging.getLogger().setLevel(logging.DEBUG)
    try:
        await harness.post(payload("text"))  # refused for good: logged with its traceback
        await harness.post(payload("list_reply"))  # a 5xx: queued for resending, logged
        await harness.post(payload("status"))
        await harness.post(payload("text"))  # a redelivery, logged at debug
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/%s" %d',
            "127.0.0.1:5000",
            "GET",
            f"/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token={VERIFY}&hub.challenge=1",
            "1.1",
            200,
        )
    finally:
        await harness.close()
    logged = stream.getvalue()
    assert "whatsapp: message" in logged and "queued for resending" in logged
    for leak in (NUMBER, NUMBER[2:], SECRET, VERIFY, "graph-token"):
        assert leak not in logged
    assert len(logged.splitlines()) == logged.count("\n")  # one line per event


def test_an_unknown_log_format_is_named_at_start() -> None:
    from bot.config import SettingsError

    with pytest.raises(SettingsError, match="LOG_FORMAT"):
        load_settings(CONTENT_DIR=CONTENT_DIR, LOG_FORMAT="xml")


def test_a_text_line_keeps_its_date_and_hour_which_look_like_a_phone_number(
    tmp_path: Path, restore_logging: None
) -> None:
    stream = io.StringIO()
    handler = configure_logging(whatsapp_settings(tmp_path / "t.sqlite3"), stream)
    record = logging.LogRecord("bot.test", logging.INFO, __file__, 1, "ready", (), None)
    record.created = 1_796_111_709.0  # 2026-12-01 07:55:09 UTC
    handler.handle(record)
    line = stream.getvalue()
    assert line.startswith(handler.formatter.formatTime(record))  # type: ignore[union-attr]
    assert MASK not in line and line.rstrip().endswith("INFO bot.test: ready")
