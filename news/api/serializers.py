"""Output shapes of the digest API: the reading payload of an entry (text,
sentence pairs, tokens with the learner's word statuses, audio) plus its
sources."""

from __future__ import annotations

from uuid import UUID

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from news.models import Digest, DigestAudio, DigestItem, DigestSentence, DigestToken
from outbound import factory
from vocabulary.models import LemmaStatus


class DigestSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Digest
        fields = ["id", "date", "target_language", "level", "title"]
        read_only_fields = fields


class DigestSentenceSerializer(serializers.ModelSerializer):
    """A sentence, its translation into the learner's native language (null
    when the digest was made before any learner read it in that language) and
    where it is read in the digest's audio: ``start_ms`` and ``end_ms``
    (milliseconds from the file's start) are null until the digest is voiced;
    over a digest they are contiguous, from 0 to the audio's ``duration_ms``."""

    translation = serializers.SerializerMethodField()

    class Meta:
        model = DigestSentence
        fields = ["text", "translation", "start_ms", "end_ms"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_translation(self, sentence: DigestSentence) -> str | None:
        language = self.context["native_language"]
        found = [t.text for t in sentence.translations.all() if t.language == language]
        return found[0] if found else None


class DigestTokenSerializer(serializers.ModelSerializer):
    """A token with the learner's status for its lemma and their word's id. To
    save one, ``POST /api/words`` with ``language`` and ``lemma``."""

    status = serializers.SerializerMethodField()
    word_id = serializers.SerializerMethodField()

    class Meta:
        model = DigestToken
        fields = ["text", "lemma", "pos", "sentence", "status", "word_id"]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=LemmaStatus.choices))
    def get_status(self, token: DigestToken) -> str:
        word = self.context["lemma_words"].get(token.lemma.lower())
        return word.status if word else LemmaStatus.NEW

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_word_id(self, token: DigestToken) -> UUID | None:
        word = self.context["lemma_words"].get(token.lemma.lower())
        return word.word_id if word else None


class DigestAudioSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = DigestAudio
        fields = ["url", "duration_ms", "content_type"]
        read_only_fields = fields

    def get_url(self, audio: DigestAudio) -> str:
        url = factory.get_audio_storage().url(audio.file)
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


class DigestSourceSerializer(serializers.ModelSerializer):
    headline = serializers.CharField(source="item.headline")
    link = serializers.CharField(source="item.link")
    published_at = serializers.DateTimeField(source="item.published_at", allow_null=True)
    source_name = serializers.CharField(
        source="item.source.__str__", help_text="The feed's name (or its URL)."
    )

    class Meta:
        model = DigestItem
        fields = ["headline", "link", "published_at", "source_name"]
        read_only_fields = fields


class DigestSerializer(serializers.ModelSerializer):
    translation_language = serializers.SerializerMethodField()
    sentences = DigestSentenceSerializer(many=True, read_only=True)
    tokens = DigestTokenSerializer(many=True, read_only=True)
    audio = serializers.SerializerMethodField()
    sources = DigestSourceSerializer(source="citations", many=True, read_only=True)

    class Meta:
        model = Digest
        fields = [
            "id",
            "date",
            "target_language",
            "level",
            "title",
            "text",
            "translation_language",
            "sentences",
            "tokens",
            "audio",
            "sources",
        ]
        read_only_fields = fields

    def get_translation_language(self, digest: Digest) -> str:
        return self.context["native_language"]

    @extend_schema_field(DigestAudioSerializer(allow_null=True))
    def get_audio(self, digest: Digest) -> dict | None:
        audio = getattr(digest, "audio", None)
        return DigestAudioSerializer(audio, context=self.context).data if audio else None
