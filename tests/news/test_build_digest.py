"""``manage.py build_digest``: dry run, a build, exit status, bad arguments."""

from __future__ import annotations

import datetime
import io
import json
import subprocess
import sys
from collections.abc import Iterator

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from langlearn.provider_settings import Fault
from news.models import Digest, NewsSource
from news.tasks import nightly_digest
from outbound import factory

from tests.support.factories import make_news_source
from tests.support.fakes.feeds import FeedServer
from tests.support.processes import ROOT, subprocess_env

pytestmark = pytest.mark.django_db

DAY = "2025-01-06"  # the day of the items the fake feeds serve


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("build_digest", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def feeds(settings) -> Iterator[FeedServer]:
    settings.NEWS_ALLOW_PRIVATE_HOSTS = True
    with FeedServer() as server:
        yield server


@pytest.fixture
def sources(feeds) -> list[NewsSource]:
    return [
        make_news_source(url=feeds.url + "/rss", language="es"),
        make_news_source(url=feeds.url + "/atom", language="fr"),
    ]


def test_dry_run_lists_sources_and_digests_and_changes_nothing(sources):
    out = run("--date", DAY, "--language", "es", "--dry-run")
    assert "Dry run: 2 sources would be fetched." in out
    assert f"#{sources[0].id} {sources[0].url} (es)" in out
    assert "News of 2025-01-06: 0 items stored so far" in out
    assert "es A1: would be made" in out
    assert "es C2: would be made" in out
    assert "fr A1" not in out
    assert not Digest.objects.exists()
    assert NewsSource.objects.filter(last_fetched_at__isnull=False).count() == 0


def test_builds_the_days_digests_then_leaves_them_alone(sources):
    out = run("--date", DAY, "--language", "es", "--level", "A2")
    assert "Fetched 2 of 2 sources: 4 new items." in out
    assert "News of 2025-01-06: 4 items." in out
    digest = Digest.objects.get()
    assert f"es A2: complete (#{digest.id})" in out
    assert digest.citations.count() == 3

    report = json.loads(run("--date", DAY, "--language", "es", "--level", "A2", "--json"))
    assert report["digests"] == [
        {"id": digest.id, "language": "es", "level": "A2", "status": "complete", "error": ""}
    ]
    dry = run("--date", DAY, "--language", "es", "--level", "A2", "--dry-run")
    assert f"es A2: complete (#{digest.id}), left as it is" in dry


def test_a_failed_digest_is_reported_and_resumed_by_the_next_run(sources, settings):
    settings.STUB_FAULTS = {"voice": Fault(transient=False, probability=1.0)}
    factory.reset()
    with pytest.raises(CommandError, match="1 of 1 digests are not complete"):
        run("--date", DAY, "--language", "es", "--level", "B1")
    digest = Digest.objects.get()
    assert digest.status == Digest.Status.ERROR
    assert "injected fault" in digest.error_detail

    settings.STUB_FAULTS = {}
    factory.reset()
    assert "es B1: complete" in run("--date", DAY, "--language", "es", "--level", "B1")


def test_no_news_that_day_is_refused(sources):
    with pytest.raises(CommandError, match=r"No news items for 2024-12-31; no digest made\."):
        run("--date", "2024-12-31")
    assert not Digest.objects.exists()


@pytest.mark.slow
def test_exit_status_for_bad_arguments(tmp_path):
    def status(*args: str) -> tuple[int, str]:
        done = subprocess.run(
            [sys.executable, "manage.py", "build_digest", *args],
            cwd=ROOT,
            env=subprocess_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=120,
        )
        return done.returncode, done.stderr

    code, err = status("--date", "2025-13-01", "--dry-run")
    assert code == 2
    assert "'2025-13-01' is not a date; use YYYY-MM-DD" in err
    code, err = status("--language", "ja", "--dry-run")
    assert code == 2
    assert "invalid choice: 'ja'" in err
    assert status("--level", "D1", "--dry-run")[0] == 2
    assert status("--dry-run", "--date", "2025-01-06")[0] == 0


@pytest.fixture(autouse=True)
def _no_faults(settings) -> None:
    settings.STUB_FAULTS = {}


def test_queue_status_shows_the_next_and_last_digest_run(sources):
    def status() -> str:
        out = io.StringIO()
        call_command("queue_status", stdout=out)
        return out.getvalue()

    assert "last run: never" in status()
    tick = int(datetime.datetime(2025, 1, 7, 2, tzinfo=datetime.UTC).timestamp())
    job_id = nightly_digest.defer(timestamp=tick)
    run("--date", DAY, "--language", "es", "--level", "A2")

    out = status()
    assert "News digest: next run " in out
    assert "(cron 0 2 * * *, UTC)" in out
    assert f"last run: job {job_id} todo, tick 2025-01-07T02:00:00+00:00, news of 2025-01-06" in out
    assert "newest digests: 2025-01-06: complete 1" in out

    out = io.StringIO()
    call_command("queue_status", "--json", stdout=out)
    digest = json.loads(out.getvalue())["digest"]
    following = datetime.datetime.fromisoformat(digest["next_run"])
    assert (following.hour, following.minute) == (2, 0)
    assert datetime.timedelta(0) < following - timezone.now() <= datetime.timedelta(days=1)
    assert digest["last_run"]["job_id"] == job_id
