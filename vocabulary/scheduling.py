"""FSRS, through the ``fsrs`` package: our ``Card`` rows to and from its ``Card``.

Every interval comes from ``fsrs.Scheduler`` with its default parameters
(desired retention 0.9, learning steps 1 and 10 minutes, fuzzed review
intervals); nothing here computes one.
"""

from __future__ import annotations

from datetime import UTC, datetime

import fsrs

from .models import Card

RATINGS: dict[str, fsrs.Rating] = {
    "again": fsrs.Rating.Again,
    "hard": fsrs.Rating.Hard,
    "good": fsrs.Rating.Good,
    "easy": fsrs.Rating.Easy,
}


def scheduler() -> fsrs.Scheduler:
    return fsrs.Scheduler()


def _utc(moment: datetime | None) -> datetime | None:
    return moment.astimezone(UTC) if moment is not None else None


def to_fsrs(card: Card) -> fsrs.Card:
    due = _utc(card.due)
    assert due is not None
    return fsrs.Card(
        card_id=card.id,
        state=fsrs.State(card.state),
        step=card.step,
        stability=card.stability,
        difficulty=card.difficulty,
        due=due,
        last_review=_utc(card.last_review),
    )


def apply(card: Card, reviewed: fsrs.Card) -> list[str]:
    """Copy the library's card onto our row; the fields changed, for ``save``."""
    card.state = int(reviewed.state)
    card.step = reviewed.step
    card.stability = reviewed.stability
    card.difficulty = reviewed.difficulty
    card.due = reviewed.due
    card.last_review = reviewed.last_review
    return ["state", "step", "stability", "difficulty", "due", "last_review"]
