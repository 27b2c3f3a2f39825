"""The translator on DeepL's API (``deepl`` SDK, synchronous, on ``requests``).

The SDK blocks, so every call runs in a thread off the event loop. A passage
goes out as one request: its sentences (and choices) as a list, with
``split_sentences="0"`` so each item comes back as exactly one translation, in
order, and the whole passage as ``context`` (free of charge) so pronouns and
tenses agree across sentences.

DeepL wants regional target codes for English and Portuguese; the mapping from
our ISO 639-1 codes is explicit below. Its language list is fetched at most
once a day per deployment, through the Django cache.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import deepl
import deepl.http_client
from django.conf import settings
from django.core.cache import cache

from outbound.errors import ProviderError, is_transient_status

from .base import Language, Translation

logger = logging.getLogger(__name__)

PROVIDER = "deepl"
CACHE_KEY = "deepl:target-languages:v1"
CACHE_SECONDS = 24 * 3600
# When DeepL cannot be asked (down, or a bad key), a short-lived list of the
# targets it has long supported keeps the API answering; translate() will
# still fail clearly if DeepL really refuses a language.
FALLBACK_CACHE_SECONDS = 300
FALLBACK_LANGUAGES = {
    "bg": "Bulgarian", "cs": "Czech", "da": "Danish", "de": "German", "el": "Greek",
    "en": "English", "es": "Spanish", "et": "Estonian", "fi": "Finnish", "fr": "French",
    "hu": "Hungarian", "id": "Indonesian", "it": "Italian", "ja": "Japanese",
    "ko": "Korean", "lt": "Lithuanian", "lv": "Latvian", "nb": "Norwegian",
    "nl": "Dutch", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian",
    "ru": "Russian", "sk": "Slovak", "sl": "Slovenian", "sv": "Swedish",
    "tr": "Turkish", "uk": "Ukrainian", "zh": "Chinese",
}  # fmt: skip


def deepl_target_code(code: str) -> str:
    """Our language code -> DeepL's target code (regional where DeepL needs it)."""
    code = code.lower()
    regional = {
        "en": settings.DEEPL_ENGLISH_VARIANT,
        "pt": settings.DEEPL_PORTUGUESE_VARIANT,
        "zh": "ZH-HANS",
    }
    return regional.get(code, code.upper())


def our_code(deepl_code: str) -> str:
    return deepl_code.split("-")[0].lower()


class DeepLTranslator:
    def __init__(self, *, auth_key: str, server_url: str = "", timeout: float = 30.0) -> None:
        # The SDK keeps its retry and timeout policy in module globals. Its
        # own retries are off (the job queue retries, with backoff, and counts
        # the attempts); its timeout floor is ours. Note: the SDK waits at least
        # about a second per request, whatever the floor.
        deepl.http_client.max_network_retries = 0
        deepl.http_client.min_connection_timeout = timeout
        self._translator = deepl.Translator(
            auth_key, server_url=server_url or None, send_platform_info=False
        )

    # --- languages (sync: called by the web process) ---------------------------

    def target_languages(self) -> list[Language]:
        cached = cache.get(CACHE_KEY)
        if cached is None:
            try:
                cached = self._fetch_target_languages()
                cache.set(CACHE_KEY, cached, CACHE_SECONDS)
            except ProviderError as exc:
                logger.warning("DeepL language list unavailable, using fallback: %s", exc)
                cached = sorted(FALLBACK_LANGUAGES.items())
                cache.set(CACHE_KEY, cached, FALLBACK_CACHE_SECONDS)
        return [Language(code, name) for code, name in cached]

    def can_translate_to(self, code: str) -> bool:
        return any(language.code == code.lower() for language in self.target_languages())

    def _fetch_target_languages(self) -> list[tuple[str, str]]:
        try:
            languages = self._translator.get_target_languages()
        except deepl.DeepLException as exc:
            raise _translate_error(exc) from exc
        except (TypeError, KeyError, AttributeError, ValueError) as exc:
            raise _malformed(exc) from exc
        offered = {language.code.upper(): language.name for language in languages}
        ours: dict[str, str] = {}
        for deepl_code in offered:
            code = our_code(deepl_code)
            # "en" only if the variant we send (EN-GB, say) is offered.
            if code not in ours and deepl_target_code(code) in offered:
                ours[code] = offered[deepl_target_code(code)].split(" (")[0]
        return sorted(ours.items())

    # --- translation (async: called by the pipeline) ---------------------------

    async def translate(
        self,
        texts: list[str],
        *,
        source_language: str,
        target_language: str,
        context: str = "",
    ) -> Translation:
        if not texts:
            return Translation(texts=[], billed_characters=0)
        return await asyncio.to_thread(
            self._translate_sync, texts, source_language, target_language, context
        )

    def _translate_sync(
        self, texts: list[str], source_language: str, target_language: str, context: str
    ) -> Translation:
        try:
            results: Any = self._translator.translate_text(
                texts,
                source_lang=source_language.upper(),
                target_lang=deepl_target_code(target_language),
                split_sentences="0",
                context=context or None,
            )
        except deepl.DeepLException as exc:
            raise _translate_error(exc) from exc
        except (TypeError, KeyError, AttributeError, ValueError) as exc:
            # e.g. a result without billed_characters: the body was not DeepL's.
            raise _malformed(exc) from exc
        if len(results) != len(texts):
            raise _malformed(f"sent {len(texts)} texts, got {len(results)} translations")
        return Translation(
            texts=[result.text for result in results],
            billed_characters=sum(result.billed_characters or 0 for result in results),
        )


def _malformed(detail: object) -> ProviderError:
    return ProviderError(f"malformed answer: {detail}", provider=PROVIDER, transient=True)


def _translate_error(exc: deepl.DeepLException) -> ProviderError:
    status = exc.http_status_code
    if isinstance(exc, deepl.ConnectionException):
        transient = exc.should_retry  # timeouts and refused connections
    elif isinstance(exc, deepl.QuotaExceededException):
        transient = False  # 456: nothing will change before the quota resets
    elif status is None:
        # Raised before sending (an invalid argument): retrying cannot help.
        transient = False
    else:
        transient = is_transient_status(status)
    return ProviderError(str(exc), provider=PROVIDER, transient=transient, status=status)
