"""Reading WhatsApp webhook bodies (recorded payloads, tests/data/whatsapp/) into messages and
the people whose 24-hour window closed."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

from bot.channels.whatsapp.parse import InboundMessage, Notification, parse_webhook
from tests.fake_whatsapp import payload

PERSON = "6281234567890"
SENT_AT = dt.datetime.fromtimestamp(1796003940, dt.UTC)


def recorded(name: str) -> Any:
    return json.loads(payload(name))


def test_a_text_carries_its_id_sender_time_text_and_the_profile_name() -> None:
    body = recorded("text")
    wamid = body["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    message = InboundMessage(
        wamid, PERSON, SENT_AT, text="gmn cara bikin paspor baru", name="Warga"
    )
    assert parse_webhook(body) == Notification([message], [])


def test_a_button_and_a_template_button_give_their_ids() -> None:
    [button] = parse_webhook(recorded("button_reply")).messages
    [template] = parse_webhook(recorded("template_button")).messages
    assert (button.action, button.text) == ("c:wna", None)
    assert (template.action, template.text) == ("m", None)


def test_only_a_failed_status_with_131047_closes_the_window() -> None:
    assert parse_webhook(recorded("status_failed")) == Notification([], [PERSON])
    delivered = recorded("status_failed")
    delivered["entry"][0]["changes"][0]["value"]["statuses"][0]["status"] = "delivered"
    assert parse_webhook(delivered) == Notification([], [])


def test_other_fields_are_skipped_and_the_rest_of_the_entry_still_read() -> None:
    body = recorded("text")
    changes = body["entry"][0]["changes"]
    other = copy.deepcopy(changes[0]) | {"field": "account_update"}
    body["entry"][0]["changes"] = [other, *changes]
    assert len(parse_webhook(body).messages) == 1


def test_a_body_that_is_not_an_object_or_has_no_changes_gives_nothing() -> None:
    for body in ([], "x", {"entry": [{}]}, {"entry": [{"changes": [{"field": "messages"}]}]}):
        assert parse_webhook(body) == Notification([], [])


def test_odd_fields_become_none_rather_than_an_error() -> None:
    body = recorded("text")
    value = body["entry"][0]["changes"][0]["value"]
    value["contacts"] = [{"wa_id": PERSON}]  # no profile
    value["messages"][0]["text"] = {"body": 42}
    empty_pick = recorded("button_reply")
    raw = empty_pick["entry"][0]["changes"][0]["value"]["messages"][0]
    raw["interactive"]["button_reply"]["id"] = ""
    [message] = parse_webhook(body).messages
    [pick] = parse_webhook(empty_pick).messages
    assert (message.text, message.name, pick.action) == (None, None, None)
