"""``manage.py level_fit``: how generated passages fit their CEFR level."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import OperationalError
from django.utils import timezone

from adventures import selectors
from langlearn import difficulty, levels
from operations.cli import duration, to_json


class Command(BaseCommand):
    help = (
        "Show, per target language and CEFR level, how many generated entries were "
        "on level (their estimated difficulty less than "
        f"{difficulty.model.REASK_MARGIN} level above it, langlearn/difficulty), how many "
        "were asked for once more (the re-ask rate) and why (too hard for the level; too many "
        "new words for the learner), their mean estimate (1.0 = A1 .. 6.0 = C2), their "
        "learners' mean known coverage and their mean share of content lemmas within the "
        "level's frequency band. "
        "Exit status: 0 on success, 1 if the database cannot be read."
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
                "reask_rate": _round(row.reask_rate),
                "reasked_for": {
                    "level": row.reasked_for_level,
                    "new_words": row.reasked_for_new_words,
                },
                "mean_known": _round(row.mean_known),
                "mean_estimate": _round(row.mean_estimate),
                "mean_fit": _round(row.mean_fit),
            }
            for row in figures
        ]
        if options["json"]:
            self.stdout.write(
                to_json(
                    {
                        "reask_margin": difficulty.model.REASK_MARGIN,
                        "on_level_share_target": levels.ON_LEVEL_SHARE,
                        "rows": rows,
                    }
                )
            )
            return
        if not rows:
            self.stdout.write("No measured entries yet.")
            return
        self.stdout.write(
            "language level  measured  on level  asked again  (level, new words)"
            "  mean estimate  mean known  mean fit"
        )
        for figure in figures:
            self.stdout.write(
                f"{figure.language:<8} {figure.level:<6} {figure.measured:>9} "
                f"{figure.on_level:>5} {_percent(figure.on_level_share):>4} "
                f"{figure.regenerated:>6} {_percent(figure.reask_rate):>4} "
                f"{figure.reasked_for_level:>9}, {figure.reasked_for_new_words:>3}   "
                f"{_number(figure.mean_estimate):>14} {_percent(figure.mean_known):>11} "
                f"{_percent(figure.mean_fit):>9}"
            )


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
