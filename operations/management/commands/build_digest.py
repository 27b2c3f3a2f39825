"""``manage.py build_digest``: fetch the news and build a day's digests now."""

from __future__ import annotations

import argparse
import datetime
from typing import Any

from asgiref.sync import async_to_sync
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import OperationalError
from django.utils import timezone

from langlearn import languages
from langlearn.levels import CefrLevel
from news import digests
from news.models import Digest
from news.pipeline import run_digest_pipeline
from news.services import sources_fetch, sources_to_fetch
from news.tasks import news_date
from operations.cli import to_json


def iso_date(raw: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a date; use YYYY-MM-DD") from None


class Command(BaseCommand):
    help = (
        "Fetch the enabled news sources and build the digests of one day (by default "
        "yesterday, UTC: the day the nightly run digests), one per language of "
        "DIGEST_LANGUAGES and level of DIGEST_LEVELS, or only --language/--level. "
        "Runs the pipeline here, without the worker; a complete digest is left as it "
        "is, one in error is resumed after its last finished step. Exit status: 0 "
        "when every digest is complete, 1 when refused or not all are (no news that "
        "day, a failed digest, the database unreachable), 2 on bad arguments."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--date", type=iso_date, metavar="YYYY-MM-DD", help="The day of the news."
        )
        parser.add_argument(
            "--language",
            choices=[language.code for language in languages.target_languages()],
            help="Only this target language.",
        )
        parser.add_argument("--level", choices=CefrLevel.values, help="Only this CEFR level.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="List the sources that would be fetched and the digests that would be "
            "made; fetch nothing, change nothing.",
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON document.")

    def handle(self, *args: Any, **options: Any) -> None:
        date = options["date"] or news_date(int(timezone.now().timestamp()))
        wanted_languages = [options["language"]] if options["language"] else None
        levels = [options["level"]] if options["level"] else None
        try:
            if options["dry_run"]:
                self._dry_run(date, wanted_languages, levels, as_json=options["json"])
                return
            self._build(date, wanted_languages, levels, as_json=options["json"])
        except OperationalError as exc:
            raise CommandError(f"Cannot reach the database: {exc}".strip()) from exc

    def _build(self, date, wanted_languages, levels, *, as_json: bool) -> None:
        report = sources_fetch()
        plan = digests.build_plan(date=date, target_languages=wanted_languages, levels=levels)
        made = digests.digests_for(plan)
        for digest in made:
            if digest.status == Digest.Status.COMPLETE:
                continue
            try:
                async_to_sync(run_digest_pipeline)(digest_id=digest.id)
            except Exception as exc:  # recorded on the digest; the others go on
                digests.digest_fail(digest_id=digest.id, detail=f"{type(exc).__name__}: {exc}")
        built = [Digest.objects.get(id=digest.id) for digest in made]
        failed = [digest for digest in built if digest.status != Digest.Status.COMPLETE]
        if as_json:
            self.stdout.write(
                to_json(
                    {
                        "dry_run": False,
                        "date": date.isoformat(),
                        "sources": {"fetched": len(report.results), "failed": len(report.failed)},
                        "new_items": report.new,
                        "items": plan.items,
                        "digests": [_as_json(digest) for digest in built],
                    }
                )
            )
        else:
            self.stdout.write(
                f"Fetched {len(report.results) - len(report.failed)} of {len(report.results)} "
                f"sources: {report.new} new items."
            )
            for result in report.failed:
                self.stdout.write(self.style.WARNING(f"  {result.url}: {result.error}"))
            self.stdout.write(f"News of {date}: {plan.items} items.")
            for digest in built:
                line = f"  {digest.target_language} {digest.level}: {digest.status} (#{digest.id})"
                if digest.status == Digest.Status.COMPLETE:
                    self.stdout.write(self.style.SUCCESS(line))
                else:
                    self.stdout.write(self.style.ERROR(f"{line} {digest.error_detail}".rstrip()))
        if not plan.items:
            raise CommandError(f"No news items for {date}; no digest made.")
        if failed:
            raise CommandError(
                f"{len(failed)} of {len(built)} digests are not complete; re-run this "
                "command, or the digest admin's action, to resume them."
            )

    def _dry_run(self, date, wanted_languages, levels, *, as_json: bool) -> None:
        sources = sources_to_fetch()
        plan = digests.build_plan(date=date, target_languages=wanted_languages, levels=levels)
        existing = {
            (digest.target_language, digest.level): digest
            for digest in Digest.objects.filter(date=date)
        }
        rows = []
        for language, level in plan.wanted:
            digest = existing.get((language, level))
            rows.append(
                {
                    "language": language,
                    "level": level,
                    "id": digest.id if digest else None,
                    "status": digest.status if digest else "new",
                    "action": _action(digest),
                }
            )
        if as_json:
            self.stdout.write(
                to_json(
                    {
                        "dry_run": True,
                        "date": date.isoformat(),
                        "would_fetch": [
                            {"id": s.id, "url": s.url, "language": s.language} for s in sources
                        ],
                        "items_stored": plan.items,
                        "digests": rows,
                    }
                )
            )
            return
        self.stdout.write(f"Dry run: {len(sources)} sources would be fetched.")
        for source in sources:
            self.stdout.write(f"  #{source.id} {source.url} ({source.language})")
        self.stdout.write(
            f"News of {date}: {plan.items} items stored so far (the fetch may add more)."
        )
        self.stdout.write(f"Digests ({settings.DIGEST_CRON} nightly, UTC):")
        for row in rows:
            self.stdout.write(f"  {row['language']} {row['level']}: {row['action']}")


def _action(digest: Digest | None) -> str:
    if digest is None:
        return "would be made"
    if digest.status == Digest.Status.COMPLETE:
        return f"complete (#{digest.id}), left as it is"
    return f"{digest.status} (#{digest.id}), would be resumed"


def _as_json(digest: Digest) -> dict[str, Any]:
    return {
        "id": digest.id,
        "language": digest.target_language,
        "level": digest.level,
        "status": digest.status,
        "error": digest.error_detail,
    }
