"""The translator on DeepL's API (``deepl`` SDK, synchronous, on ``requests``).

The SDK blocks, so every call runs in a thread off the event loop. A passage
goes out as one request: its sentences (and choices) as a list, with
``split_sentences="0"`` so each item comes back as exactly one translation, in
order, and the whole passage as ``context`` (free of charge) so pronouns and
tenses agree across sentences.

DeepL wants regional target codes for English and Portuguese; the mapping from
our ISO 639-1 codes is explicit below. Which languages we translate into is
the registry's to say (``langlearn.languages``): requests never ask DeepL.
"""

from __future__ import annotations

import asyncio
from typing import Any

import deepl
import deepl.http_client
from django.conf import settings

from outbound.errors import ProviderError, is_transient_status
from outbound.roles import Translation

PROVIDER = "deepl"


def deepl_target_code(code: str) -> str:
    """Our language code -> DeepL's target code (regional where DeepL needs it)."""
    code = code.lower()
    regional = {
        "en": settings.DEEPL_ENGLISH_VARIANT,
        "pt": settings.DEEPL_PORTUGUESE_VARIANT,
        "zh": "ZH-HANS",
    }
    return regional.get(code, code.upper())


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
