"""Adventures and what the pipeline writes for each of their entries.

The database enforces the story's shape: entry positions are unique per
adventure, choice indexes unique per entry, and an entry has at most one
decision. Everything under an entry (sentences, choices, tokens, audio) is
written by the pipeline, one step at a time; the ``*_at`` timestamps on the
entry record which steps have finished, so a retried job resumes after them.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models


class CefrLevel(models.TextChoices):
    A1 = "A1"
    A2 = "A2"
    B1 = "B1"
    B2 = "B2"
    C1 = "C1"
    C2 = "C2"


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

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    adventure = models.ForeignKey(Adventure, on_delete=models.CASCADE, related_name="entries")
    position = models.PositiveIntegerField()
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
        ]
        indexes = [models.Index(fields=["status", "updated_at"])]

    def __str__(self) -> str:
        return f"Entry {self.position} of {self.adventure_id}"


class Sentence(models.Model):
    """One sentence of an entry's passage and its translation."""

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="sentences")
    index = models.PositiveIntegerField()
    text = models.TextField()
    translation = models.TextField(blank=True)

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
    choice = models.ForeignKey(Choice, on_delete=models.PROTECT, related_name="+")
    next_entry = models.OneToOneField(
        Entry, on_delete=models.CASCADE, related_name="previous_decision"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Decision on {self.entry_id}"


class ProviderBudget(models.Model):
    """One provider's share of ``PROVIDER_LIMITS``, for the whole fleet of workers.

    ``calls`` holds the grant times of the provider's most recent calls (as many
    as its limit allows per window); ``blocked_until`` is set when the provider
    answered with a ``Retry-After``. Only ``adventures.ratelimits`` writes it,
    with single SQL statements (see there).
    """

    provider = models.CharField(max_length=32, primary_key=True)
    calls = ArrayField(models.DateTimeField(), default=list, blank=True)
    blocked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.provider
