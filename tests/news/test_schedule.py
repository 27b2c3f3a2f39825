"""The nightly digest on Procrastinate's periodic deferrer, driven with a
controlled clock (its ``get_previous_tasks(at=…)``), as a worker's deferrer
calls it when it starts and on each tick."""

from __future__ import annotations

import datetime

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from procrastinate.contrib.django import procrastinate_app
from procrastinate.contrib.django.models import ProcrastinateJob
from procrastinate.periodic import MAX_DELAY, PeriodicDeferrer

from news.tasks import NIGHTLY_PERIODIC_ID, news_date


def at(hour: int, minute: int = 0, day: int = 7) -> float:
    return datetime.datetime(2025, 1, day, hour, minute, tzinfo=datetime.UTC).timestamp()


def deferrer(**options) -> PeriodicDeferrer:
    """A worker's periodic deferrer, as it is built when the worker starts."""
    app = procrastinate_app.current_app
    return PeriodicDeferrer(registry=app.periodic_registry, **{**app.periodic_defaults, **options})


def nightly(deferrer: PeriodicDeferrer, *, now: float) -> list[int]:
    """The ticks of the nightly digest the deferrer would defer at ``now``."""
    return [
        timestamp
        for task, timestamp in deferrer.get_previous_tasks(at=now)
        if task.periodic_id == NIGHTLY_PERIODIC_ID
    ]


def test_the_nightly_digest_is_registered_on_the_worker_with_its_cron_and_queue():
    app = procrastinate_app.current_app
    periodic = app.periodic_registry.periodic_tasks[("news.nightly_digest", NIGHTLY_PERIODIC_ID)]
    assert periodic.cron == settings.DIGEST_CRON == "0 2 * * *"
    assert periodic.task.queue == settings.MAINTENANCE_QUEUE
    assert settings.MAINTENANCE_QUEUE in settings.PROCRASTINATE_WORKER_DEFAULTS["queues"]
    assert app.tasks["news.build_digest"].queue == settings.PIPELINE_QUEUE
    assert app.periodic_defaults["max_delay"] == 24 * 3600


def test_a_worker_down_from_one_to_nine_still_runs_the_night_once_when_it_is_back():
    # The worker comes back at 09:00: the 02:00 tick is 7 hours old.
    assert nightly(deferrer(), now=at(9)) == [int(at(2))]
    # With Procrastinate's default max_delay (10 minutes) that night is lost.
    assert MAX_DELAY == 600
    assert nightly(deferrer(max_delay=MAX_DELAY), now=at(9)) == []
    # It digests the day before the tick.
    assert news_date(int(at(2))) == datetime.date(2025, 1, 6)


def test_a_running_deferrer_defers_each_night_once():
    running = deferrer()
    assert nightly(running, now=at(2, 0, day=7) + 1) == [int(at(2, day=7))]
    assert nightly(running, now=at(23, day=7)) == []
    assert nightly(running, now=at(2, 0, day=8) + 1) == [int(at(2, day=8))]


@pytest.mark.django_db
def test_the_missed_night_is_deferred_once_however_many_workers_come_back():
    for _ in range(3):  # three workers start after the downtime, one after another
        starting = deferrer()
        ticks = [
            (task, ts)
            for task, ts in starting.get_previous_tasks(at=at(9))
            if task.periodic_id == NIGHTLY_PERIODIC_ID
        ]
        async_to_sync(starting.defer_jobs)(ticks)

    [job] = ProcrastinateJob.objects.filter(task_name="news.nightly_digest")
    assert job.args == {"timestamp": int(at(2))}
    assert job.queue_name == settings.MAINTENANCE_QUEUE
    assert job.status == "todo"
