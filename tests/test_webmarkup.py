"""The neutral markup as the web page's blocks: structure, links, phone numbers."""

from __future__ import annotations

from bot.channels.webmarkup import inline, to_blocks
from bot.content import Content


def test_paragraphs_lists_and_steps_become_blocks() -> None:
    text = "**Syarat**\n- KTP\n- KK\n\nLangkah:\n1. Daftar\n2. Bayar\n\nSelesai."
    blocks = to_blocks(text)
    assert [b["kind"] for b in blocks] == ["p", "ul", "p", "ol", "p"]
    assert blocks[0]["items"] == [[{"text": "Syarat", "bold": True}]]
    assert blocks[1]["items"] == [[{"text": "KTP"}], [{"text": "KK"}]]
    assert blocks[3]["items"] == [[{"text": "Daftar"}], [{"text": "Bayar"}]]


def test_lines_of_one_paragraph_stay_together_and_a_blank_line_splits_lists() -> None:
    blocks = to_blocks("baris satu\nbaris dua\n- a\n\n- b")
    assert blocks[0] == {"kind": "p", "items": [[{"text": "baris satu"}], [{"text": "baris dua"}]]}
    assert [b["kind"] for b in blocks[1:]] == ["ul", "ul"]


def test_a_bare_url_leaves_the_sentence_punctuation_outside_the_link() -> None:
    runs = inline("Lapor di https://www.lapor.go.id, atau https://x.go.id/a?b=1.")
    links = [r for r in runs if "href" in r]
    assert [r["href"] for r in links] == ["https://www.lapor.go.id", "https://x.go.id/a?b=1"]
    assert "".join(r["text"] for r in runs) == "Lapor di https://www.lapor.go.id, atau " + (
        "https://x.go.id/a?b=1."
    )


def test_markup_links_and_bold_keep_their_form() -> None:
    runs = inline("**Biaya** lihat [situs resmi](https://www.imigrasi.go.id).")
    assert runs == [
        {"text": "Biaya", "bold": True},
        {"text": " lihat "},
        {"text": "situs resmi", "href": "https://www.imigrasi.go.id"},
        {"text": "."},
    ]


def test_phone_numbers_are_tappable_and_whatsapp_opens_a_chat() -> None:
    runs = inline("WhatsApp informasi: 0811-3595-000.")
    assert {"text": "0811-3595-000", "href": "tel:+628113595000"} in runs
    assert {"text": "WhatsApp", "href": "https://wa.me/628113595000"} in runs
    assert runs[-1] == {"text": "."}
    international = inline("Hotline +62 813-9967-9966 (WhatsApp, Senin-Jumat)")
    assert {"text": "+62 813-9967-9966", "href": "tel:+6281399679966"} in international


def test_hours_years_and_fees_are_not_phone_numbers() -> None:
    text = "Buka 08.00-14.00, sejak 2022-2023, biaya Rp650.000, kuota 30-50 orang."
    assert all("href" not in run for run in inline(text))


def test_a_landline_gets_no_whatsapp_link() -> None:
    runs = inline("Telepon atau WhatsApp kantor: 0341 551 234")
    assert [r["href"] for r in runs if "href" in r] == ["tel:+62341551234"]


def test_every_topic_renders_without_markup_left_or_broken_links(content: Content) -> None:
    for topic in content.topics.values():
        for lang in ("id", "en"):
            text = content.topic_text(topic, lang)
            blocks = to_blocks(text)
            runs = [run for block in blocks for item in block["items"] for run in item]
            assert "**" not in "".join(run["text"] for run in runs), topic.id
            for href in (run["href"] for run in runs if "href" in run):
                assert href.startswith(("https://", "http://", "tel:+62")), (topic.id, href)
                assert not href.endswith((".", ",", ";", ":")), (topic.id, href)
