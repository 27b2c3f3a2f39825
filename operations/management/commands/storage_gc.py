"""``manage.py storage_gc``: remove the audio files nothing references."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from operations.cli import duration, to_json
from operations.storage_gc import GRACE, PREFIX, storage_gc
from outbound.errors import ProviderError


class Command(BaseCommand):
    help = (
        f"List the files under {PREFIX} in the audio storage (local, S3 or Bunny) that no "
        "entry or digest references and remove those last written longer ago than "
        "--older-than (default 1d: a file being written has no row yet). --dry-run lists "
        "them and removes nothing. Prints counts and bytes. Exit status: 0, or 1 when "
        "the storage cannot be listed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            type=duration,
            default=GRACE,
            metavar="AGE",
            help="Leave younger files alone: 30m, 2h, 1d (default 1d).",
        )
        parser.add_argument("--dry-run", action="store_true", help="List, remove nothing.")
        parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            collected = storage_gc(older_than=options["older_than"], dry_run=options["dry_run"])
        except ProviderError as exc:
            self.stderr.write(f"The audio storage cannot be listed: {exc}")
            raise SystemExit(1) from None
        figures = collected.as_dict()
        if options["json"]:
            self.stdout.write(
                to_json(
                    {**figures, "dry_run": options["dry_run"], "orphan_names": collected.orphans}
                )
            )
            return
        for name in collected.orphans:
            self.stdout.write(f"{'would remove' if options['dry_run'] else 'orphan'} {name}")
        self.stdout.write(
            f"{figures['files']} files ({figures['bytes']} bytes) under {PREFIX}: "
            f"{figures['referenced']} referenced, {figures['young']} younger than "
            f"{options['older_than']}, {figures['orphans']} orphans "
            f"({figures['orphan_bytes']} bytes); "
            + (
                "dry run, nothing removed."
                if options["dry_run"]
                else f"{figures['removed']} removed ({figures['freed_bytes']} bytes freed)."
            )
        )
