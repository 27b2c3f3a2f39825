"""``manage.py fetch_news``: output per source, --json, --dry-run, exit status."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from news.models import NewsSource

from tests.support.factories import make_news_source
from tests.support.fakes.feeds import FeedServer, closed_port_url
from tests.support.processes import ROOT, subprocess_env

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("fetch_news", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def feeds(settings) -> Iterator[FeedServer]:
    settings.NEWS_ALLOW_PRIVATE_HOSTS = True
    with FeedServer() as server:
        yield server


@pytest.fixture
def three(feeds) -> list[NewsSource]:
    return [
        make_news_source(url=feeds.url + "/rss", language="es"),
        make_news_source(url=feeds.url + "/malformed", language="fr"),
        make_news_source(url=feeds.url + "/atom", language="fr", enabled=False),
    ]


def test_prints_new_and_seen_per_source_or_its_error(three):
    rss, malformed, disabled = three
    first = run()
    assert f"#{rss.id} {rss.url} (es): 2 new, 0 seen" in first
    assert f"#{malformed.id} {malformed.url} (fr): error: malformed feed: " in first
    assert f"#{disabled.id}" not in first  # disabled: not fetched
    assert "Fetched 1 of 2 sources: 2 new items, 0 already seen." in first

    again = run()
    assert f"#{rss.id} {rss.url} (es): 0 new, 2 seen" in again


def test_json_and_one_source_even_when_disabled(three):
    disabled = three[2]
    report = json.loads(run("--json", "--source", str(disabled.id)))
    assert report == {
        "dry_run": False,
        "sources": [
            {
                "id": disabled.id,
                "url": disabled.url,
                "language": "fr",
                "status": "ok",
                "new": 2,
                "seen": 0,
                "error": "",
            }
        ],
        "new": 2,
        "seen": 0,
        "failed": 0,
    }

    gone = make_news_source(url=closed_port_url())
    [failed] = json.loads(run("--json", "--source", str(gone.id)))["sources"]
    assert failed["status"] == "error"
    assert failed["error"].startswith("cannot fetch 127.0.0.1: ")


def test_dry_run_lists_the_sources_and_fetches_nothing(three, feeds):
    out = run("--dry-run")
    assert "Dry run: 2 sources would be fetched." in out
    assert f"#{three[0].id} {three[0].url} (es), last fetch: never" in out
    report = json.loads(run("--dry-run", "--json"))
    assert [row["id"] for row in report["would_fetch"]] == [three[0].id, three[1].id]
    assert feeds.requests == []
    assert not NewsSource.objects.exclude(last_fetch_status="never").exists()


def test_nothing_to_fetch_and_an_unknown_source(db):
    assert run() == "No enabled news sources; nothing to fetch.\n"
    with pytest.raises(CommandError, match=r"No news source with id 404\."):
        run("--source", "404")


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_exit_status_of_the_real_command(tmp_path: Path):
    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", "fetch_news", *args],
            cwd=ROOT,
            env=subprocess_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
        )

    done = manage("--dry-run", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"dry_run": True, "would_fetch": []}

    unknown = manage("--source", "404")
    assert unknown.returncode == 1
    assert "CommandError: No news source with id 404." in unknown.stderr
    assert "Traceback" not in unknown.stderr

    usage = manage("--source", "the-port")
    assert usage.returncode == 2
    assert "argument --source: invalid int value: 'the-port'" in usage.stderr
