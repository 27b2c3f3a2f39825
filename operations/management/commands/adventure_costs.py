"""``manage.py adventure_costs``: what the providers billed for adventures."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from adventures import selectors
from adventures.models import Adventure
from operations.cli import to_json


class Command(BaseCommand):
    help = (
        "Print what the providers billed for each given adventure: the story's "
        "entries, and speculative spend (branches generated ahead that no decision "
        "adopted, dropped or still waiting for the learner's choice). Exit status: "
        "0 done, 1 for an unknown adventure, 2 on bad arguments."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("adventure", nargs="+", type=uuid.UUID, metavar="UUID")
        parser.add_argument("--json", action="store_true", help="Print one JSON document.")

    def handle(self, *args: Any, **options: Any) -> None:
        ids = list(dict.fromkeys(options["adventure"]))
        adventures = Adventure.objects.in_bulk(ids)
        if missing := [str(i) for i in ids if i not in adventures]:
            raise CommandError(f"No adventure with id {', '.join(missing)}.")
        report = {str(i): asdict(selectors.adventure_costs(adventures[i])) for i in ids}
        if options["json"]:
            self.stdout.write(to_json(report))
            return
        for adventure_id, costs in report.items():
            self.stdout.write(f"adventure {adventure_id}")
            for label, spend in (("story", costs), ("speculative", costs["speculative"])):
                self.stdout.write(
                    f"  {label:<12} {spend['entries']} entries, LLM tokens "
                    f"{spend['llm_input_tokens']} in / {spend['llm_output_tokens']} out, "
                    f"{spend['translated_characters']} characters translated, "
                    f"{spend['audio_seconds']} s of audio"
                )
