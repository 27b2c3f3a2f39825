"""Read-only queries: the learner's (always scoped to the learner who asks, and
never showing a branch not adopted yet: ``position`` is NULL for those),
what the pipeline reads before calling a provider, and staff's lists of
entries in error."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from uuid import UUID

from django.db.models import (
    Avg,
    Count,
    F,
    FloatField,
    Func,
    IntegerField,
    Prefetch,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone

from langlearn import difficulty, levels
from langlearn.difficulty.coverage import NEW_WORDS_BUDGET
from langlearn.errors import NotFound
from outbound.roles import GenerationRequest, PastEntry

from . import coverage, weaving
from .models import Adventure, Choice, DroppedBranch, Entry, Sentence

if TYPE_CHECKING:
    from accounts.models import User


def _entry_summaries() -> Prefetch:
    return Prefetch(
        "entries",
        queryset=Entry.objects.filter(position__isnull=False).only(
            "id", "position", "status", "adventure_id"
        ),
    )


def adventure_list(*, user: User) -> QuerySet[Adventure]:
    return (
        Adventure.objects.filter(user=user)
        .prefetch_related(_entry_summaries())
        .order_by("-created_at", "-id")
    )


def adventure_get(*, user: User, adventure_id: UUID) -> Adventure:
    try:
        return adventure_list(user=user).get(id=adventure_id)
    except Adventure.DoesNotExist:
        raise NotFound("Adventure not found.") from None


def entry_get(*, user: User, adventure_id: UUID, entry_id: UUID) -> Entry:
    try:
        return (
            Entry.objects.filter(
                adventure__user=user, adventure_id=adventure_id, position__isnull=False
            )
            .select_related("adventure", "audio", "decision")
            .prefetch_related("sentences", "choices", "tokens")
            .get(id=entry_id)
        )
    except Entry.DoesNotExist:
        raise NotFound("Entry not found.") from None


@dataclass(frozen=True)
class Spend:
    """What the providers billed for some entries."""

    entries: int
    llm_input_tokens: int
    llm_output_tokens: int
    translated_characters: int
    audio_seconds: Decimal


@dataclass(frozen=True)
class AdventureCosts(Spend):
    """What the providers billed for an adventure: its story's entries (the
    fields of ``Spend``), and ``speculative``: branches generated ahead that
    no decision adopted, dropped or still waiting for the learner's choice."""

    speculative: Spend


def _spend(rows: QuerySet, count: str) -> Spend:
    totals = rows.aggregate(
        entries=Count(count),
        llm_input_tokens=Sum("llm_input_tokens"),
        llm_output_tokens=Sum("llm_output_tokens"),
        translated_characters=Sum("translated_characters"),
        audio_seconds=Sum("audio_seconds"),
    )
    return Spend(
        entries=totals["entries"],
        llm_input_tokens=totals["llm_input_tokens"] or 0,
        llm_output_tokens=totals["llm_output_tokens"] or 0,
        translated_characters=totals["translated_characters"] or 0,
        audio_seconds=totals["audio_seconds"] or Decimal(0),
    )


def adventure_costs(adventure: Adventure) -> AdventureCosts:
    story = _spend(Entry.objects.filter(adventure=adventure, position__isnull=False), "id")
    live = _spend(Entry.objects.filter(adventure=adventure, position__isnull=True), "id")
    dropped = _spend(DroppedBranch.objects.filter(adventure=adventure), "id")
    speculative = Spend(
        entries=live.entries + dropped.entries,
        llm_input_tokens=live.llm_input_tokens + dropped.llm_input_tokens,
        llm_output_tokens=live.llm_output_tokens + dropped.llm_output_tokens,
        translated_characters=live.translated_characters + dropped.translated_characters,
        audio_seconds=live.audio_seconds + dropped.audio_seconds,
    )
    return AdventureCosts(**vars(story), speculative=speculative)


# --- The pipeline ---------------------------------------------------------------------


def generation_request(*, entry: Entry) -> GenerationRequest:
    """What the story generator needs for ``entry``: the adventure's settings,
    the story so far with the learner's choices, the choice that led here, and
    the learner's words to weave in (``weaving.review_words``), and their
    estimated vocabulary (``coverage.target``), which the level fit measures
    the passage's coverage by too.

    For a branch not adopted yet, the story so far ends with the entry it
    follows, as if its choice had been made (``branch_choice``)."""
    adventure = entry.adventure
    branch_choice = (
        Choice.objects.select_related("entry").filter(id=entry.branch_choice_id).first()
        if entry.branch_choice_id
        else None
    )
    if entry.position is not None:
        position = entry.position
    else:
        assert branch_choice is not None
        assert branch_choice.entry.position is not None
        position = branch_choice.entry.position + 1
    earlier = (
        Entry.objects.filter(adventure=adventure, position__lt=position)
        .select_related("decision__choice")
        # What the history uses, not the whole of each row (its level figures).
        .only("text", "decision__next_entry", "decision__choice__text", "decision__choice__index")
        .order_by("position")
    )
    history = []
    # The decision that led to this entry was made on an earlier entry (a
    # decided entry always has a position, below this one's): found here
    # rather than by a query of its own.
    previous: Choice | None = None
    for past in earlier:
        decision = getattr(past, "decision", None)
        chosen = decision.choice if decision else None
        if decision is not None and decision.next_entry_id == entry.id:
            previous = decision.choice
        if chosen is None and branch_choice is not None and branch_choice.entry_id == past.id:
            chosen = branch_choice
        history.append(PastEntry(text=past.text, chosen=chosen.text if chosen else None))
    chosen_index = previous.index if previous else None
    if chosen_index is None and branch_choice is not None:
        chosen_index = branch_choice.index
    known_words, basis = coverage.target(
        user_id=adventure.user_id, language=adventure.target_language, level=adventure.level
    )
    return GenerationRequest(
        target_language=adventure.target_language,
        level=adventure.level,
        theme=adventure.theme,
        position=position,
        is_final=entry.is_final,
        history=history,
        chosen_index=chosen_index,
        review_words=weaving.review_words(
            user_id=adventure.user_id, language=adventure.target_language
        ),
        known_words=known_words,
        known_words_basis=basis,
        new_words=NEW_WORDS_BUDGET[adventure.level],
    )


@dataclass(frozen=True)
class Passage:
    """What the steps after generation need: the stored sentences and choices."""

    sentences: list[str]
    choice_ids: list[UUID]
    choices: list[str]


def entry_passage(*, entry: Entry) -> Passage:
    choices = list(Choice.objects.filter(entry=entry).order_by("index").values_list("id", "text"))
    sentences = Sentence.objects.filter(entry=entry).order_by("index")
    return Passage(
        sentences=list(sentences.values_list("text", flat=True)),
        choice_ids=[choice_id for choice_id, _ in choices],
        choices=[text for _, text in choices],
    )


# --- Staff and operators ----------------------------------------------------------


def failed_entries(*, since: datetime) -> QuerySet[Entry]:
    """Entries that went into ``error`` since ``since``, newest first."""
    return (
        Entry.objects.filter(status=Entry.Status.ERROR, updated_at__gte=since)
        .select_related("adventure__user")
        .order_by("-updated_at")
    )


@dataclass(frozen=True)
class WeaveReport:
    """How well passages used the learner's words they were asked to use."""

    entries: int  # annotated entries that were asked to use some words
    requested: int  # words asked for, over those entries
    used: int  # of them, words the passages use
    mean_share: float | None  # the mean, over those entries, of used / requested

    @property
    def share(self) -> float | None:
        return self.used / self.requested if self.requested else None


def weave_report(*, since: datetime) -> WeaveReport:
    """Over the entries annotated since ``since`` that were asked to use words."""
    requested = Func(F("review_words"), function="jsonb_array_length", output_field=IntegerField())
    used = Func(F("review_words_used"), function="jsonb_array_length", output_field=IntegerField())
    totals = (
        Entry.objects.filter(annotated_at__gte=since)
        .exclude(review_words=[])
        .annotate(n_requested=requested, n_used=used)
        .aggregate(
            entries=Count("id"),
            requested=Sum("n_requested"),
            used=Sum("n_used"),
            mean_share=Avg(Cast("n_used", FloatField()) / F("n_requested")),
        )
    )
    return WeaveReport(
        entries=totals["entries"],
        requested=totals["requested"] or 0,
        used=totals["used"] or 0,
        mean_share=totals["mean_share"],
    )


def entries_in_error(
    *,
    older_than: timedelta | None = None,
    newer_than: timedelta | None = None,
    adventure_id: UUID | str | None = None,
) -> QuerySet[Entry]:
    """Entries in ``error``, filtered by how long ago they failed and by adventure."""
    now = timezone.now()
    entries = Entry.objects.filter(status=Entry.Status.ERROR)
    if older_than is not None:
        entries = entries.filter(updated_at__lte=now - older_than)
    if newer_than is not None:
        entries = entries.filter(updated_at__gte=now - newer_than)
    if adventure_id is not None:
        entries = entries.filter(adventure_id=adventure_id)
    return entries.order_by("adventure_id", "position")


@dataclass(frozen=True)
class LevelFitFigures:
    """How generated passages fit their level, for one language and level."""

    language: str
    level: str
    measured: int  # entries whose level was measured
    on_level: int  # of them, not too hard for it (``difficulty.too_hard``)
    regenerated: int  # of them, asked for once more
    # ... because they were too hard for the level, because they brought the
    # learner too many new words (a passage asked again for both counts in both)
    reasked_for_level: int
    reasked_for_new_words: int
    mean_estimate: float | None  # ``difficulty``'s estimate, 1.0 (A1) .. 6.0 (C2)
    mean_fit: float | None  # the share of content lemmas within the level's band
    mean_known: float | None  # the learners' known coverage of them

    @property
    def on_level_share(self) -> float | None:
        return self.on_level / self.measured if self.measured else None

    @property
    def reask_rate(self) -> float | None:
        return self.regenerated / self.measured if self.measured else None


def _too_hard() -> Q:
    """Entries whose estimate is too hard for their adventure's level."""
    condition = Q(pk__in=[])
    for level, number in difficulty.LEVEL_NUMBER.items():
        floor = number + difficulty.model.REASK_MARGIN
        condition |= Q(adventure__level=level, level_estimate__gte=floor)
    return condition


def level_fit_figures(*, since: datetime | None = None) -> list[LevelFitFigures]:
    """Per target language and level, in one query: the entries measured
    (generated since ``since``, if given), how many were on level and how
    many were asked for once more, and why. Entries measured before the
    estimate existed count as on level by their band share, as they were
    then."""
    entries = Entry.objects.filter(level_content_lemmas__isnull=False)
    if since is not None:
        entries = entries.filter(generated_at__gte=since)
    by_share = Q(level_fit__gte=levels.ON_LEVEL_SHARE) | Q(level_fit__isnull=True)
    on_level = (Q(level_estimate__isnull=False) & ~_too_hard()) | (
        Q(level_estimate__isnull=True) & by_share
    )
    reason = Entry.ReaskReason
    both = reason.BOTH
    rows = (
        entries.values("adventure__target_language", "adventure__level")
        .annotate(
            measured=Count("id"),
            on_level=Count("id", filter=on_level),
            regenerated=Count("id", filter=Q(level_regenerated=True)),
            reasked_for_level=Count("id", filter=Q(level_reasked_for__in=[reason.LEVEL, both])),
            reasked_for_new_words=Count(
                "id", filter=Q(level_reasked_for__in=[reason.NEW_WORDS, both])
            ),
            mean_estimate=Avg("level_estimate"),
            mean_fit=Avg("level_fit"),
            mean_known=Avg(Cast(KT("coverage__known"), FloatField())),
        )
        .order_by("adventure__target_language", "adventure__level")
    )
    return [
        LevelFitFigures(
            language=row["adventure__target_language"],
            level=row["adventure__level"],
            measured=row["measured"],
            on_level=row["on_level"],
            regenerated=row["regenerated"],
            reasked_for_level=row["reasked_for_level"],
            reasked_for_new_words=row["reasked_for_new_words"],
            mean_estimate=row["mean_estimate"],
            mean_fit=row["mean_fit"],
            mean_known=row["mean_known"],
        )
        for row in rows
    ]
