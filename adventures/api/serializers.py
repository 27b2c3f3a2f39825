"""Output shapes of the learner API, shared by several views."""

from __future__ import annotations

from uuid import UUID

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from adventures.models import Adventure, Audio, Choice, Entry, Sentence, Token
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
    class Meta:
        model = Sentence
        fields = ["text", "translation"]


class ChoiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Choice
        fields = ["id", "index", "text", "translation"]


class TokenSerializer(serializers.ModelSerializer):
    """A token, with the requesting learner's status for its lemma: the view
    puts ``{token id: TokenWord}`` in the context as ``token_words``
    (``vocabulary.selectors.entry_token_words``, one query for the whole entry)."""

    status = serializers.SerializerMethodField()
    word_id = serializers.SerializerMethodField()

    class Meta:
        model = Token
        fields = ["id", "text", "lemma", "pos", "sentence", "status", "word_id"]

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
        ]

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
