"""Live status in a real browser: Debian's Chromium, driven by Playwright, runs
the browser code of docs/walkthrough.md ("In a browser") against gunicorn and a
real worker. The times are shortened by settings: a ticket opens a stream for
2 s (``EVENTS_TICKET_SECONDS``; signed tickets carry whole seconds, so a 1 s
window could close before the first connection) and a stream closes after 2 s
(``EVENTS_STREAM_SECONDS``), so EventSource reconnects again and again past its
ticket's first window, as it would after a minute or the 30-minute cap."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.processes import ROOT, wait_for
from tests.support.server import asgi_server, call

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ENV = {
    "STORY_LENGTH": "2",
    "EVENTS_TICKET_SECONDS": "2",
    "EVENTS_STREAM_SECONDS": "2",
    "EVENTS_RETRY_MS": "100",
    "EVENTS_HEARTBEAT_SECONDS": "0.5",
}

# Counts what the page does around the documented code: tickets asked for,
# EventSources made, connections opened.
HARNESS = """
window.record = { statuses: [], ended: null, refused: [], tickets: 0, sources: 0, opens: 0 };
const fetchBefore = window.fetch;
window.fetch = (...args) => {
  if (String(args[0]).endsWith("/events/ticket")) window.record.tickets += 1;
  return fetchBefore(...args);
};
const Native = window.EventSource;
window.NativeEventSource = Native;
window.EventSource = class extends Native {
  constructor(...args) {
    super(...args);
    window.record.sources += 1;
    this.addEventListener("open", () => { window.record.opens += 1; });
  }
};
window.follow = (adventureId, token) => followAdventure(adventureId, () => token, {
  onStatus: (status) => window.record.statuses.push(status),
  onEnd: (end) => { window.record.ended = end; },
  onRefused: (status) => window.record.refused.push(status),
});
"""


def documented_code() -> str:
    text = (ROOT / "docs" / "walkthrough.md").read_text()
    section = text[text.index("### In a browser") :]
    match = re.search(r"```js\n(.*?)```", section, re.S)
    assert match, "docs/walkthrough.md has no browser code under 'In a browser'"
    return match[1]


@pytest.fixture
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


def sign_up(base: str, username: str) -> str:
    credentials = {"username": username, "password": "a-long-passphrase"}
    assert call(base, "POST", "/api/auth/register", credentials)[0] == 201
    status, pair = call(base, "POST", "/api/auth/token", credentials)
    assert status == 200
    return pair["access"]


def new_story(base: str, token: str) -> dict:
    status, adventure = call(base, "POST", "/api/adventures", {"target_language": "es"}, token)
    assert status == 201
    return adventure


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_a_browser_follows_a_story_live_across_reconnects_until_revoked(
    tmp_path, start_worker, browser
):
    worker = start_worker(**ENV)
    with asgi_server(tmp_path, **ENV) as (base, server):
        token = sign_up(base, "ana")
        story = new_story(base, token)
        page = browser.new_page()
        page.goto(f"{base}/healthz")  # the API's origin: EventSource is same-origin
        page.add_script_tag(content=documented_code() + HARNESS)
        page.evaluate(
            "([id, token]) => { window.stop = window.follow(id, token); }", [story["id"], token]
        )

        def record() -> dict:
            return page.evaluate("window.record")

        def statuses(position: int) -> list[str]:
            return [s["status"] for s in record()["statuses"] if s["position"] == position]

        # Replay and live events: the first passage from pending to complete.
        wait_for(lambda: "complete" in statuses(1), timeout=60, what="the first passage")
        assert statuses(1) == ["pending", "generating", "complete"]

        # Reconnects past the ticket's window: one ticket, one EventSource, new connections.
        wait_for(lambda: record()["opens"] >= 4, timeout=30, what="EventSource to reconnect")
        seen = record()
        assert (seen["tickets"], seen["sources"], seen["refused"]) == (1, 1, [])
        assert statuses(1) == ["pending", "generating", "complete"]  # nothing twice

        # The story goes on: its last passage arrives live, then the end.
        status, entry = call(
            base,
            "GET",
            f"/api/adventures/{story['id']}/entries/{story['entries'][0]['id']}",
            None,
            token,
        )
        assert status == 200
        status, _ = call(
            base,
            "POST",
            f"/api/adventures/{story['id']}/decisions",
            {"entry_id": entry["id"], "choice_id": entry["choices"][0]["id"]},
            token,
        )
        assert status == 201
        wait_for(lambda: record()["ended"], timeout=60, what="the end event")
        assert statuses(2) == ["pending", "generating", "complete"]
        assert record()["ended"] == {"adventure_status": "completed"}
        assert page.evaluate("window.record.tickets") == 1

        # A forged ticket: refused, and EventSource gives up.
        forged = page.evaluate(
            """async (id) => {
                const url = `/api/adventures/${id}/events?ticket=forged`;
                const answer = await fetch(url, { headers: { "Last-Event-ID": "1" } });
                const source = new window.NativeEventSource(url);
                await new Promise((done) => { source.onerror = done; });
                return [answer.status, (await answer.json()).code, source.readyState];
            }""",
            story["id"],
        )
        assert forged == [401, "ticket_invalid", 2]

        # A password change: the open stream's next reconnect is refused, and
        # the documented code's new ticket too (signed out: 401).
        second = new_story(base, token)
        page.evaluate(
            "window.record = { ...window.record, statuses: [], tickets: 0, sources: 0, opens: 0 }"
        )
        page.evaluate(
            "([id, token]) => { window.stop = window.follow(id, token); }", [second["id"], token]
        )
        wait_for(lambda: record()["opens"] >= 1, timeout=30, what="the second stream")
        status, _ = call(
            base,
            "POST",
            "/api/auth/password",
            {"old_password": "a-long-passphrase", "new_password": "another-long-passphrase"},
            token,
        )
        assert status == 200
        wait_for(lambda: record()["refused"], timeout=30, what="the revoked ticket to be refused")
        assert record()["refused"] == [401]
        assert record()["tickets"] == 2  # the first, and the one refused after the revocation
        page.close()

        log = server.output()
    assert "GET /api/adventures/" in log  # the access log has the stream's requests...
    assert "ticket=" not in log  # ...without their tickets,
    assert token not in log  # nor the bearer token
    assert worker.running()
