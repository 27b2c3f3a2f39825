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

from langlearn.levels import CefrLevel

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


class Card(models.Model):
    """The FSRS card of a word (the ``fsrs`` package's ``Card``, one column a field).

    Created, due at once, when a word is saved as ``learning`` (or set back to
    it without one). A word marked ``known`` or ``ignored`` keeps its card, but
    only ``learning`` words are ever due; set back to ``learning`` it resumes
    its schedule where it was (due now if that time has passed). The id is the
    library's ``card_id``.
    """

    class State(models.IntegerChoices):  # fsrs.State
        LEARNING = 1
        REVIEW = 2
        RELEARNING = 3

    id = models.BigAutoField(primary_key=True)
    word = models.OneToOneField(Word, on_delete=models.CASCADE, related_name="card")
    due = models.DateTimeField(db_index=True)
    state = models.PositiveSmallIntegerField(choices=State, default=State.LEARNING)
    step = models.PositiveSmallIntegerField(null=True, blank=True)
    stability = models.FloatField(null=True, blank=True)
    difficulty = models.FloatField(null=True, blank=True)
    last_review = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"card of {self.word_id}, due {self.due:%Y-%m-%d %H:%M}"


class Review(models.Model):
    """One review of a card, as the learner rated it: the log FSRS can be
    re-fitted from (the library's ``ReviewLog``: card, rating, time), with the
    card before and after (``Card.to_dict()``).

    ``review_id`` is the client's: a review sent again counts once.
    """

    class Rating(models.IntegerChoices):  # fsrs.Rating
        AGAIN = 1
        HARD = 2
        GOOD = 3
        EASY = 4

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviews"
    )
    word = models.ForeignKey(Word, on_delete=models.CASCADE, related_name="reviews")
    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="reviews")
    review_id = models.UUIDField()
    rating = models.PositiveSmallIntegerField(choices=Rating)
    reviewed_at = models.DateTimeField()
    card_before = models.JSONField()
    card_after = models.JSONField()
    due = models.DateTimeField(help_text="When the card is due next, after this review.")

    class Meta:
        ordering = ["-reviewed_at", "-id"]
        constraints = [
            models.UniqueConstraint("user", "review_id", name="review_unique_per_learner"),
            models.CheckConstraint(
                condition=models.Q(rating__gte=1, rating__lte=4), name="review_rating_valid"
            ),
        ]
        indexes = [models.Index(fields=["card", "reviewed_at"], name="review_card_time")]

    def __str__(self) -> str:
        return f"{self.get_rating_display()} on {self.word_id} at {self.reviewed_at:%Y-%m-%d %H:%M}"


class Placement(models.Model):
    """A learner's placement result in a target language: one per learner and
    language, replaced when they answer again (``services.placement_submit``).

    ``answers`` keeps every item as it was asked (word, band or null for a
    pseudo-word, the answer), so that a result can be re-scored or the method
    re-fitted when the item pools change.
    """

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="placements"
    )
    language = models.CharField(max_length=8)
    vocabulary_size = models.PositiveIntegerField(help_text="Estimated lemmas known.")
    level = models.CharField(
        max_length=2, choices=CefrLevel, help_text="The CEFR level it suggests."
    )
    hits = models.PositiveSmallIntegerField(help_text="Real words claimed known.")
    real_words = models.PositiveSmallIntegerField()
    false_alarms = models.PositiveSmallIntegerField(help_text="Pseudo-words claimed known.")
    pseudo_words = models.PositiveSmallIntegerField()
    bands = models.JSONField(help_text='Per frequency band: {"band", "words", "hits"}.')
    answers = models.JSONField(help_text='Per item, in order: {"id", "word", "band", "known"}.')
    answered_at = models.DateTimeField()

    class Meta:
        ordering = ["-answered_at", "-id"]
        constraints = [
            models.UniqueConstraint("user", "language", name="placement_unique_per_learner"),
        ]

    def __str__(self) -> str:
        return f"{self.language} {self.level} ({self.vocabulary_size} lemmas)"
