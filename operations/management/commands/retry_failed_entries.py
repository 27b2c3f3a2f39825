"""``manage.py retry_failed_entries``: re-queue entries whose pipeline failed."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from adventures import selectors
from adventures.models import Adventure
from adventures.services import entries_rerun
from operations.cli import duration, to_json


class Command(BaseCommand):
    help = (
        "Re-run the pipeline for entries in error: all of them, or those that failed "
        "longer ago than --older-than and/or more recently than --newer-than, "
        "optionally of one adventure. The pipeline resumes after the steps that "
        "already succeeded. Exit status: 0 when done (also when nothing needed a "
        "retry), 1 on an error such as an unknown adventure, 2 on bad arguments."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            type=duration,
            metavar="DURATION",
            help="Only entries that failed at least this long ago (30m, 2h, 1d).",
        )
        parser.add_argument(
            "--newer-than",
            type=duration,
            metavar="DURATION",
            help="Only entries that failed within this long (30m, 2h, 1d).",
        )
        parser.add_argument(
            "--adventure", type=uuid.UUID, metavar="UUID", help="Only this adventure's entries."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="List what would be re-queued; change nothing."
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON document.")

    def handle(self, *args: Any, **options: Any) -> None:
        older, newer = options["older_than"], options["newer_than"]
        if older is not None and newer is not None and older >= newer:
            raise CommandError(
                "--older-than must be shorter than --newer-than, or no entry can match."
            )
        adventure_id = options["adventure"]
        if adventure_id and not Adventure.objects.filter(id=adventure_id).exists():
            raise CommandError(f"No adventure with id {adventure_id}.")
        entries = selectors.entries_in_error(
            older_than=older, newer_than=newer, adventure_id=adventure_id
        )
        selected = list(entries.values_list("id", "adventure_id", "position", "error_detail"))
        if options["dry_run"]:
            self._dry_run(selected, as_json=options["json"])
            return
        result = entries_rerun(entry_ids=[entry_id for entry_id, *_ in selected])
        if options["json"]:
            self.stdout.write(
                to_json(
                    {
                        "selected": len(selected),
                        "requeued": [str(i) for i in result.requeued],
                        "skipped": result.skipped,
                    }
                )
            )
            return
        if not selected:
            self.stdout.write("No entries in error match; nothing to retry.")
            return
        self.stdout.write(
            self.style.SUCCESS(f"Re-queued {len(result.requeued)} of {len(selected)} entries.")
        )
        for reason, count in result.skipped.items():
            self.stdout.write(self.style.WARNING(f"Skipped {count}: {reason}."))

    def _dry_run(self, selected: list[tuple], *, as_json: bool) -> None:
        if as_json:
            rows = [
                {"entry_id": str(e), "adventure_id": str(a), "position": p, "error": d}
                for e, a, p, d in selected
            ]
            self.stdout.write(to_json({"dry_run": True, "would_requeue": rows}))
            return
        self.stdout.write(f"Dry run: {len(selected)} entries in error would be re-queued.")
        for entry_id, adventure_id, position, detail in selected:
            first_line = (detail.splitlines() or [""])[0][:120]
            self.stdout.write(f"  {entry_id} (adventure {adventure_id}, #{position}) {first_line}")
