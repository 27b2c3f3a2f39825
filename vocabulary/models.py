"""A learner's words: (learner, target language, lemma) with a status.

A lemma the learner never acted on has no row: it is ``new``. The lemma is kept
as it was saved; the database makes it unique per learner and language
whatever its case (``lower(lemma)``), and every lookup matches it that way, so
a token's ``Pescador`` and a saved ``pescador`` are one word.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

LEMMA_MAX_LENGTH = 200  # as adventures.models.Token.lemma


class LemmaStatus(models.TextChoices):
    """What a client sees for any lemma: ``new`` means the learner has no word for it."""

    NEW = "new"
    LEARNING = "learning"
    KNOWN = "known"
    IGNORED = "ignored"


class Word(models.Model):
    class Status(models.TextChoices):
        LEARNING = "learning"  # saved, to be reviewed
        KNOWN = "known"
        IGNORED = "ignored"  # a name, a word of another language: never asked about

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Deleting a learner deletes their words.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="words"
    )
    language = models.CharField(max_length=8)
    lemma = models.CharField(max_length=LEMMA_MAX_LENGTH)
    status = models.CharField(max_length=8, choices=Status, default=Status.LEARNING)
    # Where it was met; kept when the entry (or its adventure) is deleted.
    sentence = models.TextField(blank=True)
    translation = models.TextField(blank=True)
    entry = models.ForeignKey(
        "adventures.Entry",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Also the index every lookup by lemma uses.
            models.UniqueConstraint(
                "user", "language", Lower("lemma"), name="word_unique_per_learner"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["learning", "known", "ignored"]),
                name="word_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="word_user_created")]

    def __str__(self) -> str:
        return f"{self.lemma} ({self.language})"
