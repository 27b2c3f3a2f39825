"""``manage.py fetch_news``: fetch the news sources' feeds now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import OperationalError

from news.models import NewsSource
from news.services import SourceResult, sources_fetch, sources_to_fetch
from operations.cli import to_json


class Command(BaseCommand):
    help = (
        "Fetch the news sources' feeds and store their new items: every enabled "
        "source, or only --source ID (enabled or not). Prints per source the items "
        "new and already seen, or why the feed could not be read; a failing feed "
        "is recorded on its source and does not stop the others. Exit status: 0 "
        "when the run is done (also when some feeds failed: see the output), 1 when "
        "refused (an unknown source, the database unreachable), 2 on bad arguments."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--source", type=int, metavar="ID", help="Only this source (its id in the admin)."
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="List the sources that would be fetched; fetch nothing, change nothing.",
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON document.")

    def handle(self, *args: Any, **options: Any) -> None:
        source_id = options["source"]
        source_ids = None if source_id is None else [source_id]
        try:
            if source_id is not None and not NewsSource.objects.filter(id=source_id).exists():
                raise CommandError(f"No news source with id {source_id}.")
            if options["dry_run"]:
                self._dry_run(sources_to_fetch(source_ids=source_ids), as_json=options["json"])
                return
            report = sources_fetch(source_ids=source_ids)
        except OperationalError as exc:
            raise CommandError(f"Cannot reach the database: {exc}".strip()) from exc
        if options["json"]:
            self.stdout.write(
                to_json(
                    {
                        "dry_run": False,
                        "sources": [_as_json(result) for result in report.results],
                        "new": report.new,
                        "seen": report.seen,
                        "failed": len(report.failed),
                    }
                )
            )
            return
        if not report.results:
            self.stdout.write("No enabled news sources; nothing to fetch.")
            return
        for result in report.results:
            where = f"#{result.source_id} {result.url} ({result.language})"
            if result.ok:
                self.stdout.write(f"{where}: {result.new} new, {result.seen} seen")
            else:
                self.stdout.write(self.style.ERROR(f"{where}: error: {result.error}"))
        summary = (
            f"Fetched {len(report.results) - len(report.failed)} of {len(report.results)} "
            f"sources: {report.new} new items, {report.seen} already seen."
        )
        style = self.style.WARNING if report.failed else self.style.SUCCESS
        self.stdout.write(style(summary))

    def _dry_run(self, sources: list[NewsSource], *, as_json: bool) -> None:
        rows = [
            {
                "id": source.id,
                "url": source.url,
                "language": source.language,
                "enabled": source.enabled,
                "last_fetch_status": source.last_fetch_status,
                "last_fetched_at": source.last_fetched_at,
            }
            for source in sources
        ]
        if as_json:
            self.stdout.write(to_json({"dry_run": True, "would_fetch": rows}))
            return
        self.stdout.write(f"Dry run: {len(rows)} sources would be fetched.")
        for row in rows:
            self.stdout.write(
                f"  #{row['id']} {row['url']} ({row['language']}), "
                f"last fetch: {row['last_fetch_status']}"
            )


def _as_json(result: SourceResult) -> dict[str, Any]:
    return {
        "id": result.source_id,
        "url": result.url,
        "language": result.language,
        "status": "ok" if result.ok else "error",
        "new": result.new,
        "seen": result.seen,
        "error": result.error,
    }
