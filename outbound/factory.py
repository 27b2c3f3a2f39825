"""The one place that decides which client plays each role (``outbound.roles``).

Stubs play every role unless the provider's key is configured; with
``STUB_GENERATION=true`` stubs serve even when keys are set. Clients are built
once per process and shared (they hold connection pools and loaded models).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from django.conf import settings

from .roles import Annotator, AudioStorage, DigestWriter, StoryGenerator, Translator, Voice
from .stubs import drills

if TYPE_CHECKING:
    from .anthropic.client import AnthropicGenerator


def stubbed(key_setting: str) -> bool:
    return settings.STUB_GENERATION or not getattr(settings, key_setting)


@cache
def _anthropic() -> AnthropicGenerator:
    """The Anthropic client: it writes both the stories and the news digest."""
    from .anthropic.client import AnthropicGenerator

    return AnthropicGenerator(
        api_key=settings.ANTHROPIC_API_KEY,
        model=settings.ANTHROPIC_MODEL,
        base_url=settings.ANTHROPIC_BASE_URL,
        timeout=settings.PROVIDER_TIMEOUT,
        max_tokens=settings.ANTHROPIC_MAX_TOKENS,
    )


@cache
def get_generator() -> StoryGenerator:
    if not stubbed("ANTHROPIC_API_KEY"):
        return _anthropic()
    from .anthropic.stub import StubGenerator

    return StubGenerator()


@cache
def get_digest_writer() -> DigestWriter:
    """The news digest's writer: the generator's vendor, its key and model."""
    if not stubbed("ANTHROPIC_API_KEY"):
        return _anthropic()
    from .anthropic.stub import StubDigestWriter

    return StubDigestWriter()


@cache
def get_translator() -> Translator:
    if not stubbed("DEEPL_API_KEY"):
        from .deepl.client import DeepLTranslator

        return DeepLTranslator(
            auth_key=settings.DEEPL_API_KEY,
            server_url=settings.DEEPL_SERVER_URL,
            timeout=settings.PROVIDER_TIMEOUT,
        )
    from .deepl.stub import StubTranslator

    return StubTranslator()


@cache
def get_voice() -> Voice:
    if not stubbed("GEMINI_API_KEY"):
        from .gemini.client import GeminiVoice

        return GeminiVoice(
            api_key=settings.GEMINI_API_KEY,
            model=settings.GEMINI_TTS_MODEL,
            voices=settings.GEMINI_VOICES,
            base_url=settings.GEMINI_BASE_URL,
            timeout=settings.PROVIDER_TIMEOUT,
        )
    from .gemini.stub import StubVoice

    return StubVoice()


@cache
def get_lemmatizer() -> Annotator:
    """The annotator itself, never drilled: what the generate step measures a
    passage's level with (``adventures.levelfit``), offline, in about a ms."""
    from .spacy.client import SpacyAnnotator

    return SpacyAnnotator(settings.SPACY_MODELS)


def warm_annotator(language: str) -> None:
    """Load what annotating ``language`` needs in this process now (the
    worker's warm-up), not in its first passage."""
    from .spacy.client import SpacyAnnotator

    lemmatizer = get_lemmatizer()
    if isinstance(lemmatizer, SpacyAnnotator):
        lemmatizer.warm(language)


@cache
def get_annotator() -> Annotator:
    # spaCy runs offline and needs no key: it is the annotator, stubbed or not.
    # Only the drills (a wait, faults, the call log) make it a stub.
    annotator = get_lemmatizer()
    if drills.configured("annotate"):
        from .spacy.stub import DrilledAnnotator

        return DrilledAnnotator(annotator)
    return annotator


@cache
def get_audio_storage() -> AudioStorage:
    from .storage.django_storage import DjangoAudioStorage

    return DjangoAudioStorage()


def reset() -> None:
    """Forget built clients (tests that change settings call this)."""
    for factory in (
        _anthropic,
        get_generator,
        get_digest_writer,
        get_translator,
        get_voice,
        get_annotator,
        get_lemmatizer,
        get_audio_storage,
    ):
        factory.cache_clear()
