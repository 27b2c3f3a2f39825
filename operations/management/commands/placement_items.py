"""``manage.py placement_items``: make the placement test's item pools."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from langlearn import languages
from vocabulary.placement import build, items


class Command(BaseCommand):
    help = (
        "Make the placement test's items of each language we teach (real words by "
        "frequency band and pseudo-words; vocabulary/placement/build.py says how) and "
        "write them to vocabulary/placement/data/<language>.json. With --check, write "
        "nothing and exit 1 if a shipped file differs from what would be made."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--language",
            action="append",
            help="Only this language (repeatable); default: every language we teach.",
        )
        parser.add_argument("--check", action="store_true", help="Compare, do not write.")

    def handle(self, *args: Any, **options: Any) -> None:
        codes = options["language"] or [lang.code for lang in languages.target_languages()]
        differ = []
        for code in codes:
            if problem := languages.target_language_problem(code):
                raise CommandError(problem)
            text = json.dumps(build.build(code), ensure_ascii=False, indent=1) + "\n"
            path = items.DATA / f"{code}.json"
            if options["check"]:
                if not path.exists() or path.read_text(encoding="utf-8") != text:
                    differ.append(code)
                continue
            path.write_text(text, encoding="utf-8")
            self.stdout.write(f"{code}: wrote {path}")
        if differ:
            raise CommandError(f"Not what the command makes now: {', '.join(differ)}.")
