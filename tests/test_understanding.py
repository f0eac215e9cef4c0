"""The understanding engine: normalisation, routes, gating, and the dev-split accuracy floor."""

from __future__ import annotations

import json
from pathlib import Path
from typing import get_args

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.accuracy import evaluate, load_rows
from bot.understanding import Understanding
from bot.understanding.classifier import CACHE_FILE as CLASSIFIER_CACHE_FILE
from bot.understanding.classifier import Classifier
from bot.understanding.engine import Route
from bot.understanding.normalise import STEM_CACHE_FILE

# Recorded with `python -m benchmarks.accuracy --split dev` (see BENCHMARKS.md); the test
# fails when a change makes the engine worse on the dev split. Re-recorded for the nine topics
# of issue 15: they answer subjects the dev rows still label with older topics (billing and
# rescheduling -> m-paspor-kendala, priority service -> layanan-prioritas, group service ->
# layanan-kolektif), so 629 -> 620 and 167 -> 165 until someone who may read the dev rows
# relabels them.
DEV_TOP1_FLOOR = 0.952  # 620 of 651
DEV_WRONG_CEILING = 0.03
DEV_OOS_RECALL_FLOOR = 0.942  # 165 of 175


def test_dev_split_accuracy_does_not_fall_below_the_recorded_figures(
    understanding: Understanding,
) -> None:
    report, _ = evaluate(understanding, load_rows("dev"))
    assert report.top1 >= DEV_TOP1_FLOOR
    assert report.wrong <= DEV_WRONG_CEILING
    assert report.oos_recall >= DEV_OOS_RECALL_FLOOR


def test_slang_and_canonical_forms_normalise(understanding: Understanding) -> None:
    tokens = understanding.normaliser.tokens
    assert tokens("brp biaya perpanjangin kitas") == tokens("berapa biaya perpanjang itas")
    assert "paspor" in tokens("pasporrrr ilang")
    assert "hilang" in tokens("pasporrrr ilang")
    assert tokens("e-paspor") == tokens("paspor elektronik")
    assert tokens("berkas2nya anak2") == tokens("berkasnya anak")  # reduplication with a 2
    assert tokens("mau nanya2 soal paspor dong hehe") == ["paspor"]  # chat filler


def test_another_agencys_document_is_not_answered_with_an_immigration_topic(
    understanding: Understanding,
) -> None:
    elsewhere = understanding.analyse("ktp ilang di pasar, bikin lagi dmn")
    assert elsewhere.route == "unknown" and elsewhere.neighbour_id == "ktp"
    # Naming the passport keeps it ours; asking for an officer is still a route.
    assert understanding.analyse("paspornya ilang di pasar").topic_id == "paspor-hilang"
    assert understanding.analyse("paspor sm ktp sy ilang").topic_id == "paspor-hilang"
    assert understanding.analyse("saya mau bicara dengan petugas soal ktp").route == "human"


def test_a_question_nobody_here_handles_is_declined_without_suggestions(
    understanding: Understanding,
) -> None:
    analysis = understanding.analyse("cara bikin akun instagram baru")
    assert analysis.route == "unknown" and analysis.neighbour_id is None
    assert analysis.suggestions == () and analysis.candidates == ()
    # A near miss still offers the nearest topics.
    near = understanding.analyse("kantor buka hari minggu?")
    assert near.route == "unknown" and "jam-layanan" in near.suggestions


@pytest.mark.parametrize(
    ("text", "ticket"),
    [("nomor saya A-025 masih lama?", "A-025"), ("a 25", "A-025"), ("antrian b18 udah?", "B-018")],
)
def test_queue_questions_carry_the_ticket(
    understanding: Understanding, text: str, ticket: str
) -> None:
    analysis = understanding.analyse(text)
    assert analysis.route == "queue" and analysis.ticket == ticket


def test_neighbouring_service_is_redirected_not_answered(understanding: Understanding) -> None:
    analysis = understanding.analyse("perpanjang SIM dimana ya")
    assert analysis.route == "unknown" and analysis.neighbour_id == "sim"


def test_stay_permit_question_is_not_answered_with_passport_renewal(
    understanding: Understanding,
) -> None:
    analysis = understanding.analyse("mau perpanjang kitas gmn caranya")
    assert analysis.topic_id != "paspor-perpanjang"
    assert "paspor-perpanjang" not in analysis.candidates[:2]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("makasih kak", "thanks"),
        ("selamat pagi min", "hello"),
        ("ok", "ack"),
        ("kamu siapa", "about"),
        ("are you a robot", "about"),
    ],
)
def test_small_talk_is_recognised(understanding: Understanding, text: str, kind: str) -> None:
    analysis = understanding.analyse(text)
    assert analysis.route == "smalltalk" and analysis.smalltalk == kind


@pytest.mark.parametrize(
    ("text", "kind"),
    [("terima kasih banyak ya kak", "thanks"), ("thank you very much, bye", "thanks")],
)
def test_small_talk_words_in_any_order_are_small_talk(
    understanding: Understanding, text: str, kind: str
) -> None:
    analysis = understanding.analyse(text)
    assert analysis.route == "smalltalk" and analysis.smalltalk == kind
    # One word that is not small talk makes it a question.
    assert understanding.analyse(f"{text} paspor hilang").route != "smalltalk"


@pytest.mark.parametrize(
    ("text", "route", "topic"),
    [
        ("denda", "topic", "overstay"),  # "fine" is small talk, "denda" (a fine) is not
        ("petugas", "human", None),
        ("help", "unknown", None),  # in "thanks for the help", but it is no thanks alone
        ("selamat pagi, paspor saya hilang", "topic", "paspor-hilang"),
        ("terima kasih, paspor saya hilang", "topic", "paspor-hilang"),
    ],
)
def test_small_talk_words_do_not_swallow_or_skew_a_question(
    understanding: Understanding, text: str, route: str, topic: str | None
) -> None:
    analysis = understanding.analyse(text)
    assert (analysis.route, analysis.topic_id) == (route, topic)


def test_a_greeting_around_a_category_name_still_shows_the_category(
    understanding: Understanding,
) -> None:
    analysis = understanding.analyse("selamat pagi kak, mau tanya paspor")
    assert analysis.route == "clarify" and analysis.category == "paspor"


def test_language_is_detected_per_message(understanding: Understanding) -> None:
    assert understanding.analyse("how much is the passport fee").lang == "en"
    assert understanding.analyse("brp biaya paspor", default_lang="en").lang == "id"
    assert understanding.analyse("itas", default_lang="en").lang == "en"


def test_a_wrong_typo_correction_does_not_invent_a_topic(understanding: Understanding) -> None:
    assert understanding.analyse("write me a poem").route == "unknown"
    # "presiden" is close to the index word "resident" (a stay-permit word), but typos rarely
    # change the first letter.
    assert understanding.analyse("siapa presiden indonesia skrg").route == "unknown"
    assert understanding.analyse("perpanjng kitas").topic_id == "itas-perpanjang"  # still fixed


def test_one_word_answers_only_when_the_topic_uses_it_repeatedly(
    understanding: Understanding,
) -> None:
    # "jelas" appears in one sample question only: no evidence for any topic.
    assert understanding.analyse("gak jelas").route == "unknown"
    assert understanding.analyse("overstay").topic_id == "overstay"
    assert understanding.analyse("ig nya apa").topic_id == "kontak"


@pytest.mark.parametrize("text", ["biaya?", "biayanya brp kak", "how much"])
def test_a_bare_fee_question_asks_which_fee(understanding: Understanding, text: str) -> None:
    analysis = understanding.analyse(text)
    assert analysis.route == "clarify"
    assert {"paspor-biaya", "izin-tinggal-biaya"} <= set(analysis.candidates)
    assert understanding.analyse(f"{text} paspor").topic_id == "paspor-biaya"


def test_ready_is_not_dropped_as_filler(understanding: Understanding) -> None:
    # "jadi" is filler in "jadi gini", but "paspor jadi kapan" asks when it is ready.
    assert understanding.analyse("how long until my passport is ready").topic_id == (
        "paspor-pengambilan"
    )
    assert "jadi" in understanding.normaliser.tokens("paspor sy jadi kapan")


def test_stems_and_weights_kept_on_disk_are_reused_and_a_stale_file_is_ignored(
    understanding: Understanding, tmp_path: Path
) -> None:
    folder = tmp_path / "data"
    cache = folder / STEM_CACHE_FILE
    first = Understanding(understanding.content, cache_dir=folder)
    saved = json.loads(cache.read_text())
    assert len(saved["stems"]) > 500
    weights = (folder / CLASSIFIER_CACHE_FILE).stat().st_mtime_ns
    again = Understanding(understanding.content, cache_dir=folder)
    question = "kitasnya mau perpanjangan gmn"
    assert again.analyse(question) == first.analyse(question) == understanding.analyse(question)
    cache.write_text(json.dumps({"key": "another lexicon", "stems": {"kitasnya": "nonsense"}}))
    assert Understanding(understanding.content, cache_dir=folder).normaliser.stem(
        "kitasnya"
    ) == understanding.normaliser.stem("kitasnya")
    cache.write_text("{not json")
    Understanding(understanding.content, cache_dir=folder)  # rebuilt, not a crash
    assert json.loads(cache.read_text())["key"] == saved["key"]
    assert (folder / CLASSIFIER_CACHE_FILE).stat().st_mtime_ns == weights  # not rewritten


def test_classifier_weights_learned_for_other_labels_are_not_reused(tmp_path: Path) -> None:
    samples = [["paspor", "hilang"], ["paspor", "rusak"], ["itas", "baru"]]
    cache = tmp_path / CLASSIFIER_CACHE_FILE
    before = Classifier(samples, ["t:lost", "t:damaged", "t:permit"], cache)
    learned = before.probabilities(["hilang"])
    assert max(learned, key=learned.__getitem__) == "t:lost"
    # Same words and shape, labels swapped: the cached weights would answer "lost".
    after = Classifier(samples, ["t:damaged", "t:lost", "t:permit"], cache)
    learned = after.probabilities(["hilang"])
    assert max(learned, key=learned.__getitem__) == "t:damaged"
    for broken in (b"not a zip", b""):  # e.g. a rename not flushed before a power cut
        cache.write_bytes(broken)
        again = Classifier(samples, ["t:damaged", "t:lost", "t:permit"], cache)  # not a crash
        assert again.probabilities(["hilang"]) == learned
        assert cache.read_bytes().startswith(b"PK")  # rewritten


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=300))
def test_any_text_gets_a_valid_analysis(understanding: Understanding, text: str) -> None:
    analysis = understanding.analyse(text)
    assert analysis.route in get_args(Route)
    topics = understanding.content.topics
    assert analysis.topic_id is None or analysis.topic_id in topics
    assert set(analysis.candidates) <= set(topics) and set(analysis.suggestions) <= set(topics)
    assert all(0.0 <= value < 2.0 for value in analysis.scores.values())
