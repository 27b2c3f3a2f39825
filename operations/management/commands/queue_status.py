"""``manage.py queue_status``: the job queue at a glance."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import OperationalError
from django.utils import timezone
from procrastinate.contrib.django.models import ProcrastinateWorker

from adventures import selectors as adventure_selectors
from operations import queue as job_queue
from operations.cli import duration, human_age, to_json

WEAVE_WINDOW = timedelta(hours=24)
STATUS_ORDER = ("todo", "doing", "failed", "succeeded", "cancelled", "aborted")


class Command(BaseCommand):
    help = (
        "Show the job queue: jobs per queue and status, the oldest job waiting to "
        "start in each queue, stalled jobs (running on a worker that stopped "
        "sending heartbeats), the share of the learners' words that passages "
        "annotated in the last 24 hours were asked to use and do use, and the news "
        "digest's next and last run. Exit status: "
        "0 on success, 1 if the database cannot be read."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--json", action="store_true", help="Print one JSON document (for scripts)."
        )
        parser.add_argument(
            "--stalled-after",
            type=duration,
            default=None,
            metavar="DURATION",
            help=(
                "A worker silent this long counts as stalled (default: the rescue's "
                "WORKER_STALLED_TIMEOUT, 30s unless set; e.g. 1m)."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = self._report(options["stalled_after"] or job_queue.stalled_after())
        except OperationalError as exc:
            raise CommandError(f"Cannot read the job queue: {exc}".strip()) from exc
        if options["json"]:
            self.stdout.write(to_json(report))
        else:
            self._print(report)

    def _report(self, stalled_after) -> dict[str, Any]:
        now = timezone.now()
        counts = job_queue.job_counts()
        waiting = job_queue.oldest_waiting()
        stalled = [
            {
                "id": job.id,
                "queue": job.queue_name,
                "task": job.task_name,
                "entry_id": job.args.get("entry_id"),
                "attempts": job.attempts,
                "worker_id": job.worker_id,
                "last_heartbeat": job.worker.last_heartbeat if job.worker else None,
            }
            for job in job_queue.stalled_jobs(stalled_after)
        ]
        cutoff = now - stalled_after
        weave = adventure_selectors.weave_report(since=now - WEAVE_WINDOW)
        return {
            "queues": counts,
            "oldest_waiting": {
                queue: {
                    "job_id": job.job_id,
                    "waiting_since": job.waiting_since.isoformat(),
                    "age_seconds": round(job.age(now).total_seconds(), 1),
                }
                for queue, job in waiting.items()
            },
            "stalled_jobs": stalled,
            "workers": {
                "alive": ProcrastinateWorker.objects.filter(last_heartbeat__gte=cutoff).count(),
                "silent": ProcrastinateWorker.objects.filter(last_heartbeat__lt=cutoff).count(),
            },
            "review_words_24h": {
                "entries": weave.entries,
                "requested": weave.requested,
                "used": weave.used,
                "share": _rounded(weave.share),
                "mean_share_per_entry": _rounded(weave.mean_share),
            },
            "digest": job_queue.digest_runs(now),
        }

    def _print(self, report: dict[str, Any]) -> None:
        write = self.stdout.write
        write("Jobs per queue and status:")
        if not report["queues"]:
            write("  (no jobs)")
        for queue, statuses in report["queues"].items():
            ordered = sorted(statuses.items(), key=lambda item: _status_rank(item[0]))
            write(f"  {queue}: " + ", ".join(f"{status} {n}" for status, n in ordered))
        write("Oldest job waiting to start:")
        if not report["oldest_waiting"]:
            write("  (none waiting)")
        for queue, job in report["oldest_waiting"].items():
            age = human_age(timedelta(seconds=job["age_seconds"]))
            write(f"  {queue}: job {job['job_id']}, waiting {age} (since {job['waiting_since']})")
        stalled = report["stalled_jobs"]
        workers = report["workers"]
        write(f"Workers: {workers['alive']} alive, {workers['silent']} silent")
        weave = report["review_words_24h"]
        if weave["entries"]:
            write(
                f"Review words, last 24 h: {weave['used']} of {weave['requested']} used "
                f"({weave['share']:.0%}) in {weave['entries']} entries "
                f"(mean per entry {weave['mean_share_per_entry']:.0%})"
            )
        else:
            write("Review words, last 24 h: no entry was asked to use any")
        digest = report["digest"]
        write(f"News digest: next run {digest['next_run']} (cron {digest['cron']}, UTC)")
        last = digest["last_run"]
        if last is None:
            write("  last run: never (no nightly job in the queue)")
        else:
            write(
                f"  last run: job {last['job_id']} {last['status']}, tick {last['tick']}, "
                f"news of {last['news_date']}"
            )
        newest = digest["newest_digests"]
        if newest["date"]:
            counts = ", ".join(f"{status} {n}" for status, n in newest["statuses"].items())
            write(f"  newest digests: {newest['date']}: {counts}")
        if not stalled:
            write("Stalled jobs: none")
            return
        write(self.style.WARNING(f"Stalled jobs: {len(stalled)}"))
        for job in stalled:
            beat = job["last_heartbeat"]
            where = (
                f"worker {job['worker_id']} last seen {beat:%Y-%m-%d %H:%M:%S %Z}"
                if beat
                else "no worker"
            )
            write(
                f"  job {job['id']} {job['task']} on {job['queue']} "
                f"(entry {job['entry_id']}, attempt {job['attempts'] + 1}): {where}"
            )


def _rounded(share: float | None) -> float | None:
    return round(share, 3) if share is not None else None


def _status_rank(status: str) -> int:
    return STATUS_ORDER.index(status) if status in STATUS_ORDER else len(STATUS_ORDER)
