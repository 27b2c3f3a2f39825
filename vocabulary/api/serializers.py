"""Output shapes of the vocabulary API."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from langlearn.levels import CefrLevel
from vocabulary.models import Card, Review, Word


@extend_schema_serializer(component_name="Word")
class WordSerializer(serializers.ModelSerializer):
    entry_id = serializers.UUIDField(
        allow_null=True,
        read_only=True,
        help_text="The entry it was saved from; null when saved by lemma or the entry is gone.",
    )

    class Meta:
        model = Word
        fields = [
            "id",
            "language",
            "lemma",
            "status",
            "sentence",
            "translation",
            "entry_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


@extend_schema_serializer(component_name="DueReview")
class DueReviewSerializer(serializers.ModelSerializer):
    word_id = serializers.UUIDField(read_only=True)
    lemma = serializers.CharField(source="word.lemma", read_only=True)
    sentence = serializers.CharField(
        source="word.sentence", read_only=True, help_text="Where you met it; may be empty."
    )
    translation = serializers.CharField(
        source="word.translation", read_only=True, help_text="That sentence's translation."
    )

    class Meta:
        model = Card
        fields = ["word_id", "lemma", "sentence", "translation", "due"]


@extend_schema_serializer(component_name="ReviewResult")
class ReviewResultSerializer(serializers.ModelSerializer):
    word_id = serializers.UUIDField(read_only=True)
    rating = serializers.SerializerMethodField()
    state = serializers.SerializerMethodField(
        help_text="The card's FSRS state after the review: learning, review or relearning."
    )

    class Meta:
        model = Review
        fields = ["word_id", "review_id", "rating", "reviewed_at", "due", "state"]

    @extend_schema_field(serializers.ChoiceField(choices=["again", "hard", "good", "easy"]))
    def get_rating(self, review: Review) -> str:
        return Review.Rating(review.rating).label.lower()

    @extend_schema_field(serializers.ChoiceField(choices=["learning", "review", "relearning"]))
    def get_state(self, review: Review) -> str:
        return Card.State(review.card_after["state"]).label.lower()


class WordCountsSerializer(serializers.Serializer):
    learning = serializers.IntegerField()
    known = serializers.IntegerField()
    ignored = serializers.IntegerField()


class RecentCoverageSerializer(serializers.Serializer):
    passages = serializers.IntegerField(help_text="Latest passages measured (at most 20).")
    known = serializers.FloatField(
        allow_null=True, help_text="Mean share of their running words you knew."
    )
    learning = serializers.FloatField(
        allow_null=True, help_text="Mean share of their running words you were learning."
    )
    new_words = serializers.FloatField(
        allow_null=True, help_text="Mean number of new content words per passage."
    )


@extend_schema_serializer(component_name="Progress")
class ProgressSerializer(serializers.Serializer):
    language = serializers.CharField()
    words = WordCountsSerializer(help_text="Your words in the language, by status.")
    reviews_today = serializers.IntegerField(help_text="Reviews you did today.")
    due_now = serializers.IntegerField(help_text="Words due for review now.")
    streak_days = serializers.IntegerField(
        help_text="Days in a row, up to today (or yesterday, while today has none yet), "
        "with a review or a passage read."
    )
    active_today = serializers.BooleanField(help_text="A review or a passage read today.")
    passages_read = serializers.IntegerField(
        help_text="Complete passages you acted on: decided at their end, marked known, "
        "or saved a word from."
    )
    audio_minutes = serializers.FloatField(help_text="How long those passages' audio plays.")
    coverage = RecentCoverageSerializer(
        help_text="How much of your latest passages you knew when they were written "
        "(known-word coverage: about 98 % reads with ease, 95 % with effort)."
    )


@extend_schema_serializer(component_name="PlacementResult")
class PlacementResultSerializer(serializers.Serializer):
    language = serializers.CharField()
    vocabulary_size = serializers.IntegerField(
        help_text="Estimated lemmas you know, of the 10,000 most frequent: each band of 1,000 "
        "counts its share of real words you claimed minus your share of pseudo-words claimed "
        "(never below 0)."
    )
    level = serializers.ChoiceField(
        choices=CefrLevel.choices, help_text="The highest CEFR level whose vocabulary it reaches."
    )
    hits = serializers.IntegerField(help_text="Real words you said you know.")
    real_words = serializers.IntegerField(help_text="Real words in the test.")
    false_alarms = serializers.IntegerField(help_text="Pseudo-words you said you know.")
    pseudo_words = serializers.IntegerField(help_text="Pseudo-words in the test.")
    answered_at = serializers.DateTimeField()


@extend_schema_serializer(component_name="PlacementItem")
class PlacementItemSerializer(serializers.Serializer):
    id = serializers.CharField()
    word = serializers.CharField()


@extend_schema_serializer(component_name="Placement")
class PlacementSerializer(serializers.Serializer):
    language = serializers.CharField()
    items = PlacementItemSerializer(
        many=True,
        help_text="Say for each whether you know it (yes or no). Some are not words at all; "
        "saying yes to those lowers the estimate. The same items, in the same order, every time.",
    )
    estimated_seconds = serializers.IntegerField(help_text="About how long the test takes.")
    result = PlacementResultSerializer(
        allow_null=True, help_text="Your current result; null until you answer."
    )
