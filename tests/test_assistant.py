"""The router and handlers through the Assistant, with a collecting channel."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from bot.assistant import Assistant
from bot.content import Content
from bot.core import Incoming, Lang
from bot.store import questions, users
from bot.understanding import Understanding
from tests.conftest import Chat, FixedClock, all_text, option_ids

MAIN_MENU = ["c:paspor", "c:wna", "c:kantor", "q", "a", "lang", "h"]


async def test_start_greets_and_shows_main_menu(chat: Chat, content: Content) -> None:
    replies = await chat.say("/start")
    assert "UKK Kota Probolinggo" in all_text(replies)
    assert option_ids(replies) == MAIN_MENU


async def test_mulai_is_an_alias_of_start(chat: Chat) -> None:
    assert option_ids(await chat.say("/mulai")) == MAIN_MENU


async def test_deep_link_opens_the_topic(chat: Chat, content: Content) -> None:
    replies = await chat.say("/start paspor-baru")
    assert content.topics["paspor-baru"].title.id in all_text(replies)
    assert "c:paspor" in option_ids(replies) and "m" in option_ids(replies)


async def test_deep_link_to_unknown_topic_says_so(chat: Chat, content: Content) -> None:
    replies = await chat.say("/start tidak-ada")
    assert all_text(replies) == content.t("unknown_topic", "id")


async def test_category_lists_its_topics_then_topic_offers_related_and_back(
    chat: Chat, content: Content
) -> None:
    listing = await chat.tap("c:paspor")
    ids = option_ids(listing)
    assert {f"t:{t.id}" for t in content.topics_in("paspor")} <= set(ids)
    answer = await chat.tap("t:paspor-baru")
    related = [f"t:{r}" for r in content.topics["paspor-baru"].related]
    feedback = ["f:+:paspor-baru", "f:-:paspor-baru"]
    assert option_ids(answer) == [*related, *feedback, "c:paspor", "m"]


async def test_topic_answer_shows_the_fee_from_fees_yaml(chat: Chat, content: Content) -> None:
    text = all_text(await chat.tap("t:paspor-baru"))
    assert "Rp950.000" in text and "{fee:" not in text


async def test_language_choice_is_stored_and_used(assistant: Assistant, content: Content) -> None:
    chat = Chat(assistant, user="lang-user")
    await chat.say("/bahasa en")
    replies = await chat.say("/start")
    assert content.t("menu.paspor", "en") in [o.label for r in replies for o in r.options]
    store = assistant.services.store
    assert await users.get_language(store.db, "test", "lang-user") == "en"


async def test_language_button_flow(chat: Chat) -> None:
    assert option_ids(await chat.tap("lang")) == ["lang:id", "lang:en"]
    replies = await chat.tap("lang:en")
    assert "English" in all_text(replies)


async def test_platform_language_decides_before_a_choice(
    assistant: Assistant, content: Content
) -> None:
    english = Chat(assistant, user="en-user", lang_hint="en-GB")
    replies = await english.say("/menu")
    assert all_text(replies) == content.t("menu_prompt", "en")
    other = Chat(assistant, user="de-user", lang_hint="de")
    assert all_text(await other.say("/menu")) == content.t("menu_prompt", "id")


async def test_free_text_is_answered_from_content(chat: Chat, content: Content) -> None:
    replies = await chat.say("paspor saya hilang gimana ngurusnya")
    assert content.topics["paspor-hilang"].title.id in all_text(replies)


async def test_two_questions_get_the_first_answered_and_the_second_as_the_first_button(
    chat: Chat, content: Content
) -> None:
    replies = await chat.say("syarat perpanjang paspor apa aja dan biaya paspor berapa")
    assert content.topics["paspor-perpanjang"].title.id in all_text(replies)
    assert option_ids(replies)[0] == "t:paspor-biaya"
    assert option_ids(replies).count("t:paspor-biaya") == 1


async def test_free_text_in_english_is_answered_in_english(chat: Chat, content: Content) -> None:
    replies = await chat.say("how much is the overstay fine per day")
    assert content.topics["overstay"].title.en in all_text(replies)


@pytest.mark.parametrize(("hint", "lang"), [("en-US", "en"), ("id", "id")])
async def test_a_word_of_no_language_is_answered_in_the_platforms_language(
    assistant: Assistant, content: Content, hint: str, lang: Lang
) -> None:
    replies = await Chat(assistant, user=f"hint-{hint}", lang_hint=hint).say("ITAS")
    assert all_text(replies).startswith(f"**{content.topics['itas'].title.get(lang)}**\n\n")


@pytest.mark.parametrize(("text", "kind"), [("terima kasih", "thanks"), ("halo", "hello")])
async def test_small_talk_gets_its_reply_and_the_menu(
    chat: Chat, content: Content, text: str, kind: str
) -> None:
    replies = await chat.say(text)
    assert all_text(replies) == content.t(f"smalltalk.{kind}", "id")
    assert option_ids(replies) == MAIN_MENU


async def test_asking_for_news_in_words_shows_the_announcements(
    chat: Chat, content: Content
) -> None:
    assert await chat.say("ada pengumuman terbaru?") == await chat.say("/pengumuman")
    assert all_text(await chat.say("ada pengumuman terbaru?")).endswith(
        "\n\n" + content.t("ann.none", "id")
    )


async def test_nonsense_gets_the_fallback_with_the_menu(chat: Chat, content: Content) -> None:
    replies = await chat.say("resep rendang padang yang enak")
    assert all_text(replies) == content.t("fallback", "id")
    assert option_ids(replies) == MAIN_MENU


async def test_unknown_command_and_stale_button_are_explained(chat: Chat, content: Content) -> None:
    assert all_text(await chat.say("/tidakada")) == content.t(
        "unknown_command", "id", command="tidakada"
    )
    assert all_text(await chat.tap("zz:1")) == content.t("unknown_action", "id")


async def test_queue_shows_today_and_announcements_answer_until_their_feature_lands(
    chat: Chat, content: Content
) -> None:
    assert all_text(await chat.say("/antrian")).startswith(content.t("queue.title", "id"))
    assert content.t("ann.none", "id") in all_text(await chat.tap("a"))


async def test_a_message_without_text_gets_the_text_only_notice(
    assistant: Assistant, content: Content
) -> None:
    answer = await assistant.handle(Incoming("test", "u9", "u9"))
    assert all_text(answer.replies) == content.t("unsupported_message", "id")


async def test_a_failing_handler_gets_an_apology_and_the_bot_keeps_serving(
    assistant: Assistant, content: Content
) -> None:
    await assistant.services.store.close()  # every database call now fails
    answer = await assistant.handle(Incoming("test", "u1", "u1", text="/start", lang_hint="en"))
    assert all_text(answer.replies) == content.t("error", "en")
    assert answer.lang == "en"


async def test_location_topic_sends_the_map_link(chat: Chat, content: Content) -> None:
    replies = await chat.tap("t:lokasi")
    assert content.office.location.map_url in all_text(replies)


async def test_declined_and_clarified_questions_are_kept_without_who_asked(
    chat: Chat, assistant: Assistant, clock: FixedClock
) -> None:
    await chat.say("resep rendang padang yang enak")
    await Chat(assistant, user="someone-else").say("resep rendang padang yang enak")
    await chat.say("paspor saya hilang gimana ngurusnya")  # answered: not kept
    store = assistant.services.store
    await assistant.services.bookkeeping.flush()
    [question] = await questions.top_questions(store.db, clock.now)
    assert question.count == 2 and question.route == "unknown"
    assert "rendang" in question.normalised and "u1" not in question.normalised


async def test_kept_questions_are_forgotten_after_90_days(
    assistant: Assistant, clock: FixedClock
) -> None:
    store, bookkeeping = assistant.services.store, assistant.services.bookkeeping
    bookkeeping.record_question("resep rendang", "unknown", clock.now)
    await bookkeeping.flush()
    clock.now += dt.timedelta(days=91)
    assert await questions.top_questions(store.db, clock.now) == []
    bookkeeping.record_question("jadwal kereta", "unknown", clock.now)
    await bookkeeping.flush()  # the batch that adds a question forgets the old ones
    rows = await store.db.execute_fetchall("SELECT normalised FROM questions")
    assert [row["normalised"] for row in rows] == ["jadwal kereta"]


async def test_a_bare_category_name_shows_that_category(chat: Chat, content: Content) -> None:
    replies = await chat.say("paspor")
    assert all_text(replies) == content.t("category.paspor", "id")
    assert {f"t:{t.id}" for t in content.topics_in("paspor")} <= set(option_ids(replies))


async def test_a_question_that_fits_several_topics_asks_which_one_was_meant(
    chat: Chat, content: Content, understanding: Understanding
) -> None:
    candidates = understanding.analyse("biaya?").candidates
    assert {"paspor-biaya", "izin-tinggal-biaya"} <= set(candidates)
    [reply] = await chat.say("biaya?")
    assert reply.text == content.t("clarify", "id")
    titles = [content.topics[topic_id].title.id for topic_id in candidates]
    assert [(o.id, o.label) for o in reply.options] == [
        *((f"t:{topic_id}", title) for topic_id, title in zip(candidates, titles, strict=True)),
        ("m", content.t("btn.menu", "id")),
    ]


async def test_an_unsure_match_is_declined_with_the_nearest_topics_offered(
    chat: Chat, content: Content, understanding: Understanding, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A confidence never reached makes an ordinary question fall below "clarify".
    strict = replace(understanding.thresholds, answer=1.0, sure_enough=1.0, clarify=0.95)
    monkeypatch.setattr(understanding, "thresholds", strict)
    replies = await chat.say("paspor saya hilang di terminal")
    assert all_text(replies) == content.t("fallback_suggest", "id")
    offered = [i for i in option_ids(replies) if i.startswith("t:")]
    assert 1 <= len(offered) <= 2 and offered[0] == "t:paspor-hilang"


async def test_a_neighbouring_service_gets_its_redirect_with_placeholders_filled(
    chat: Chat, content: Content
) -> None:
    replies = await chat.say("perpanjang sim dimana ya")
    assert option_ids(replies) == ["m"]
    text = all_text(replies)
    assert text.startswith("Ini bukan layanan imigrasi.") and "Satpas" in text
    assert "{" not in text and "Mal Pelayanan Publik" in text


async def test_a_second_question_is_offered_as_the_first_button(
    chat: Chat, content: Content
) -> None:
    replies = await chat.say(
        "paspor saya hilang gimana ngurusnya? terus kantornya buka jam berapa?"
    )
    assert content.topics["paspor-hilang"].title.id in all_text(replies)
    assert replies[-1].options[0].id == "t:jam-layanan"
    assert [o.id for o in replies[-1].options].count("t:jam-layanan") == 1
