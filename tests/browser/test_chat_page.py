"""The web chat in a real browser (Chromium), as a citizen meets it on a desktop and a phone."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, Route, expect

from tests.browser.conftest import DESKTOP, PHONE, PageFactory, Servers, save_screenshot

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
API = "**/api/chat"
LAST_ITEM = "#log > .item:last-child"
# Where the first reply after the person's last message sits, and how the page is laid out.
LAYOUT = """() => {
  const mine = [...document.querySelectorAll('#log > .item.me')].pop();
  const reply = mine.nextElementSibling.getBoundingClientRect();
  const log = document.getElementById('log').getBoundingClientRect();
  const bar = document.getElementById('f').getBoundingClientRect();
  const send = document.getElementById('send').getBoundingClientRect();
  return {
    top: reply.top, logTop: log.top, barTop: bar.top, sendRight: send.right,
    pageScroll: document.scrollingElement.scrollHeight - innerHeight,
    overflowX: document.documentElement.scrollWidth - innerWidth, width: innerWidth,
  };
}"""


def open_chat(page: Page, url: str) -> Locator:
    """Open the page; the greeting, the first reply."""
    page.goto(url + "/")
    expect(page.locator("#log > .item.bot")).to_have_count(1)
    return page.locator("#log > .item.bot").first


def wait_reply(page: Page) -> Locator:
    """After something was sent (its echo is the last item): the last reply once it came."""
    expect(page.locator(LAST_ITEM)).to_have_class(re.compile(r"\bbot\b"))
    expect(page.locator("#q")).to_be_enabled()
    return page.locator(LAST_ITEM)


def say(page: Page, text: str) -> Locator:
    page.locator("#q").fill(text)
    page.locator("#q").press("Enter")
    return wait_reply(page)


def tap(page: Page, label: str) -> Locator:
    page.locator("#log button:enabled", has_text=label).first.click()
    return wait_reply(page)


def assert_reply_in_view(page: Page) -> dict[str, Any]:
    box = page.evaluate(LAYOUT)
    assert box["pageScroll"] <= 0, "the page itself scrolls: the log should"
    assert box["overflowX"] <= 0, "something is wider than the screen"
    assert box["sendRight"] <= box["width"], "the send button is off-screen"
    assert box["logTop"] - 1 <= box["top"], "the top of the new reply is above the log"
    assert box["top"] <= box["barTop"] - 48, "the new reply is hidden under the input bar"
    return box


def test_page_opens_with_one_heading_and_a_labelled_menu(page: Page, servers: Servers) -> None:
    greeting = open_chat(page, servers.chat)
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("html")).to_have_attribute("lang", "id")
    expect(greeting.locator("strong")).to_have_text("UKK Kota Probolinggo")
    menu = greeting.get_by_role("group", name="Pilihan")
    expect(menu.get_by_role("button", name="Paspor (WNI)")).to_be_enabled()
    expect(greeting.locator("time")).to_have_count(1)
    expect(page.locator("#log")).not_to_have_attribute("aria-live", re.compile("."))
    expect(page.locator("#announce")).to_contain_text("Halo!")


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_each_new_reply_opens_at_its_top_above_the_input_bar(
    open_page: PageFactory, servers: Servers, size: dict[str, int]
) -> None:
    page, _ = open_page(size)
    open_chat(page, servers.chat)
    tap(page, "Jam & lokasi")
    assert_reply_in_view(page)
    for question in ("syarat paspor baru", "antrian", "pengumuman"):
        say(page, question)
        assert_reply_in_view(page)
    say(page, "/bahasa")
    assert_reply_in_view(page)
    say(page, "Saya mau tanya soal " + "paspor" * 60)  # one long unbroken word
    assert_reply_in_view(page)
    say(page, "biaya paspor 10 tahun")
    box = assert_reply_in_view(page)
    name = "desktop" if size == DESKTOP else "phone"
    save_screenshot(page, f"chat-{name}")
    # A long answer opens at its title, not at its end.
    assert box["top"] - box["logTop"] < 40


def test_typed_questions_in_both_languages_get_formatted_answers(
    page: Page, servers: Servers
) -> None:
    open_chat(page, servers.chat)
    answer = say(page, "berapa biaya paspor baru")
    expect(answer.locator("strong").first).to_be_visible()
    expect(answer.locator("ul li").first).to_be_visible()
    expect(answer.get_by_role("group", name="Apakah jawaban ini membantu?")).to_be_visible()
    english = say(page, "how much does a new passport cost")
    expect(english.locator(".bubble")).to_contain_text("passport")
    expect(english.get_by_role("group", name="Was this answer helpful?")).to_be_visible()


def test_phone_numbers_and_links_are_tappable_without_punctuation(
    page: Page, servers: Servers
) -> None:
    open_chat(page, servers.chat)
    answer = say(page, "nomor wa kanim malang")
    expect(answer.locator('a[href^="tel:+62"]').first).to_be_visible()
    expect(answer.locator('a[href^="https://wa.me/62"]').first).to_be_visible()
    for href in answer.locator('a[href^="http"]').evaluate_all("l => l.map(a => a.href)"):
        assert not href.endswith((".", ",")), href


def test_a_used_option_is_disabled_and_a_double_click_sends_once(
    page: Page, servers: Servers
) -> None:
    open_chat(page, servers.chat)
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.url.endswith("/api/chat") else None)
    chosen = page.get_by_role("button", name="Jam & lokasi")
    chosen.dblclick()
    wait_reply(page)
    assert len(sent) == 1
    expect(chosen).to_be_disabled()
    expect(chosen).to_have_class(re.compile("chosen"))
    # Only the newest reply's buttons stay in the Tab order.
    newest = page.locator(LAST_ITEM).locator("button")
    expect(page.locator("#log button:enabled")).to_have_count(newest.count())


def test_one_vote_per_answer(page: Page, servers: Servers) -> None:
    open_chat(page, servers.chat)
    say(page, "syarat paspor anak")
    tap(page, "👍 Membantu")
    expect(page.get_by_role("button", name="👎 Kurang membantu")).to_be_disabled()
    # A second vote sent behind the page's back is refused by the server too.
    session = page.evaluate("JSON.parse(sessionStorage.getItem('ukk-chat')).session")
    vote = page.request.post(
        servers.chat + "/api/chat", data={"session": session, "action": "f:-:paspor-anak"}
    )
    assert "sudah menilai" in vote.json()["replies"][0]["text"]


def test_a_slow_reply_shows_typing_and_nothing_else_can_be_sent(
    page: Page, servers: Servers
) -> None:
    open_chat(page, servers.chat)
    held: list[Route] = []
    page.route(API, lambda route: held.append(route))
    with page.expect_request(API):
        page.locator("#q").fill("biaya paspor")
        page.locator("#q").press("Enter")
    page.evaluate("0")  # one round trip: the route handler has run
    assert len(held) == 1
    expect(page.locator("#typing")).to_be_visible()
    expect(page.locator("#q")).to_be_disabled()
    expect(page.locator("#send")).to_be_disabled()
    expect(page.locator("#log button:enabled")).to_have_count(0)
    held[0].continue_()
    reply = wait_reply(page)
    expect(page.locator("#typing")).to_be_hidden()
    expect(reply).to_contain_text("paspor")
    expect(page.locator("#q")).to_be_focused()
    assert len(held) == 1  # no second request went out while the first was pending


def test_network_failure_and_server_error_offer_a_retry(page: Page, servers: Servers) -> None:
    open_chat(page, servers.chat)
    page.route(API, lambda route: route.abort("failed"))
    page.locator("#q").fill("jam buka")
    page.locator("#q").press("Enter")
    failure = page.locator("#log > .item.error")
    expect(failure).to_contain_text("Gagal mengirim — coba lagi.")
    retry = failure.get_by_role("button", name="Coba lagi")
    expect(retry).to_be_focused()
    expect(page.locator("#q")).to_be_enabled()
    page.unroute(API)
    page.route(API, lambda route: route.fulfill(status=500, body="server error"))
    retry.click()
    expect(page.locator("#log > .item.error")).to_have_count(1)
    page.unroute(API)
    page.locator("#log > .item.error button").click()
    reply = wait_reply(page)
    expect(page.locator("#log > .item.error")).to_have_count(0)
    expect(reply).to_contain_text("08.00")


def test_a_reload_keeps_the_conversation(page: Page, servers: Servers) -> None:
    open_chat(page, servers.chat)
    tap(page, "Paspor (WNI)")
    say(page, "syarat paspor anak")
    before = page.locator("#log > .item").all_inner_texts()
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.url.endswith("/api/chat") else None)
    page.reload()
    expect(page.locator("#log > .item")).to_have_count(len(before))
    assert page.locator("#log > .item").all_inner_texts() == before
    assert sent == []  # history from the tab's storage, no new greeting
    expect(page.get_by_role("button", name="Paspor (WNI)")).to_be_disabled()
    expect(page.locator(LAST_ITEM).locator("button").first).to_be_enabled()


def test_choosing_english_switches_the_whole_interface(page: Page, servers: Servers) -> None:
    open_chat(page, servers.chat)
    tap(page, "Bahasa/Language")
    tap(page, "English")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("UKK Kota Probolinggo Information Assistant")
    expect(page.locator("#q")).to_have_attribute("placeholder", "Type your question…")
    expect(page.locator("#send")).to_have_text("Send")
    expect(page).to_have_title("UKK Kota Probolinggo Information Assistant")
    page.reload()
    expect(page.locator("#send")).to_have_text("Send")
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_text_over_the_limit_is_kept_and_explained(page: Page, servers: Servers) -> None:
    open_chat(page, servers.chat)
    text = "a" * 1005
    page.locator("#q").fill(text)
    expect(page.locator("#q")).to_have_value(text)
    expect(page.locator("#too-long")).to_contain_text("1005 dari paling banyak 1000")
    expect(page.locator("#send")).to_be_disabled()
    page.locator("#q").press("Enter")
    expect(page.locator("#log > .item.me")).to_have_count(0)
    page.locator("#q").fill("a" * 999)
    expect(page.locator("#too-long")).to_be_hidden()
    expect(page.locator("#send")).to_be_enabled()


def test_keyboard_only_use_moves_focus_to_the_new_reply(page: Page, servers: Servers) -> None:
    open_chat(page, servers.chat)
    expect(page.locator("#q")).to_be_focused()
    page.keyboard.press("Shift+Tab")  # the last button of the greeting
    expect(page.get_by_role("button", name="Hubungi petugas")).to_be_focused()
    page.get_by_role("button", name="Paspor (WNI)").focus()
    page.keyboard.press("Enter")
    category = wait_reply(page)
    expect(category.locator("button").first).to_be_focused()
    page.keyboard.press("Enter")
    topic = wait_reply(page)
    expect(topic.locator("button").first).to_be_focused()
    page.locator("#q").focus()
    page.keyboard.type("jam buka")
    page.keyboard.press("Enter")
    wait_reply(page)
    expect(page.locator("#q")).to_be_focused()


def test_a_whole_session_logs_no_errors(open_page: PageFactory, servers: Servers) -> None:
    page, problems = open_page()
    open_chat(page, servers.chat)
    tap(page, "Jam & lokasi")
    tap(page, "Lokasi")
    say(page, "syarat itas")
    tap(page, "👎")
    page.reload()
    expect(page.locator("#log > .item").first).to_be_visible()
    assert problems.errors == []


def test_no_accessibility_violations(open_page: PageFactory, servers: Servers) -> None:
    for size, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
        page, _ = open_page(size)
        open_chat(page, servers.chat)
        tap(page, "Paspor (WNI)")
        tap(page, "Paspor baru")
        say(page, "a" * 900)  # the counter shows
        page.locator("#q").fill("b" * 1001)  # and the over-limit message
        page.evaluate(AXE)
        violations = page.evaluate(
            """async () => (await axe.run(document, {runOnly: {type: 'tag',
                values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}}))
              .violations.map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' '))
              .slice(0, 3).join(', '))"""
        )
        assert violations == [], name


def test_the_embed_snippet_puts_a_launcher_on_another_site(
    open_page: PageFactory, servers: Servers
) -> None:
    page, problems = open_page(locale="en-GB")
    page.goto(servers.host.url + "/")
    launcher = page.get_by_role("button", name="Ask Immigration")
    expect(launcher).to_have_attribute("aria-expanded", "false")
    launcher.click()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    chat = page.frame_locator("#ukk-chat-frame")
    expect(chat.locator("#log > .item.bot")).to_have_count(1)
    expect(chat.locator("html")).to_have_attribute("lang", "en")
    chat.get_by_role("button", name="Passports (citizens)").click()
    expect(chat.locator("#log > .item.bot")).to_have_count(2)
    save_screenshot(page, "embed-desktop")
    chat.get_by_role("button", name="Close the chat").click()
    expect(page.locator("#ukk-chat-frame")).to_be_hidden()
    expect(launcher).to_be_focused()
    assert problems.errors == []
