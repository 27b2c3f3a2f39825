"""The reader in a real browser (Debian's chromium, driven by Playwright)
against a real server and the real worker, with the stub providers: what a
learner does, step by step, and what they see."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from .browser import PHONE, PageProblems

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-passphrase"


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


def test_a_learner_signs_up_sees_their_stories_and_signs_out(browser, reader_server):
    server = reader_server()
    page, problems = open_reader(browser, server.base)
    expect(page).to_have_title(re.compile("langlearn"))
    register(page, "lucia")
    expect(page.get_by_role("list", name="Your stories")).to_contain_text("No stories yet")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.get_by_role("link", name="Reviews")).to_be_hidden()
    # Nothing of the session is left in the tab.
    assert page.evaluate("sessionStorage.length") == 0
    assert page.evaluate("localStorage.getItem('langlearn.refresh')") is None

    page.get_by_label("Username").fill("LUCIA")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your stories")).to_be_visible()
    # A reload keeps the learner signed in (the tab's refresh token).
    page.reload()
    expect(page.get_by_role("heading", name="Your stories")).to_be_visible()
    assert "token" not in page.url
    assert problems.errors == []


def test_a_wrong_password_and_a_server_that_is_down_are_said_plainly(browser, reader_server):
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
