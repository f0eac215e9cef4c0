"""Rendering a Reply into WhatsApp messages: every message within every limit, whatever the core
produces."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.channels.whatsapp import Labels, alert_template, render
from bot.content import Content, load_content
from bot.core import MAX_ACTION_BYTES, Location, Option, Reply
from bot.limits import (
    WHATSAPP_BUTTON_TITLE,
    WHATSAPP_INTERACTIVE_BODY,
    WHATSAPP_LIST_ROW_TITLE,
    WHATSAPP_LIST_ROWS,
    WHATSAPP_TEXT,
)
from tests.conftest import CONTENT_DIR
from tests.fake_whatsapp import action_ids, check_limits

CONTENT: Content = load_content(CONTENT_DIR)
LABELS = {lang: Labels.of(CONTENT, lang) for lang in ("id", "en")}
ID = LABELS["id"]

action_id = st.text(min_size=1, max_size=MAX_ACTION_BYTES).filter(
    lambda s: len(s.encode()) <= MAX_ACTION_BYTES
)
option = st.builds(Option, action_id, st.text(max_size=120))
location = st.builds(
    Location,
    st.text(max_size=80),
    st.text(max_size=200),
    st.floats(-90, 90),
    st.floats(-180, 180),
)
reply = st.builds(
    Reply,
    st.text(max_size=10_000),
    st.lists(option, max_size=25).map(tuple),
    st.none() | location,
)


def options(n: int, label: str = "Pilihan {n}") -> tuple[Option, ...]:
    return tuple(Option(f"t:{n}", label.format(n=n)) for n in range(1, n + 1))


def paragraphs(count: int, size: int) -> str:
    return "\n\n".join(f"{i:03} " + "x" * (size - 4) for i in range(count))


@settings(max_examples=300, deadline=None)
@given(reply, st.sampled_from(sorted(LABELS)))
def test_any_reply_renders_within_every_limit(r: Reply, lang: str) -> None:
    messages = render(r, LABELS[lang])
    for message in messages:
        check_limits(message)
    offered = [i for m in messages for i in action_ids(m)]
    assert offered == list(dict.fromkeys(o.id for o in r.options))
    assert sum(m["type"] == "location" for m in messages) == (r.location is not None)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.builds(Reply, st.text(max_size=3000)), min_size=1, max_size=4))
def test_any_alert_renders_into_a_template_within_limits(replies: list[Reply]) -> None:
    message = alert_template("queue_alert", "en", replies)
    if message is not None:
        check_limits(message)


def test_the_alert_template_carries_every_reply_on_one_line_as_its_body_parameter() -> None:
    replies = [Reply("Nomor A-025\nhampir tiba"), Reply("Segera ke loket")]
    assert alert_template("queue_alert", "en", replies) == {
        "type": "template",
        "template": {
            "name": "queue_alert",
            "language": {"code": "en"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Nomor A-025 hampir tiba Segera ke loket"}
                    ],
                }
            ],
        },
    }
    assert alert_template("queue_alert", "id", [Reply("")]) is None


def test_up_to_three_options_are_reply_buttons() -> None:
    [message] = render(Reply("Pilih satu", options(3)), ID)
    assert message["interactive"]["type"] == "button"
    assert message["interactive"]["body"]["text"] == "Pilih satu"
    assert action_ids(message) == ["t:1", "t:2", "t:3"]


def test_long_button_label_is_cut_with_an_ellipsis() -> None:
    label = "Perpanjangan paspor untuk pekerja migran"
    [message] = render(Reply("x", (Option("t:a", label),)), ID)
    title = message["interactive"]["action"]["buttons"][0]["reply"]["title"]
    assert len(title) == WHATSAPP_BUTTON_TITLE or title.endswith("…")
    assert title.endswith("…") and label.startswith(title[:-1])


def test_four_to_ten_options_are_one_list_with_full_labels_as_descriptions() -> None:
    long = "Izin tinggal terbatas untuk penyatuan keluarga"
    [message] = render(Reply("Topik:", (*options(9), Option("t:long", long))), ID)
    interactive = message["interactive"]
    assert interactive["type"] == "list" and interactive["action"]["button"] == "Pilih"
    rows = interactive["action"]["sections"][0]["rows"]
    assert len(rows) == 10
    assert rows[0] == {"id": "t:1", "title": "Pilihan 1"}  # fits: no description
    assert len(rows[-1]["title"]) <= WHATSAPP_LIST_ROW_TITLE and rows[-1]["title"].endswith("…")
    assert rows[-1]["description"] == long


def test_more_than_ten_options_go_in_several_lists() -> None:
    messages = render(Reply("Topik:", options(23)), ID)
    assert [len(action_ids(m)) for m in messages] == [10, 10, 3]
    assert all(m["interactive"]["type"] == "list" for m in messages)
    bodies = [m["interactive"]["body"]["text"] for m in messages]
    assert bodies == ["Topik:", "Pilihan lainnya:", "Pilihan lainnya:"]
    assert len(messages) == -(-23 // WHATSAPP_LIST_ROWS)


def test_long_text_is_split_at_paragraphs_and_options_ride_on_the_last_piece() -> None:
    text = paragraphs(9, 500)  # 8 paragraphs fill the first message, the ninth is left
    messages = render(Reply(text, options(2)), ID)
    *texts, last = messages
    assert [m["type"] for m in texts] == ["text"]
    assert all(len(m["text"]["body"]) <= WHATSAPP_TEXT for m in texts)
    body = last["interactive"]["body"]["text"]
    assert body.startswith("008 ") and len(body) <= WHATSAPP_INTERACTIVE_BODY
    joined = "\n\n".join([*(m["text"]["body"] for m in texts), body])
    assert joined == text


def test_long_last_piece_sends_text_then_options_under_a_short_prompt() -> None:
    text = paragraphs(3, 1500)
    messages = render(Reply(text, options(2)), LABELS["en"])
    assert [m["type"] for m in messages] == ["text", "text", "interactive"]
    assert messages[-1]["interactive"]["body"]["text"] == "Please choose:"


def test_markup_becomes_whatsapp_formatting() -> None:
    [message] = render(Reply("**Biaya** lihat [situs](https://imigrasi.go.id)\n- satu"), ID)
    assert message["text"] == {
        "body": "*Biaya* lihat situs: https://imigrasi.go.id\n• satu",
        "preview_url": False,
    }


def test_location_becomes_a_location_message_before_the_caption() -> None:
    place = Location("MPP Kota Probolinggo", "Jl. Suroyo", -7.75, 113.21)
    first, second = render(Reply("Lokasi kami", location=place), ID)
    assert first == {
        "type": "location",
        "location": {
            "latitude": -7.75,
            "longitude": 113.21,
            "name": "MPP Kota Probolinggo",
            "address": "Jl. Suroyo",
        },
    }
    assert second["type"] == "text"


def test_labels_that_collide_after_cutting_stay_distinct() -> None:
    same = "Persyaratan paspor baru untuk"
    [message] = render(
        Reply("x", (Option("t:a", same + " anak"), Option("t:b", same + " dewasa"))), ID
    )
    titles = [b["reply"]["title"] for b in message["interactive"]["action"]["buttons"]]
    assert len(set(titles)) == 2


def test_empty_labels_that_collide_get_numbered_titles() -> None:
    same = (Option("a", ""), Option("b", "3"), Option("c", ""))
    [message] = render(Reply("x", same), ID)
    titles = [b["reply"]["title"] for b in message["interactive"]["action"]["buttons"]]
    assert titles == ["1", "3", "3 (3)"]


def test_empty_text_with_options_uses_the_prompt_as_body() -> None:
    [message] = render(Reply("", options(1)), ID)
    assert message["interactive"]["body"]["text"] == "Silakan pilih:"
    assert render(Reply("  \n "), ID) == []
