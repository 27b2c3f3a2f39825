"""The reader in a real browser (Debian's chromium, driven by Playwright)
against a real server and the real worker, with the stub providers: what a
learner does, step by step, and what they see."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from news.models import DigestItem, DigestSentence, DigestToken, DigestTranslation

from .browser import ARTIFACTS, PHONE, PageProblems, Traffic
from tests.support.factories import make_digest, make_news_item, make_news_source

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-passphrase"
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"


def open_reader(browser: Browser, base: str) -> tuple[Page, PageProblems]:
    page = browser.new_page(viewport=PHONE, base_url=base)
    problems = PageProblems(page)
    page.goto("/")
    return page, problems


def register(page: Page, username: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Your stories")).to_be_visible()


def test_a_learner_signs_up_sees_their_stories_and_signs_out(reader_server, browser):
    # Access tokens good for a minute: the reader refreshes them before then.
    server = reader_server(JWT_ACCESS_MINUTES="1")
    page, problems = open_reader(browser, server.base)
    traffic = Traffic(page)
    expect(page).to_have_title(re.compile("langlearn"))
    register(page, "lucia")
    expect(page.get_by_role("list", name="Your stories")).to_contain_text("No stories yet")
    with page.expect_response(re.compile(r"/api/auth/token/refresh$"), timeout=20_000) as refreshed:
        pass
    assert refreshed.value.status == 200
    traffic.tokens.update(refreshed.value.json().values())
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reviews").click()
    expect(page.get_by_text("Nothing is due now.")).to_be_visible()
    assert len(traffic.tokens) >= 4  # the first pair, and the pair it was refreshed for

    refresh = page.evaluate("sessionStorage.getItem('langlearn.refresh')")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.get_by_role("link", name="Reviews")).to_be_hidden()
    # Nothing of the session is left in the tab, and its refresh token is revoked.
    assert page.evaluate("sessionStorage.length") == 0
    assert page.evaluate("localStorage.getItem('langlearn.refresh')") is None
    revoked = page.request.post("/api/auth/token/refresh", data={"refresh": refresh})
    assert revoked.status == 401

    page.get_by_label("Username").fill("LUCIA")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your stories")).to_be_visible()
    # A reload keeps the learner signed in (the tab's refresh token).
    page.reload()
    expect(page.get_by_role("heading", name="Your stories")).to_be_visible()
    assert "token" not in page.url
    assert problems.errors == []
    # No token in a URL, nor in the server's log.
    server.stop()
    for token in traffic.tokens:
        assert not [url for url in traffic.urls if token in url]
        assert token not in server.process.output()


def test_a_wrong_password_and_a_server_that_is_down_are_said_plainly(reader_server, browser):
    server = reader_server()
    page, problems = open_reader(browser, server.base)
    register(page, "mateo")
    page.get_by_role("button", name="Sign out").click()

    page.get_by_label("Username").fill("mateo")
    page.get_by_label("Password").fill("not-the-passphrase")
    page.get_by_role("button", name="Sign in").click()
    # The API's own words.
    expect(page.get_by_role("alert")).to_have_text(
        "No active account found with the given credentials"
    )

    page.get_by_label("Username").fill("someone-new")
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert")).to_contain_text("password: This password is too short")

    server.stop()
    page.get_by_label("Username").fill("mateo")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text(
        "The server cannot be reached. Check your connection, then try again."
    )
    assert problems.errors == []


def serious_accessibility_problems(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now.
    Evaluated through the DevTools protocol, which the page's CSP does not
    govern (a script tag would be refused, rightly)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    result = page.evaluate(
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' '))})))"
    )
    return [
        json.dumps(violation)
        for violation in result
        if violation["impact"] in {"serious", "critical"}
    ]


def test_a_learner_reads_listens_chooses_reviews_and_sees_their_progress(
    reader_server, start_worker, browser
):
    # The writer takes a few seconds, so the learner sees the passage being
    # written; meanwhile the events stream closes every second and its ticket
    # no longer opens a new stream after a second, so the reader must
    # reconnect, as after a network drop or a deploy: EventSource's own
    # reconnects, which the one ticket serves (decision 0013).
    worker = start_worker(STUB_LATENCY_MS="generate=3000")
    server = reader_server(
        EVENTS_STREAM_SECONDS="1", EVENTS_TICKET_SECONDS="1", EVENTS_RETRY_MS="100"
    )
    page, problems = open_reader(browser, server.base)
    traffic = Traffic(page)
    assert serious_accessibility_problems(page) == []
    register(page, "valentina")

    # Start a Spanish A2 story; the first passage arrives live.
    page.get_by_label("Language").select_option("es")
    page.get_by_label("Level").select_option("A2")
    page.get_by_label("Theme").fill("the sea")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("region", name="The next passage")).to_be_visible()
    expect(page.get_by_role("button", name="Play sentence 1")).to_be_visible(timeout=60_000)
    expect(page.get_by_role("heading", level=2)).to_have_text("El faro del acantilado")
    figures = page.get_by_role("list", name="This passage")
    expect(figures).to_contain_text("Level A2")
    expect(figures).to_contain_text("You know 0% of its words")
    # Words above the level are marked (wavy underline), every word is new.
    expect(page.locator("button.w.above", has_text="pescadores")).to_have_count(1)
    expect(page.locator("button.w.s-new").first).to_be_visible()

    # The translation of a sentence, on tap.
    translation = page.get_by_text("It is a cold morning in a small fishing village.")
    expect(translation).to_be_hidden()
    page.get_by_role("button", name="Translation of sentence 1").click()
    expect(translation).to_be_visible()

    # Tap a word: its lemma and part of speech; save it.
    page.locator("button.w", has_text="pescadores").click()
    panel = page.get_by_role("region", name="Word")
    expect(panel).to_contain_text("pescadores — pescador")
    expect(panel).to_contain_text("noun")
    expect(panel.get_by_role("button", name="New")).to_have_attribute("aria-pressed", "true")
    assert serious_accessibility_problems(page) == []
    panel.get_by_role("button", name="Learning").click()
    expect(panel.get_by_role("button", name="Learning")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("button.w.s-learning", has_text="pescadores")).to_have_count(1)
    # ... and another as known, in one tap: the figures follow.
    page.locator("button.w", has_text="mañana").click()
    panel.get_by_role("button", name="Known").click()
    expect(page.locator("button.w.s-known", has_text="mañana")).to_have_count(1)
    expect(figures).not_to_contain_text("You know 0%")
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()

    # Listen: the highlight follows the audio from sentence to sentence.
    page.get_by_role("button", name="Play", exact=True).click()
    now = page.locator(".sentence.current")
    expect(now).to_have_attribute("data-index", "0")
    expect(now).to_have_attribute("data-index", "1", timeout=15_000)
    page.get_by_role("button", name="Pause").click()
    # A sentence heard again on its own.
    page.get_by_role("button", name="Play sentence 3").click()
    expect(now).to_have_attribute("data-index", "2", timeout=15_000)
    expect(page.get_by_label("Speed")).to_be_visible()
    page.get_by_label("Speed").select_option("0.7")
    assert page.evaluate("document.querySelector('audio').playbackRate") == 0.7

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / "reader-phone.png")

    # Choose; the next passage arrives live, without a reload.
    page.evaluate("window.sameDocument = true")
    streams, tickets = traffic.count(r"/events\?"), traffic.count(r"/events/ticket$")
    page.get_by_role("button", name=re.compile("Preguntar a los pescadores")).click()
    expect(page.get_by_role("region", name="The next passage")).to_be_visible()
    assert serious_accessibility_problems(page) == []
    expect(page.get_by_role("button", name="Play sentence 1")).to_be_visible(timeout=60_000)
    assert page.evaluate("window.sameDocument") is True
    # It came over the stream, reconnected, not by polling.
    assert traffic.count(r"/events\?") - streams >= 2
    assert traffic.count(r"/events/ticket$") - tickets >= 1
    assert traffic.count(r"/entries/[-0-9a-f]+$") <= 8
    expect(page.get_by_text("passage 2 of 2")).to_be_visible()
    # Written around the saved word, which is marked as a review word.
    expect(page.get_by_role("list", name="This passage")).to_contain_text("Review: pescador")
    expect(page.locator("button.w.review").first).to_be_visible()
    new_words = page.locator("button.w.s-new")
    before = new_words.count()
    page.get_by_role("button", name="Mark the rest as known").click()
    # Every content word is known now, but the one being learnt.
    figures = page.get_by_role("list", name="This passage")
    no_new_words = figures.get_by_role("listitem").filter(has_text=re.compile(r"^0 new words$"))
    expect(no_new_words).to_be_visible()
    assert new_words.count() < before / 10
    expect(page.locator("button.w.s-learning").first).to_be_visible()

    # Review the saved word, by keyboard.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reviews").click()
    card = page.locator(".review")
    expect(card).to_contain_text("pescador")
    assert serious_accessibility_problems(page) == []
    page.keyboard.press("Space")
    expect(card.get_by_role("button", name="Good (3)")).to_be_visible()
    page.keyboard.press("3")
    expect(card).to_contain_text("Done: 1 reviewed")

    # Progress, and the words exported for Anki.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Progress").click()
    figure = page.locator(".figure")
    expect(figure.filter(has_text="Learning")).to_contain_text("1")
    expect(figure.filter(has_text="Reviews today")).to_contain_text("1")
    expect(figure.filter(has_text="Streak")).to_contain_text("1 day")
    expect(figure.filter(has_text="Passages read")).not_to_contain_text("0")
    assert serious_accessibility_problems(page) == []
    with page.expect_download() as download:
        page.get_by_role("button", name="Anki deck (.apkg)").click()
    assert download.value.suggested_filename == "langlearn-words-es.apkg"
    assert download.value.path().read_bytes()[:2] == b"PK"  # a zip, as .apkg files are

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert page.evaluate("sessionStorage.length") == 0
    assert problems.errors == []
    assert worker.running()


def test_a_passage_that_could_not_be_written_says_so_and_can_be_tried_again(
    reader_server, start_worker, browser
):
    start_worker(STUB_FAULTS="generate=1:permanent")
    server = reader_server()
    page, problems = open_reader(browser, server.base)
    register(page, "ines")
    page.get_by_role("button", name="Start").click()
    # The API's message for the learner, as the entry carries it.
    expect(page.get_by_role("alert")).to_have_text(
        "We could not write this part of the story. Please try again in a moment.",
        timeout=60_000,
    )
    page.get_by_role("button", name="Try again").click()
    expect(page.get_by_role("button", name="Play sentence 1")).to_be_visible(timeout=60_000)
    expect(page.get_by_role("alert")).to_have_count(0)

    # The story is in the learner's list, to continue.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Stories").click()
    expect(page.get_by_role("link", name="El faro del acantilado")).to_be_visible()
    assert serious_accessibility_problems(page) == []
    page.get_by_role("link", name="El faro del acantilado").click()
    expect(page.get_by_text("passage 1 of 1")).to_be_visible()
    expect(page.get_by_role("heading", name="What do you do?")).to_be_visible()
    assert problems.errors == []


@pytest.fixture
def news_digest() -> str:
    """Last night's A2 digest in Spanish, as the worker leaves it (without its
    audio): its sentences, their English translations, its tokens, a source."""
    digest = make_digest(title="El faro vuelve a brillar", text=DIGEST_TEXT)
    sentence = DigestSentence.objects.create(digest=digest, index=0, text=DIGEST_TEXT)
    DigestTranslation.objects.create(
        sentence=sentence, language="en", text="The lighthouse shines again in the village."
    )
    words = [
        ("El", "el", "DET"),
        ("faro", "faro", "NOUN"),
        ("vuelve", "volver", "VERB"),
        ("a", "a", "ADP"),
        ("brillar", "brillar", "VERB"),
        ("en", "en", "ADP"),
        ("el", "el", "DET"),
        ("pueblo", "pueblo", "NOUN"),
        (".", ".", "PUNCT"),
    ]
    for index, (text, lemma, pos) in enumerate(words):
        DigestToken.objects.create(
            digest=digest, index=index, sentence=0, text=text, lemma=lemma, pos=pos
        )
    item = make_news_item(make_news_source(), headline="El faro vuelve a brillar")
    DigestItem.objects.create(digest=digest, item=item, index=0)
    return digest.title


DIGEST_TEXT = "El faro vuelve a brillar en el pueblo."


def test_a_learner_reads_the_news_digest_of_their_language_and_level(
    reader_server, news_digest, browser
):
    server = reader_server()
    page, problems = open_reader(browser, server.base)
    register(page, "nora")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="News").click()
    expect(page.get_by_text("Daily readings of the news in Spanish at A2.")).to_be_visible()
    page.get_by_role("link", name=news_digest).click()
    expect(page.get_by_role("heading", level=2)).to_have_text(news_digest)
    expect(page.get_by_text("No audio for this passage yet.")).to_be_visible()
    page.get_by_role("button", name="Translation of sentence 1").click()
    expect(page.get_by_text("The lighthouse shines again in the village.")).to_be_visible()
    expect(page.get_by_role("region", name="Sources")).to_contain_text("El faro vuelve a brillar")

    # By keyboard: the passage is one tab stop, arrows move between its words.
    page.get_by_role("button", name="Translation of sentence 1").focus()
    page.keyboard.press("Shift+Tab")
    passage = page.locator(".passage")
    expect(passage.get_by_role("button", name="El", exact=True)).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(passage.get_by_role("button", name="faro", exact=True)).to_be_focused()
    page.keyboard.press("Enter")
    panel = page.get_by_role("region", name="Word")
    expect(panel.get_by_role("button", name="New")).to_be_focused()
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(passage.get_by_role("button", name="faro", exact=True)).to_be_focused()

    # A word of the news is saved like a word of a story (by its lemma).
    page.locator("button.w", has_text="faro").click()
    expect(panel).to_contain_text("faro — faro")
    panel.get_by_role("button", name="Learning").click()
    expect(page.locator("button.w.s-learning", has_text="faro")).to_have_count(1)
    assert serious_accessibility_problems(page) == []
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Progress").click()
    expect(page.locator(".figure").filter(has_text="Learning")).to_contain_text("1")
    assert problems.errors == []
