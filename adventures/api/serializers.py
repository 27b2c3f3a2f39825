"""Output shapes of the learner API, shared by several views."""

from __future__ import annotations

from uuid import UUID

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from adventures.models import Adventure, Audio, Choice, Entry, Sentence, Token
from langlearn import difficulty, levels
from outbound import factory
from vocabulary.models import LemmaStatus


class EntrySummarySerializer(serializers.ModelSerializer):
    # NULL only for a branch not adopted yet, which learners are never shown.
    position = serializers.IntegerField(read_only=True, min_value=1)

    class Meta:
        model = Entry
        fields = ["id", "position", "status"]


class AdventureSerializer(serializers.ModelSerializer):
    entries = EntrySummarySerializer(many=True, read_only=True)

    class Meta:
        model = Adventure
        fields = [
            "id",
            "target_language",
            "native_language",
            "level",
            "theme",
            "title",
            "status",
            "created_at",
            "updated_at",
            "entries",
        ]


class SentenceSerializer(serializers.ModelSerializer):
    """A sentence and where it is read in the entry's audio: ``start_ms`` and
    ``end_ms`` (milliseconds from the file's start) are null until the passage
    is voiced; over an entry they are contiguous, from 0 to the audio's
    ``duration_ms``."""

    class Meta:
        model = Sentence
        fields = ["text", "translation", "start_ms", "end_ms"]


class ChoiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Choice
        fields = ["id", "index", "text", "translation"]


class TokenSerializer(serializers.ModelSerializer):
    """A token, with the requesting learner's status for its lemma: the view
    puts ``{token id: TokenWord}`` in the context as ``token_words``
    (``vocabulary.selectors.entry_token_words``, one query for the whole entry),
    and the lower-cased lemmas of the entry's ``review_words`` as ``review_lemmas``."""

    status = serializers.SerializerMethodField()
    word_id = serializers.SerializerMethodField()
    review = serializers.SerializerMethodField(
        help_text="True for a word of yours this passage was written to review "
        "(its lemma is one of the entry's review_words)."
    )

    class Meta:
        model = Token
        fields = ["id", "text", "lemma", "pos", "sentence", "band", "status", "word_id", "review"]
        extra_kwargs = {
            "band": {
                "help_text": "Frequency band of the lemma, 1 (the 1,500 most frequent lemmas) "
                "to 6 (rarer than the 4,500 most frequent), for content words (nouns, verbs, "
                "adjectives, adverbs); null for the others."
            }
        }

    def get_review(self, token: Token) -> bool:
        return token.lemma.lower() in self.context.get("review_lemmas", ())

    @extend_schema_field(serializers.ChoiceField(choices=LemmaStatus.choices))
    def get_status(self, token: Token) -> str:
        word = self.context["token_words"].get(token.id)
        return word.status if word else LemmaStatus.NEW

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_word_id(self, token: Token) -> UUID | None:
        word = self.context["token_words"].get(token.id)
        return word.word_id if word else None


class AudioSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Audio
        fields = ["url", "duration_ms", "content_type"]

    def get_url(self, audio: Audio) -> str:
        url = factory.get_audio_storage().url(audio.file)
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


class ConstructionSerializer(serializers.Serializer):
    name = serializers.CharField(help_text='The verb form, e.g. "present subjunctive".')
    level = serializers.ChoiceField(
        choices=levels.LEVELS, help_text="The level at which it is taught."
    )
    words = serializers.ListField(
        child=serializers.CharField(), help_text="The passage's words in that form."
    )


class LevelReasonsSerializer(serializers.Serializer):
    """What puts the passage above the adventure's level (``langlearn.difficulty``)."""

    words = serializers.ListField(
        child=serializers.CharField(),
        help_text="Content lemmas past the level's vocabulary, rarest first (names, numbers, "
        "the learner's review words and the theme's words are never counted).",
    )
    constructions = ConstructionSerializer(
        many=True, help_text="Verb forms taught after the level, the most advanced first."
    )
    sentence_length = serializers.FloatField(help_text="Words per sentence.")
    subordinate_clauses = serializers.FloatField(help_text="Subordinate clauses per sentence.")
    vocabulary_rank = serializers.IntegerField(
        allow_null=True,
        help_text="The frequency rank a reader must know to know 90 % of the content words.",
    )


class CoverageSerializer(serializers.Serializer):
    """How much of the passage its learner knew when it was written
    (``langlearn.difficulty.coverage``): running words, each time they occur,
    names and numbers left out."""

    known = serializers.FloatField(
        allow_null=True,
        help_text="Share of the running words known: marked known or ignored, or not marked "
        "and within the estimated vocabulary (null without running words).",
    )
    learning = serializers.FloatField(
        allow_null=True, help_text="Share of the running words marked learning."
    )
    new_words = serializers.ListField(
        child=serializers.CharField(),
        help_text="Content lemmas neither known nor learning, in order of first use.",
    )
    running_words = serializers.IntegerField(help_text="Running words counted.")
    basis = serializers.ChoiceField(
        choices=["placement", "level"],
        help_text="What judged the words the learner has not marked: their placement check, "
        "or (without one) the vocabulary of the adventure's level.",
    )
    vocabulary = serializers.IntegerField(
        help_text="The estimated vocabulary (lemmas) those words were judged by."
    )


class LevelFitSerializer(serializers.Serializer):
    """How hard the passage is for the adventure's level (``langlearn.difficulty``),
    and how much of it the requesting learner already knows."""

    estimate = serializers.FloatField(
        allow_null=True,
        help_text="Estimated CEFR level, 1.0 (A1) to 6.0 (C2); null for passages measured "
        "before the estimate existed.",
    )
    estimated_level = serializers.ChoiceField(
        choices=levels.LEVELS, allow_null=True, help_text="The estimate, rounded to a level."
    )
    reasons = LevelReasonsSerializer(
        allow_null=True, help_text="What puts it above the level (null before the estimate)."
    )
    on_level = serializers.BooleanField(
        help_text=f"Not too hard for the level: the estimate is less than "
        f"{difficulty.model.REASK_MARGIN} above it."
    )
    fit = serializers.FloatField(
        allow_null=True,
        help_text="Share of the passage's distinct content lemmas within the level's frequency "
        "band (one figure of the vocabulary; null without content words).",
    )
    content_lemmas = serializers.IntegerField(help_text="Distinct content lemmas measured.")
    words_above = serializers.ListField(
        child=serializers.CharField(),
        help_text="The content lemmas past the level's vocabulary, rarest first.",
    )
    regenerated = serializers.BooleanField(
        help_text="The first passage was too hard for the level, or brought the learner far "
        "more new words than the level's budget, so it was asked for once more."
    )
    reasked_for = serializers.ChoiceField(
        choices=Entry.ReaskReason.choices,
        allow_null=True,
        help_text="Why it was asked for once more: too hard for the level, too many new words "
        "for the learner, or both (null when it was not).",
    )
    coverage = CoverageSerializer(
        allow_null=True,
        help_text="How much of it the learner knew when it was written (null before its "
        "tokens, or for passages measured before coverage existed).",
    )
    known_share = serializers.FloatField(
        allow_null=True,
        help_text="Share of the entry's content lemmas you have marked known "
        "(null until the entry is annotated).",
    )
    new_words = serializers.IntegerField(
        help_text="Distinct content lemmas of the entry you have no word for."
    )


class DecisionRefSerializer(serializers.Serializer):
    choice_id = serializers.UUIDField()


class EntrySerializer(serializers.ModelSerializer):
    sentences = SentenceSerializer(many=True, read_only=True)
    choices = ChoiceSerializer(many=True, read_only=True)
    tokens = TokenSerializer(many=True, read_only=True)
    text = serializers.SerializerMethodField()
    audio = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()
    decision = serializers.SerializerMethodField()
    review_words = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Your words (lemmas, learning, due soonest first) the passage was asked "
        "to use; empty until it is generated.",
    )
    review_words_used = serializers.SerializerMethodField(
        help_text="Of review_words, those the passage uses (a token has it as its lemma); "
        "null until the passage is annotated."
    )
    level = serializers.SerializerMethodField()
    position = serializers.IntegerField(read_only=True, min_value=1)

    class Meta:
        model = Entry
        fields = [
            "id",
            "position",
            "status",
            "text",
            "sentences",
            "choices",
            "tokens",
            "audio",
            "error",
            "decision",
            "review_words",
            "review_words_used",
            "level",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.CharField(), allow_null=True))
    def get_review_words_used(self, entry: Entry) -> list[str] | None:
        return entry.review_words_used if entry.annotated_at else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_text(self, entry: Entry) -> str | None:
        return entry.text if entry.generated_at else None

    @extend_schema_field(AudioSerializer(allow_null=True))
    def get_audio(self, entry: Entry) -> dict | None:
        audio = getattr(entry, "audio", None)
        return AudioSerializer(audio, context=self.context).data if audio else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_error(self, entry: Entry) -> str | None:
        return entry.error_message or None if entry.status == Entry.Status.ERROR else None

    @extend_schema_field(DecisionRefSerializer(allow_null=True))
    def get_decision(self, entry: Entry) -> dict | None:
        decision = getattr(entry, "decision", None)
        return {"choice_id": decision.choice_id} if decision else None

    @extend_schema_field(LevelFitSerializer(allow_null=True))
    def get_level(self, entry: Entry) -> dict | None:
        """Null until the passage is measured (or for entries generated before)."""
        if entry.level_content_lemmas is None:
            return None
        # The learner's figures: from the tokens and the statuses the view
        # already read (``token_words``), no further query.
        words = self.context.get("token_words", {})
        lemmas: dict[str, str] = {}
        for token in entry.tokens.all():
            if token.band is not None:
                word = words.get(token.id)
                status = word.status if word else LemmaStatus.NEW
                lemmas.setdefault(token.lemma.lower(), status)
        statuses = list(lemmas.values())
        estimate = entry.level_estimate
        if estimate is None:  # measured by the frequency bands alone
            on_level = entry.level_fit is None or entry.level_fit >= levels.ON_LEVEL_SHARE
        else:
            on_level = not difficulty.too_hard(estimate, entry.adventure.level)
        return {
            "estimate": estimate,
            "estimated_level": None if estimate is None else difficulty.level_name(estimate),
            "reasons": entry.level_reasons or None,
            "on_level": on_level,
            "fit": entry.level_fit,
            "content_lemmas": entry.level_content_lemmas,
            "words_above": entry.level_words_above,
            "regenerated": entry.level_regenerated,
            "reasked_for": entry.level_reasked_for or None,
            "coverage": entry.coverage or None,
            "known_share": (
                statuses.count(LemmaStatus.KNOWN) / len(statuses) if statuses else None
            ),
            "new_words": statuses.count(LemmaStatus.NEW),
        }
