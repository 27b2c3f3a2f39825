"""Adventures and what the pipeline writes for each of their entries.

The database enforces the story's shape: entry positions are unique per
adventure, choice indexes unique per entry, and an entry has at most one
decision.

**Branches** are entries generated ahead, one per choice of a
complete entry, before the learner decides: ``Entry.branch_choice`` names the
choice that leads to it and ``position`` stays NULL until a decision adopts it
(it then takes the adventure's next position). NULLs never clash in the
(adventure, position) unique constraint, and every learner-facing query reads
only entries with a position, so an unadopted branch is invisible to the
learner. A branch not adopted is dropped: its row is deleted and what it cost
is kept as a ``DroppedBranch``. Everything under an entry (sentences, choices, tokens, audio) is
written by the pipeline, one step at a time; the ``*_at`` timestamps on the
entry record which steps have finished, so a retried job resumes after them.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from langlearn.levels import CefrLevel


class Adventure(models.Model):
    class Status(models.TextChoices):
        AWAITING_FIRST_ENTRY = "awaiting_first_entry"
        ACTIVE = "active"
        COMPLETED = "completed"
        ERROR = "error"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="adventures"
    )
    target_language = models.CharField(max_length=8)
    native_language = models.CharField(max_length=8)
    level = models.CharField(max_length=2, choices=CefrLevel, default=CefrLevel.A2)
    theme = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=24, choices=Status, default=Status.AWAITING_FIRST_ENTRY)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(target_language=models.F("native_language")),
                name="adventure_languages_differ",
            )
        ]

    def __str__(self) -> str:
        return self.title or f"Adventure {self.id}"


class Entry(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        GENERATING = "generating"
        COMPLETE = "complete"
        ERROR = "error"

    class ReaskReason(models.TextChoices):
        # Why the generator was asked for a passage once more (``levelfit``).
        LEVEL = "level", "too hard for its level"
        NEW_WORDS = "new_words", "too many new words for its learner"
        BOTH = "both", "both"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    adventure = models.ForeignKey(Adventure, on_delete=models.CASCADE, related_name="entries")
    # NULL only for a branch not adopted yet (see the module docstring).
    position = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status, default=Status.PENDING)
    text = models.TextField(blank=True)
    is_final = models.BooleanField(default=False)
    error_message = models.TextField(
        blank=True, help_text="Shown to the learner when the entry is in error."
    )
    error_detail = models.TextField(blank=True, help_text="For staff: what failed, and where.")
    # Which pipeline steps have finished (see the module docstring).
    generated_at = models.DateTimeField(null=True, blank=True)
    translated_at = models.DateTimeField(null=True, blank=True)
    annotated_at = models.DateTimeField(null=True, blank=True)
    voiced_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # What the providers billed for this entry.
    llm_input_tokens = models.PositiveIntegerField(default=0)
    llm_output_tokens = models.PositiveIntegerField(default=0)
    translated_characters = models.PositiveIntegerField(default=0)
    audio_seconds = models.DecimalField(max_digits=9, decimal_places=3, default=0)
    # The learner's words the generator was asked to use (lemmas, due soonest
    # first), and those the passage's tokens have as their lemma.
    review_words = models.JSONField(default=list, blank=True)
    review_words_used = models.JSONField(default=list, blank=True)
    # How hard the passage is for the adventure's level (``langlearn.difficulty``)
    # and the share of its content lemmas within the level's frequency band
    # (``langlearn.levels``), measured when it is generated; null until then.
    level_fit = models.FloatField(
        null=True, blank=True, help_text="Share of its content lemmas within the level's band."
    )
    level_content_lemmas = models.PositiveIntegerField(null=True, blank=True)
    level_words_above = models.JSONField(
        default=list, blank=True, help_text="Content lemmas above the level, rarest first."
    )
    level_regenerated = models.BooleanField(
        default=False,
        help_text="Too hard for its level or its learner, so the generator was asked once more.",
    )
    level_reasked_for = models.CharField(
        max_length=32,
        blank=True,
        choices=ReaskReason.choices,
        help_text="Why it was asked for once more (blank: it was not).",
    )
    level_estimate = models.FloatField(
        null=True,
        blank=True,
        help_text="Estimated CEFR level, 1.0 (A1) to 6.0 (C2) (langlearn.difficulty).",
    )
    level_reasons = models.JSONField(
        default=dict,
        blank=True,
        help_text="What puts it above its level: words, verb forms, sentence length.",
    )
    # How much of it the learner knew when it was written (``langlearn.difficulty
    # .coverage``), measured when it is generated; empty until then, and for
    # passages generated before coverage was measured at generation.
    coverage = models.JSONField(
        default=dict,
        blank=True,
        help_text="Share of its running words the learner knew, learning words, new words.",
    )
    # Branches: the choice this entry follows (kept once adopted), and when a
    # decision for another choice dropped it while its job was still running.
    branch_choice = models.OneToOneField(
        "Choice",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="branch",
        help_text="Generated ahead for this choice (a branch).",
    )
    dropped_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["adventure", "position"]
        verbose_name_plural = "entries"
        constraints = [
            models.UniqueConstraint(fields=["adventure", "position"], name="entry_position_unique"),
            models.CheckConstraint(
                condition=models.Q(position__gte=1), name="entry_position_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(position__isnull=False) | models.Q(branch_choice__isnull=False),
                name="entry_position_or_branch",
            ),
        ]
        indexes = [models.Index(fields=["status", "updated_at"])]

    def __str__(self) -> str:
        if self.position is None:
            return f"Branch {self.id} of {self.adventure_id}"
        return f"Entry {self.position} of {self.adventure_id}"

    @property
    def is_branch(self) -> bool:
        """Generated ahead and not adopted by a decision (yet)."""
        return self.position is None


class Sentence(models.Model):
    """One sentence of an entry's passage and its translation."""

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="sentences")
    index = models.PositiveIntegerField()
    text = models.TextField()
    translation = models.TextField(blank=True)
    # Where the sentence is read in the entry's audio file (milliseconds from its
    # start); empty until the passage is voiced. Contiguous over an entry's
    # sentences: the first starts at 0, the last ends at ``Audio.duration_ms``.
    start_ms = models.PositiveIntegerField(null=True, blank=True)
    end_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["entry", "index"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "index"], name="sentence_index_unique")
        ]

    def __str__(self) -> str:
        return self.text


class Choice(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="choices")
    index = models.PositiveIntegerField()
    text = models.TextField()
    translation = models.TextField(blank=True)

    class Meta:
        ordering = ["entry", "index"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "index"], name="choice_index_unique")
        ]

    def __str__(self) -> str:
        return self.text


class Token(models.Model):
    """A word (or punctuation mark) of the passage with its lemma and POS."""

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="tokens")
    index = models.PositiveIntegerField()
    sentence = models.PositiveIntegerField(help_text="Index of the sentence.")
    text = models.CharField(max_length=200)
    lemma = models.CharField(max_length=200)
    pos = models.CharField(max_length=16, blank=True)
    band = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Frequency band of the lemma, 1 (most frequent) to 6, for content words.",
    )

    class Meta:
        ordering = ["entry", "index"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "index"], name="token_index_unique")
        ]

    def __str__(self) -> str:
        return self.text


class Audio(models.Model):
    """The passage read aloud; the file lives in the ``audio`` storage."""

    entry = models.OneToOneField(Entry, on_delete=models.CASCADE, related_name="audio")
    file = models.CharField(max_length=300, help_text="Name in the audio storage.")
    content_type = models.CharField(max_length=100)
    duration_ms = models.PositiveIntegerField()
    size_bytes = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "audio"

    def __str__(self) -> str:
        return self.file


class Decision(models.Model):
    """The learner's choice at the end of an entry; it leads to the next entry."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    entry = models.OneToOneField(Entry, on_delete=models.CASCADE, related_name="decision")
    # RESTRICT: a decided choice cannot be deleted alone, but goes with its
    # story when the adventure (or the learner) is deleted.
    choice = models.ForeignKey(Choice, on_delete=models.RESTRICT, related_name="+")
    next_entry = models.OneToOneField(
        Entry, on_delete=models.CASCADE, related_name="previous_decision"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Decision on {self.entry_id}"


class EntryEvent(models.Model):
    """One change of an entry's status, as the events stream sends it.

    Written by ``adventures.services.lifecycle`` in the transaction that
    changed the status, which also sends it with PostgreSQL ``NOTIFY``. The id
    is the stream's event id: it only grows, and within one adventure events
    commit in id order (the adventure's row is locked while one is written), so
    a client that resumes with ``Last-Event-ID`` gets every later event from
    this table.
    """

    id = models.BigAutoField(primary_key=True)
    adventure = models.ForeignKey(Adventure, on_delete=models.CASCADE, related_name="events")
    entry_id = models.UUIDField()
    position = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Entry.Status)
    adventure_status = models.CharField(max_length=24, choices=Adventure.Status)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["adventure", "id"])]

    def __str__(self) -> str:
        return f"event {self.id}: entry {self.position} {self.status}"


class DroppedBranch(models.Model):
    """What a branch that no decision adopted cost before it was dropped:
    speculative spend, summed per adventure by ``selectors.adventure_costs``."""

    adventure = models.ForeignKey(
        Adventure, on_delete=models.CASCADE, related_name="dropped_branches"
    )
    entry_id = models.UUIDField(help_text="The id the dropped branch had.")
    status = models.CharField(max_length=16, help_text="Its status when it was dropped.")
    branch_created_at = models.DateTimeField()
    dropped_at = models.DateTimeField(auto_now_add=True)
    llm_input_tokens = models.PositiveIntegerField(default=0)
    llm_output_tokens = models.PositiveIntegerField(default=0)
    translated_characters = models.PositiveIntegerField(default=0)
    audio_seconds = models.DecimalField(max_digits=9, decimal_places=3, default=0)

    class Meta:
        ordering = ["-dropped_at"]
        indexes = [models.Index(fields=["adventure", "branch_created_at"])]

    def __str__(self) -> str:
        return f"Dropped branch {self.entry_id}"
