"""The nightly digest on a real worker process: the deferred tick fetches the
feeds (served from 127.0.0.1), makes the day's digest and builds it; a provider
failure mid-digest ends in ``error``, a staff re-run resumes it without
writing it again, and a second run of the night changes nothing."""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from procrastinate.contrib.django.models import ProcrastinateJob

from news.digests import digests_rerun
from news.models import Digest, NewsItem
from news.tasks import nightly_digest

from tests.support.factories import make_news_source
from tests.support.fakes.feeds import FeedServer
from tests.support.processes import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

TICK = int(datetime.datetime(2025, 1, 7, 2, 0, tzinfo=datetime.UTC).timestamp())
WORKER_ENV = {
    "NEWS_ALLOW_PRIVATE_HOSTS": "true",
    "DIGEST_LANGUAGES": "es",
    "DIGEST_LEVELS": "A2",
    "PROVIDER_RETRY_TRIES": "1",
    "PIPELINE_MAX_ATTEMPTS": "2",
    "PIPELINE_RETRY_WAIT_MIN": "0.05",
    "PIPELINE_RETRY_JITTER": "0.05",
    "WORKER_POLLING_INTERVAL": "0.2",
}


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    with FeedServer() as server:
        yield server


def calls(log: Path) -> Counter[str]:
    return Counter(log.read_text().split()) if log.exists() else Counter()


def digest_reaches(status: str, worker) -> Digest:
    def reached() -> Digest | None:
        digest = Digest.objects.filter(date=datetime.date(2025, 1, 6)).first()
        return digest if digest is not None and digest.status == status else None

    try:
        return wait_for(reached, timeout=60, what=f"the digest to be {status}")
    except BaseException:
        print(worker.output())
        raise


def night_ends(worker) -> None:
    def done() -> bool:
        jobs = ProcrastinateJob.objects.filter(task_name="news.nightly_digest")
        return jobs.exists() and not jobs.exclude(status="succeeded").exists()

    try:
        wait_for(done, timeout=60, what="the nightly job to succeed")
    except BaseException:
        print(worker.output())
        raise


@pytest.mark.slow
def test_the_night_fetches_builds_and_resumes_after_a_failure(start_worker, feeds, tmp_path):
    make_news_source(url=feeds.url + "/rss", language="es")
    make_news_source(url=feeds.url + "/atom", language="fr")
    log = tmp_path / "calls.log"
    worker = start_worker(STUB_FAULTS="voice=1:permanent", STUB_CALL_LOG=str(log), **WORKER_ENV)

    nightly_digest.defer(timestamp=TICK)  # as the periodic deferrer does at 02:00
    failed = digest_reaches("error", worker)
    assert NewsItem.objects.count() == 4  # both feeds fetched by the nightly job
    assert "stub-voice" in failed.error_detail
    assert failed.generated_at is not None
    assert failed.citations.count() == 3

    assert digests_rerun(digest_ids=[failed.id]).requeued == [failed.id]
    complete = digest_reaches("complete", worker)
    assert complete.audio.duration_ms > 0
    assert calls(log)["generate"] == 1  # the LLM was paid once
    night_ends(worker)

    # The same night again (a second worker, a re-deferred tick): one digest, unchanged.
    nightly_digest.defer(timestamp=TICK)
    night_ends(worker)
    assert Digest.objects.count() == 1
    assert Digest.objects.get().completed_at == complete.completed_at
    assert calls(log)["generate"] == 1
