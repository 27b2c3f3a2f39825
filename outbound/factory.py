"""The one place that decides which client serves each port.

Stubs serve every port unless the provider's key is configured; with
``STUB_GENERATION=true`` stubs serve even when keys are set. Clients are built
once per process and shared (they hold connection pools and loaded models).
"""

from __future__ import annotations

from functools import cache

from django.conf import settings

from .anthropic.base import StoryGenerator
from .deepl.base import Translator
from .gemini.base import Voice
from .spacy.base import Annotator
from .storage.base import AudioStorage


def stubbed(key_setting: str) -> bool:
    return settings.STUB_GENERATION or not getattr(settings, key_setting)


@cache
def get_generator() -> StoryGenerator:
    from .anthropic.stub import StubGenerator

    return StubGenerator()


@cache
def get_translator() -> Translator:
    from .deepl.stub import StubTranslator

    return StubTranslator()


@cache
def get_voice() -> Voice:
    from .gemini.stub import StubVoice

    return StubVoice()


@cache
def get_annotator() -> Annotator:
    from .spacy.client import SpacyAnnotator

    return SpacyAnnotator(settings.SPACY_MODELS)


@cache
def get_audio_storage() -> AudioStorage:
    from .storage.django_storage import DjangoAudioStorage

    return DjangoAudioStorage()


def reset() -> None:
    """Forget built clients (tests that change settings call this)."""
    for factory in (
        get_generator,
        get_translator,
        get_voice,
        get_annotator,
        get_audio_storage,
    ):
        factory.cache_clear()
