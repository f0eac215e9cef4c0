"""Content loading and `ukkbot content check`: faults reported with file and field."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
import yaml

from bot.cli import main
from bot.content import (
    REQUIRED_TOPIC_IDS,
    Content,
    check_content,
    load_content,
    report_content,
    unconfirmed_in,
)
from bot.core import LANGS
from bot.limits import CHANNEL_TEXT_LIMITS
from bot.markup import split_text
from bot.queue.state import STATUSES
from tests.conftest import CONTENT_DIR, ROOT


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, target)
    return target


def edit_yaml(path: Path, change: object) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)  # type: ignore[operator]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_shipped_content_passes_the_check() -> None:
    assert [str(f) for f in check_content(CONTENT_DIR)] == []


def test_every_required_topic_exists_in_both_languages(content: Content) -> None:
    for topic_id in REQUIRED_TOPIC_IDS:
        topic = content.topics[topic_id]
        for lang in LANGS:
            assert content.topic_text(topic, lang).strip()
            assert len(topic.questions.get(lang)) >= 8


def test_every_rendered_answer_fits_every_channel(content: Content) -> None:
    for topic in content.topics.values():
        for lang in LANGS:
            text = content.topic_text(topic, lang)
            assert "{" not in text and "}" not in text
            for limit in CHANNEL_TEXT_LIMITS.values():
                assert all(len(piece) <= limit for piece in split_text(text, limit))


def test_a_missing_field_is_reported_with_file_and_field(copy: Path) -> None:
    edit_yaml(copy / "topics" / "lokasi.yaml", lambda d: d.pop("summary"))
    assert "content/topics/lokasi.yaml: summary: Field required" in [
        str(f) for f in check_content(copy)
    ]


def test_an_unknown_placeholder_is_reported(copy: Path) -> None:
    edit_yaml(
        copy / "topics" / "lokasi.yaml",
        lambda d: d["body"].update(en=d["body"]["en"] + " {fee:nope}"),
    )
    faults = [str(f) for f in check_content(copy)]
    assert "content/topics/lokasi.yaml: body.en: unknown placeholder {fee:nope}" in faults


def test_unknown_related_id_and_missing_required_topic_are_reported(copy: Path) -> None:
    edit_yaml(copy / "topics" / "lokasi.yaml", lambda d: d.update(related=["tidak-ada"]))
    (copy / "topics" / "calo.yaml").unlink()
    faults = [str(f) for f in check_content(copy)]
    assert "content/topics/lokasi.yaml: related: unknown topic id 'tidak-ada'" in faults
    assert "content/topics: id: required topic 'calo' is missing" in faults


def test_too_few_sample_questions_and_bad_source_are_reported(copy: Path) -> None:
    def spoil(d: dict[str, object]) -> None:
        d["questions"]["en"] = ["where"]  # type: ignore[index]
        d["sources"][0]["url"] = "not a url"  # type: ignore[index]

    edit_yaml(copy / "topics" / "lokasi.yaml", spoil)
    faults = "\n".join(str(f) for f in check_content(copy))
    assert "content/topics/lokasi.yaml: questions: en: at least 8 sample questions needed" in faults
    assert "content/topics/lokasi.yaml: sources.0.url:" in faults


def test_a_duplicate_id_and_a_broken_yaml_are_reported(copy: Path) -> None:
    shutil.copy(copy / "topics" / "lokasi.yaml", copy / "topics" / "lokasi-2.yaml")
    (copy / "fees.yaml").write_text("fees: [unclosed\n", encoding="utf-8")
    faults = "\n".join(str(f) for f in check_content(copy))
    assert "content/topics/lokasi-2.yaml: id: 'lokasi' does not match the file name" in faults
    assert re.search(r"content/fees.yaml: line \d+: not valid YAML", faults)


def test_changing_a_fee_changes_every_answer_that_shows_it(copy: Path) -> None:
    before = load_content(copy)
    showing = [
        t.id for t in before.topics.values() if "{fee:epaspor_10}" in t.summary.id + t.body.id
    ]
    assert len(showing) >= 2
    edit_yaml(copy / "fees.yaml", lambda d: d["fees"]["epaspor_10"].update(amount=1_250_000))
    after = load_content(copy)
    for topic_id in showing:
        text = after.topic_text(after.topics[topic_id], "id")
        assert "Rp1.250.000" in text


def test_unverified_fee_is_marked_in_the_answer(content: Content) -> None:
    assert content.fill("{fee:overstay_per_hari}", "en") == "Rp1,000,000 (to be confirmed)"
    assert content.fill("{fee:epaspor_10}", "id") == "Rp950.000"


def test_report_lists_unverified_facts_and_stale_topics(content: Content) -> None:
    lines = report_content(content, content.topics["lokasi"].reviewed + dt.timedelta(days=181))
    assert any(line.startswith("office.yaml: hours: unverified") for line in lines)
    assert any("topics/lokasi.yaml: reviewed: 181 days ago" in line for line in lines)
    fresh = report_content(content, content.topics["lokasi"].reviewed)
    assert not any("days ago" in line for line in fresh)


def test_content_check_command_exit_codes(copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["content", "check", str(copy)]) == 0
    edit_yaml(copy / "topics" / "lokasi.yaml", lambda d: d.pop("title"))
    assert main(["content", "check", str(copy)]) == 1
    assert "content/topics/lokasi.yaml: title: Field required" in capsys.readouterr().out


def test_content_show_prints_plain_text_and_fails_on_unknown_id(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["content", "show", "paspor-baru", "--lang", "en", "--dir", str(CONTENT_DIR)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Applying for a new passport") and "**" not in out
    assert main(["content", "show", "nope", "--dir", str(CONTENT_DIR)]) == 1


def test_every_ui_key_used_in_code_exists(content: Content) -> None:
    used: set[str] = set()
    for path in [*ROOT.glob("bot/**/*.py"), *ROOT.glob("handlers/*.py")]:
        used |= set(re.findall(r"\bt\(\s*\"([a-z_.]+)\"", path.read_text()))
        used |= set(re.findall(r"option\(\s*\"[^\"]*\",\s*\"([a-z_.]+)\"", path.read_text()))
        used |= set(re.findall(r"QueueError\(\s*\"([a-z_.]+)\"", path.read_text()))
        used |= set(re.findall(r"\"([a-z_]+\.[a-z_.]+)\" if ", path.read_text()))
    used |= {f"queue.status.{status}" for status in STATUSES}
    assert used, "the scan found no keys: the pattern is stale"
    assert sorted(used - set(content.ui)) == []


def test_queue_services_load_and_a_duplicate_letter_is_reported(copy: Path) -> None:
    assert load_content(copy).queue.letters == "ABC"
    edit_yaml(copy / "queue.yaml", lambda d: d["services"][1].update(letter="A"))
    faults = [str(f) for f in check_content(copy)]
    assert "content/queue.yaml: services.letter: duplicate letter 'A'" in faults


def test_telegram_limit_matches_python_telegram_bot() -> None:
    from telegram.constants import MessageLimit

    from bot.limits import TELEGRAM_TEXT

    assert MessageLimit.MAX_TEXT_LENGTH == TELEGRAM_TEXT


def test_small_talk_without_a_reply_is_reported(copy: Path) -> None:
    edit_yaml(
        copy / "routes.yaml",
        lambda d: d["smalltalk"].update(weather={"id": ["panas ya"], "en": ["hot today"]}),
    )
    faults = [str(f) for f in check_content(copy)]
    assert "content/ui.yaml: smalltalk.weather: reply for this small talk missing" in faults


# --- Unconfirmed facts: the renderer puts the caveat next to each one -----------------------

CLAIM = re.compile(r"\[\[([^\[\]]+)\]\]")


def test_every_marked_claim_renders_with_its_caveat_right_after_it(content: Content) -> None:
    marked = 0
    for topic in content.topics.values():
        for lang in LANGS:
            mark = content.ui["unverified_mark"].get(lang)
            raw = "\n\n".join(getattr(topic, f).get(lang) for f in ("title", "summary", "body"))
            text = content.topic_text(topic, lang)
            assert "[[" not in text and "]]" not in text
            for claim in CLAIM.findall(raw):
                marked += 1
                assert f"{content.fill(claim, lang)} {mark}" in text
    assert marked >= 10, "the shipped topics mark their unconfirmed claims"


def test_text_a_caller_fills_in_is_never_taken_for_a_claim(content: Content) -> None:
    text = content.t("ann.broadcast", "id", body="Loket [[tutup]] besok")
    assert "Loket [[tutup]] besok" in text and "perlu dikonfirmasi" not in text


def test_no_shipped_caveat_is_stacked_against_another_bracket(content: Content) -> None:
    for topic in content.topics.values():
        for lang in LANGS:
            mark = content.ui["unverified_mark"].get(lang)
            text = content.topic_text(topic, lang)
            assert f"{mark} (" not in text and f"{mark})" not in text, topic.id


def test_each_line_of_unconfirmed_hours_carries_the_caveat(content: Content) -> None:
    lines = content.fill("{office:hours}", "id").splitlines()
    assert len(lines) >= 2
    assert all(line.endswith("(perlu dikonfirmasi)") for line in lines)
    assert content.fill("At 08.00{office:hours_caveat}.", "en") == "At 08.00 (to be confirmed)."


def test_confirmed_hours_render_without_a_caveat(copy: Path) -> None:
    edit_yaml(copy / "office.yaml", lambda d: d["hours"].update(unverified=False))
    content = load_content(copy)
    assert "(perlu dikonfirmasi)" not in content.fill("{office:hours}", "id")
    assert content.fill("{office:hours_caveat}", "id") == ""


def test_an_unverified_office_fact_renders_with_its_caveat(copy: Path) -> None:
    edit_yaml(copy / "office.yaml", lambda d: d["facts"]["kanim_pasuruan"].update(unverified=True))
    text = load_content(copy).fill("Pasuruan: {office:kanim_pasuruan}.", "en")
    assert text.endswith("(opened 5 February 2026) (to be confirmed).")


def test_claims_marked_in_one_language_only_are_reported(copy: Path) -> None:
    edit_yaml(
        copy / "topics" / "lokasi.yaml",
        lambda d: d["body"].update(id=d["body"]["id"] + "\n\n[[Loket di lantai 2]]."),
    )
    faults = [str(f) for f in check_content(copy)]
    assert (
        "content/topics/lokasi.yaml: body: [[unconfirmed]] claims differ between languages: "
        "id 1, en 0" in faults
    )


def test_an_unclosed_claim_mark_is_reported(copy: Path) -> None:
    edit_yaml(
        copy / "topics" / "lokasi.yaml",
        lambda d: d["summary"].update(en=d["summary"]["en"] + " [[open"),
    )
    faults = [str(f) for f in check_content(copy)]
    assert any(
        f.startswith("content/topics/lokasi.yaml: summary.en: unclosed or nested [[ ]]")
        for f in faults
    )


def test_marked_claims_without_an_unverified_list_are_reported(copy: Path) -> None:
    def mark_without_list(d: dict[str, object]) -> None:
        d["body"]["id"] += "\n\n[[Satu]]."  # type: ignore[index]
        d["body"]["en"] += "\n\n[[One]]."  # type: ignore[index]
        d["unverified"] = []

    edit_yaml(copy / "topics" / "lokasi.yaml", mark_without_list)
    faults = [str(f) for f in check_content(copy)]
    assert (
        "content/topics/lokasi.yaml: unverified: the text marks [[claims]]: "
        "list what is unconfirmed" in faults
    )


# --- English: every office fact has one, and no Indonesian-only word leaks into it -----------


def test_an_office_fact_without_english_is_reported(copy: Path) -> None:
    edit_yaml(copy / "office.yaml", lambda d: d["facts"]["address"].update(value="Jl. Basuki"))
    faults = [str(f) for f in check_content(copy)]
    assert (
        "content/office.yaml: facts.address.value: English value missing: "
        "write it as {id: ..., en: ...}" in faults
    )


def test_links_and_numbers_need_no_second_language(content: Content) -> None:
    assert content.fill("{office:evisa_url}", "en") == "https://evisa.imigrasi.go.id"
    assert content.fill("{office:lapor_sms}", "en") == "1708"


def test_indonesian_word_in_an_english_answer_is_reported(copy: Path) -> None:
    edit_yaml(
        copy / "topics" / "lokasi.yaml",
        lambda d: d["summary"].update(en=d["summary"]["en"] + " Open Senin to Friday."),
    )
    faults = [str(f) for f in check_content(copy)]
    assert (
        "content/topics/lokasi.yaml: summary.en: Indonesian word(s) in the English text: senin"
        in faults
    )


def test_indonesian_word_in_an_english_ui_string_or_office_fact_is_reported(copy: Path) -> None:
    edit_yaml(copy / "ui.yaml", lambda d: d["closed"].update(en="tutup"))
    edit_yaml(
        copy / "office.yaml",
        lambda d: d["facts"]["mpaspor"].update(value={"id": "aplikasi M-Paspor", "en": "aplikasi"}),
    )
    faults = [str(f) for f in check_content(copy)]
    assert "content/ui.yaml: closed.en: Indonesian word(s) in the English text: tutup" in faults
    assert (
        "content/office.yaml: facts.mpaspor.value.en: Indonesian word(s) in the English text: "
        "aplikasi" in faults
    )


def test_quoted_terms_links_and_commands_are_not_english_leaks(copy: Path) -> None:
    edit_yaml(
        copy / "topics" / "lokasi.yaml",
        lambda d: d["summary"].update(
            en=d["summary"]["en"] + ' Ask for "surat keterangan belum". Type /buka A.'
        ),
    )
    assert [str(f) for f in check_content(copy)] == []


def test_the_word_list_lives_in_content(copy: Path) -> None:
    edit_yaml(copy / "language.yaml", lambda d: d.update(indonesian_only=["probolinggo"]))
    faults = "\n".join(str(f) for f in check_content(copy))
    assert "Indonesian word(s) in the English text: probolinggo" in faults


# --- Report: per topic, unconfirmed facts and when each source was last checked --------------


def test_report_counts_unconfirmed_facts_per_topic_most_first(content: Content) -> None:
    lines = report_content(content, content.topics["jam-layanan"].reviewed)
    counts = [
        int(m.group(1)) for line in lines if (m := re.search(r"\.yaml: (\d+) unconfirmed,", line))
    ]
    assert len(counts) == len(content.topics)
    assert counts == sorted(counts, reverse=True)
    jam = next(line for line in lines if line.startswith("topics/jam-layanan.yaml: "))
    assert re.match(r"topics/jam-layanan\.yaml: [1-9]\d* unconfirmed, reviewed \d{4}-", jam)
    assert "topics/jam-layanan.yaml: unverified: office.hours" in lines


def test_report_gives_the_date_each_source_was_checked(copy: Path) -> None:
    def checked(d: dict[str, object]) -> None:
        d["sources"][0]["checked"] = "2027-01-05"  # type: ignore[index]

    edit_yaml(copy / "topics" / "lokasi.yaml", checked)
    content = load_content(copy)
    lines = report_content(content, content.topics["lokasi"].reviewed)
    first, second = content.topics["lokasi"].sources[:2]
    assert f"topics/lokasi.yaml: source checked 2027-01-05: {first.title}" in lines
    fallback = second.checked or content.topics["lokasi"].reviewed
    assert f"topics/lokasi.yaml: source checked {fallback}: {second.title}" in lines


def test_confirming_a_fact_lowers_the_topic_count(copy: Path) -> None:
    def count(root: Path) -> int:
        content = load_content(root)
        return len(unconfirmed_in(content, content.topics["jam-layanan"]))

    before = count(copy)
    edit_yaml(copy / "office.yaml", lambda d: d["hours"].update(unverified=False))
    assert count(copy) == before - 1
