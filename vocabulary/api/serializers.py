"""Output shapes of the vocabulary API."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from vocabulary.models import Word


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
