"""``manage.py level_fit``: how generated passages fit their CEFR level."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import OperationalError
from django.utils import timezone

from adventures import selectors
from langlearn import levels
from operations.cli import duration, to_json


class Command(BaseCommand):
    help = (
        "Show, per target language and CEFR level, how many generated entries were "
        f"on level (at least {levels.ON_LEVEL_SHARE:.0%} of their content lemmas within the "
        "level's frequency band, langlearn/levels.py), how many were asked for once more, "
        "and the mean fit. Exit status: 0 on success, 1 if the database cannot be read."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--json", action="store_true", help="Print one JSON document (for scripts)."
        )
        parser.add_argument(
            "--since",
            type=duration,
            default=None,
            metavar="DURATION",
            help="Only entries generated this long ago or since (e.g. 1d); default: all.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        since = timezone.now() - options["since"] if options["since"] else None
        try:
            figures = selectors.level_fit_figures(since=since)
        except OperationalError as exc:
            raise CommandError(f"Cannot read the entries: {exc}".strip()) from exc
        rows = [
            {
                "language": row.language,
                "level": row.level,
                "measured": row.measured,
                "on_level": row.on_level,
                "on_level_share": _round(row.on_level_share),
                "regenerated": row.regenerated,
                "mean_fit": _round(row.mean_fit),
            }
            for row in figures
        ]
        if options["json"]:
            self.stdout.write(
                to_json({"on_level_share_target": levels.ON_LEVEL_SHARE, "rows": rows})
            )
            return
        if not rows:
            self.stdout.write("No measured entries yet.")
            return
        self.stdout.write("language level  measured  on level  asked again  mean fit")
        for row in rows:
            share = row["on_level_share"]
            mean = row["mean_fit"]
            self.stdout.write(
                f"{row['language']:<8} {row['level']:<6} {row['measured']:>9} "
                f"{row['on_level']:>6} {share:>4.0%} {row['regenerated']:>11} "
                + (f"{mean:>9.0%}" if mean is not None else f"{'-':>9}")
            )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
