"""The Django admin as the staff's ops console.

What the pipeline writes is read-only here; staff change state only through
actions that call services (``entries_rerun``). Every page loads its related
rows up front (``list_select_related``, annotations, prefetches), so the number
of queries does not grow with the number of rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from django.contrib import admin, messages
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from procrastinate.contrib.django.models import (
    ProcrastinateEvent,
    ProcrastinateJob,
    ProcrastinateWorker,
)

from langlearn import difficulty
from outbound import factory

from . import weaving
from .models import Adventure, Audio, Choice, Decision, DroppedBranch, Entry, Sentence, Token
from .selectors import adventure_costs
from .services import entries_rerun


def steps_done(
    generated_at: datetime | None,
    translated_at: datetime | None,
    annotated_at: datetime | None,
    voiced_at: datetime | None,
) -> str:
    """G T A V: which pipeline steps have finished (upper case) or not (·).
    Entries and news digests go through the same four steps."""
    done = (generated_at, translated_at, annotated_at, voiced_at)
    return " ".join(letter if at else "·" for letter, at in zip("GTAV", done, strict=True))


class StoredAudio(Protocol):
    file: str
    content_type: str
    duration_ms: int
    size_bytes: int


def audio_player_html(audio: StoredAudio | None) -> str:
    """An audio player for a stored reading (an entry's or a digest's), with
    its format, length and size; "-" when there is none yet."""
    if audio is None:
        return "-"
    url = factory.get_audio_storage().url(audio.file)
    return format_html(
        '<audio controls preload="none" src="{}"></audio><br>{} · {} ms · {} bytes',
        url,
        audio.content_type,
        audio.duration_ms,
        audio.size_bytes,
    )


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """For rows only the pipeline writes: browse and search, never edit."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


def _link(obj, label=None) -> str:
    if obj is None:
        return "-"
    meta = obj._meta
    url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label if label is not None else obj)


# --- Adventures -----------------------------------------------------------------


class EntryInline(ReadOnlyInline):
    model = Entry
    fields = (
        "position",
        "status",
        "branch",
        "is_final",
        "excerpt",
        "error_message",
        "updated_at",
    )
    readonly_fields = fields
    show_change_link = True
    ordering = ("position",)

    @admin.display(description="text")
    def excerpt(self, entry: Entry) -> str:
        return entry.text[:120] + ("…" if len(entry.text) > 120 else "")

    @admin.display(description="branch")
    def branch(self, entry: Entry) -> str:
        return _branch_label(entry)


def _branch_label(entry: Entry) -> str:
    """How a branch stands (empty for an entry generated after its decision)."""
    if entry.branch_choice_id is None:
        return ""
    if entry.dropped_at is not None:
        return "dropped (its job is finishing)"
    return "adopted" if entry.position is not None else "generated ahead"


class DroppedBranchInline(ReadOnlyInline):
    model = DroppedBranch
    fields = (
        "entry_id",
        "status",
        "branch_created_at",
        "dropped_at",
        "llm_input_tokens",
        "llm_output_tokens",
        "translated_characters",
        "audio_seconds",
    )
    readonly_fields = fields
    verbose_name_plural = "dropped branches (speculative spend)"


@admin.register(Adventure)
class AdventureAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "user",
        "target_language",
        "native_language",
        "level",
        "status",
        "entry_count",
        "created_at",
        "updated_at",
    )
    list_filter = ("status", "target_language", "native_language", "level", "created_at")
    search_fields = ("id", "title", "theme", "user__username")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    readonly_fields = (
        "id",
        "user",
        "target_language",
        "native_language",
        "title",
        "status",
        "created_at",
        "updated_at",
        "costs",
    )
    fields = (*readonly_fields[:4], "level", "theme", *readonly_fields[4:])
    inlines = [EntryInline, DroppedBranchInline]

    @admin.display(description="provider spend")
    def costs(self, adventure: Adventure) -> str:
        """The story's entries, and branches generated ahead that no decision
        adopted (dropped, or waiting for the learner's choice)."""
        costs = adventure_costs(adventure)
        rows = (("story", costs), ("speculative (branches)", costs.speculative))
        return format_html(
            "<table><tr><th></th><th>entries</th><th>LLM tokens in / out</th>"
            "<th>characters translated</th><th>audio seconds</th></tr>{}</table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{} / {}</td><td>{}</td><td>{}</td></tr>",
                (
                    (
                        label,
                        spend.entries,
                        spend.llm_input_tokens,
                        spend.llm_output_tokens,
                        spend.translated_characters,
                        spend.audio_seconds,
                    )
                    for label, spend in rows
                ),
            ),
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Adventure]:
        return super().get_queryset(request).annotate(_entry_count=Count("entries"))

    @admin.display(description="entries", ordering="_entry_count")
    def entry_count(self, adventure: Adventure) -> int:
        return adventure._entry_count  # type: ignore[attr-defined]

    def has_add_permission(self, request) -> bool:
        # An adventure starts with an entry and its job: learners create them
        # through the API (adventure_create), never as a bare row.
        return False


# --- Entries --------------------------------------------------------------------


class SentenceInline(ReadOnlyInline):
    model = Sentence
    fields = ("index", "text", "translation", "start_ms", "end_ms")
    readonly_fields = fields
    verbose_name_plural = "sentence pairs"


class ChoiceInline(ReadOnlyInline):
    model = Choice
    fields = ("index", "text", "translation")
    readonly_fields = fields


class TokenInline(ReadOnlyInline):
    model = Token
    fields = ("index", "sentence", "text", "lemma", "pos", "band")
    readonly_fields = fields
    classes = ("collapse",)


JOB_TIMESTAMPS = {
    "deferred": ("deferred",),
    "started": ("started",),
    "finished": ("succeeded", "failed", "cancelled", "aborted", "deferred_for_retry"),
}


@admin.register(Entry)
class EntryAdmin(admin.ModelAdmin):
    list_display = (
        "short_id",
        "adventure_link",
        "learner",
        "position",
        "status",
        "steps",
        "review_share",
        "is_final",
        "level_estimate_display",
        "error_excerpt",
        "updated_at",
    )
    list_filter = (
        "status",
        "adventure__target_language",
        "adventure__level",
        "level_regenerated",
        "level_reasked_for",
        "is_final",
        "created_at",
        "updated_at",
    )
    search_fields = (
        "id",
        "adventure__id",
        "adventure__title",
        "adventure__user__username",
        "text",
        "error_detail",
    )
    list_select_related = ("adventure__user",)
    date_hierarchy = "updated_at"
    actions = ["rerun_pipeline"]
    inlines = [SentenceInline, ChoiceInline, TokenInline]
    fieldsets = (
        (None, {"fields": ("id", "adventure_link", "learner", "position", "status", "is_final")}),
        ("Branch", {"fields": ("branch_choice", "branch_state", "dropped_at")}),
        ("Passage", {"fields": ("text", "audio_player")}),
        ("Review words", {"fields": ("review_words", "review_words_used", "review_share")}),
        ("Error", {"fields": ("error_message", "error_detail")}),
        (
            "Level fit",
            {
                "fields": (
                    "level_estimate_display",
                    "coverage_display",
                    "level_reasons",
                    "level_regenerated",
                    "level_reasked_for",
                    "level_fit_percent",
                    "level_content_lemmas",
                    "level_words_above",
                ),
                "description": "How hard the passage is for the adventure's level: its "
                "estimated CEFR level and what puts it above (langlearn/difficulty); and the "
                "share of its content lemmas within the level's frequency band "
                "(langlearn/levels.py).",
            },
        ),
        (
            "Pipeline",
            {
                "fields": (
                    "generated_at",
                    "translated_at",
                    "annotated_at",
                    "voiced_at",
                    "completed_at",
                    "llm_input_tokens",
                    "llm_output_tokens",
                    "translated_characters",
                    "created_at",
                    "updated_at",
                )
            },
        ),
        ("Jobs", {"fields": ("jobs",)}),
    )
    readonly_fields = (
        *(f.name for f in Entry._meta.fields),
        "adventure_link",
        "learner",
        "audio_player",
        "review_share",
        "jobs",
        "level_estimate_display",
        "coverage_display",
        "level_fit_percent",
        "branch_state",
    )

    @admin.display(description="branch")
    def branch_state(self, entry: Entry) -> str:
        return _branch_label(entry) or "no (generated after its decision)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Entry]:
        return super().get_queryset(request).select_related("adventure__user", "audio")

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="id")
    def short_id(self, entry: Entry) -> str:
        return str(entry.id)[:8]

    @admin.display(description="adventure", ordering="adventure__title")
    def adventure_link(self, entry: Entry) -> str:
        return _link(entry.adventure)

    @admin.display(description="learner", ordering="adventure__user__username")
    def learner(self, entry: Entry) -> str:
        return entry.adventure.user.username

    @admin.display(description="steps")
    def steps(self, entry: Entry) -> str:
        return steps_done(
            entry.generated_at, entry.translated_at, entry.annotated_at, entry.voiced_at
        )

    @admin.display(description="review words used")
    def review_share(self, entry: Entry) -> str:
        """How many of the learner's words the passage was asked to use it does
        use: "2/3 (67%)"; "—" when none was asked for or it is not annotated yet."""
        share = weaving.used_share(entry.review_words, entry.review_words_used)
        if share is None or entry.annotated_at is None:
            return "—"
        return f"{len(entry.review_words_used)}/{len(entry.review_words)} ({share:.0%})"

    @admin.display(description="estimated level", ordering="level_estimate")
    def level_estimate_display(self, entry: Entry) -> str:
        if entry.level_estimate is None:
            return "-"
        level = entry.adventure.level
        verdict = "too hard" if difficulty.too_hard(entry.level_estimate, level) else "on level"
        named = difficulty.level_name(entry.level_estimate)
        return f"{named} ({entry.level_estimate:.1f}): {verdict} for {level}"

    @admin.display(description="learner's coverage")
    def coverage_display(self, entry: Entry) -> str:
        covered = entry.coverage or {}
        if covered.get("known") is None:
            return "-"
        judged = "placement" if covered["basis"] == "placement" else "the level's vocabulary"
        return (
            f"{covered['known']:.0%} of {covered['running_words']} running words known, "
            f"{covered['learning']:.0%} learning, {len(covered['new_words'])} new words "
            f"(unmarked words judged by {judged}: {covered['vocabulary']:,} lemmas)"
        )

    @admin.display(description="level fit", ordering="level_fit")
    def level_fit_percent(self, entry: Entry) -> str:
        if entry.level_fit is None:
            return "-"
        level = entry.adventure.level
        return f"{entry.level_fit:.0%} of content words within {level}"

    @admin.display(description="error")
    def error_excerpt(self, entry: Entry) -> str:
        return entry.error_detail[:80]

    @admin.display(description="audio")
    def audio_player(self, entry: Entry) -> str:
        return audio_player_html(getattr(entry, "audio", None))

    @admin.display(description="Procrastinate jobs")
    def jobs(self, entry: Entry) -> str:
        jobs = (
            ProcrastinateJob.objects.filter(args__entry_id=str(entry.id))
            .prefetch_related(
                Prefetch(
                    "procrastinateevent_set",
                    queryset=ProcrastinateEvent.objects.order_by("at", "id"),
                    to_attr="events",
                )
            )
            .order_by("id")
        )
        rows = []
        for job in jobs:
            times = {
                name: max((e.at for e in job.events if e.type in types and e.at), default=None)
                for name, types in JOB_TIMESTAMPS.items()
            }
            url = reverse("admin:procrastinate_procrastinatejob_change", args=[job.id])
            rows.append(
                (
                    url,
                    job.id,
                    job.status,
                    job.attempts,
                    _when(job.scheduled_at),
                    _when(times["deferred"]),
                    _when(times["started"]),
                    _when(times["finished"]),
                )
            )
        if not rows:
            return "No job (jobs are removed when the queue is cleaned up)."
        body = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td>'
            "<td>{}</td><td>{}</td><td>{}</td></tr>",
            rows,
        )
        return format_html(
            "<table><thead><tr><th>job</th><th>status</th><th>attempts</th>"
            "<th>scheduled</th><th>deferred</th><th>last started</th><th>last ended</th>"
            "</tr></thead><tbody>{}</tbody></table>",
            body,
        )

    @admin.action(
        description="Re-run pipeline for selected entries in error", permissions=["change"]
    )
    def rerun_pipeline(self, request: HttpRequest, queryset: QuerySet[Entry]) -> None:
        result = entries_rerun(entry_ids=queryset.values_list("id", flat=True))
        count = len(result.requeued)
        self.message_user(
            request,
            f"Re-queued {count} {'entry' if count == 1 else 'entries'}.",
            messages.SUCCESS if count else messages.INFO,
        )
        if result.skipped:
            reasons = "; ".join(f"{n} {reason}" for reason, n in result.skipped.items())
            self.message_user(
                request,
                f"Skipped {result.skipped_count}: {reasons}. Only entries in error are re-run.",
                messages.WARNING,
            )


def _when(at) -> str:
    return f"{at:%Y-%m-%d %H:%M:%S}" if at else "-"


# --- What the pipeline writes under an entry ----------------------------------------


@admin.register(Sentence)
class SentenceAdmin(ReadOnlyAdmin):
    list_display = ("text", "translation", "index", "entry")
    list_filter = ("entry__adventure__target_language", "entry__adventure__native_language")
    search_fields = ("text", "translation", "entry__id")
    list_select_related = ("entry",)


@admin.register(Choice)
class ChoiceAdmin(ReadOnlyAdmin):
    list_display = ("text", "translation", "index", "entry")
    list_filter = ("entry__adventure__target_language",)
    search_fields = ("id", "text", "translation", "entry__id")
    list_select_related = ("entry",)


@admin.register(Token)
class TokenAdmin(ReadOnlyAdmin):
    list_display = ("text", "lemma", "pos", "band", "sentence", "index", "entry")
    list_filter = ("pos", "entry__adventure__target_language")
    search_fields = ("text", "lemma", "entry__id")
    list_select_related = ("entry",)


@admin.register(Audio)
class AudioAdmin(ReadOnlyAdmin):
    list_display = ("file", "entry", "content_type", "duration_ms", "size_bytes", "created_at")
    list_filter = ("content_type", "created_at")
    search_fields = ("file", "entry__id")
    list_select_related = ("entry",)
    readonly_fields = ("player",)

    @admin.display(description="listen")
    def player(self, audio: Audio) -> str:
        url = factory.get_audio_storage().url(audio.file)
        return format_html('<audio controls preload="none" src="{}"></audio>', url)


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ("id", "entry", "choice", "next_entry", "created_at")
    list_filter = ("created_at",)
    search_fields = ("id", "entry__id", "next_entry__id", "entry__adventure__user__username")
    list_select_related = ("entry", "choice", "next_entry")


# --- Procrastinate's workers (its jobs have their own admin, shipped with it) ------


@admin.register(ProcrastinateWorker)
class ProcrastinateWorkerAdmin(ReadOnlyAdmin):
    list_display = ("id", "last_heartbeat", "running_jobs")
    ordering = ("-last_heartbeat",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ProcrastinateWorker]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                _running=Count("procrastinatejob", filter=Q(procrastinatejob__status="doing"))
            )
        )

    @admin.display(description="running jobs", ordering="_running")
    def running_jobs(self, worker: ProcrastinateWorker) -> int:
        return worker._running  # type: ignore[attr-defined]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
