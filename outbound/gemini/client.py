"""The voice on Gemini text-to-speech (``google-genai`` SDK, ``client.aio``).

What goes out (current docs: "Migrate to Gemini 3.8 TTS",
https://docs.cloud.google.com/gemini-enterprise-agent-platform/models/text-to-speech/migration-guide,
and the speech-generation guide, https://ai.google.dev/gemini-api/docs/speech-generation):

- the text *verbatim*: the 3.8 models read ``text`` as a transcript, so an
  instruction written into it may be spoken. The delivery goes in the part's
  ``speech_metadata.style`` (the installed SDK's ``types.SpeechMetadata``,
  serialised as ``speechMetadata`` for the developer API too);
- the voice as ``prebuiltVoiceConfig.voiceName`` (the guide: "still works for
  prebuilt voices"; older models know only this field);
- no ``temperature``/``topP``/``topK``: the 3.8 models refuse them
  (INVALID_ARGUMENT).

What comes back, whatever the model: a complete WAV file (``audio/wav``, the
3.8 default for a unary request) is kept as sent, its duration read from its
header; raw 16-bit PCM (``audio/L16;codec=pcm;rate=24000``, the earlier
models) is wrapped in a WAV header with the rate named in the MIME type.

The call is ``models.generate_content``. The developer guide shows 3.8 through
``client.interactions.create`` (google-genai >= 2.25); the Gemini Enterprise
pages document ``generateContent`` for the same models with the same request
schema, and the installed SDK sends ``speech_metadata`` on the developer
API's ``generateContent``. Whether the developer API's ``generateContent``
serves the 3.8 models is NOT confirmed by the pages we could read (issue 16):
if it answers 404/400 for them, move this call to ``client.aio.interactions``.

The SDK's retries stay off (it is explicit below): the job queue owns retries.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx2
from google import genai
from google.genai import errors, types

from outbound.errors import ProviderError, is_transient_status, retry_after
from outbound.roles import Speech

from .wav import duration_ms, pcm_to_wav, read_wav

logger = logging.getLogger(__name__)

PROVIDER = "gemini"
DEFAULT_RATE = 24_000
# The delivery, sent as speech_metadata.style (never in the text, which is read verbatim).
STYLE = "slow and clear, for someone learning the language"
WAV_TYPES = frozenset({"audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"})


def parse_pcm_mime(mime_type: str) -> int | None:
    """The sample rate of a raw-PCM MIME type (``audio/L16;rate=24000``), else None."""
    kind, *params = (part.strip() for part in mime_type.split(";"))
    if kind.lower() not in {"audio/l16", "audio/pcm"}:
        return None
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "rate" and value.strip().isdigit():
            return int(value)
    return DEFAULT_RATE


class GeminiVoice:
    def __init__(
        self,
        *,
        api_key: str,
        model: str,
        voices: dict[str, str],
        base_url: str = "",
        timeout: float = 60.0,
    ) -> None:
        self.model = model
        self.voices = voices
        options = types.HttpOptions(
            base_url=base_url or None,
            timeout=int(timeout * 1000),  # milliseconds
            retry_options=types.HttpRetryOptions(attempts=1),
        )
        self._client = genai.Client(api_key=api_key, http_options=options)

    def supports(self, language: str) -> bool:
        return language in self.voices

    async def synthesize(self, text: str, *, language: str) -> Speech:
        if not self.supports(language):
            raise ProviderError(f"no voice for {language!r}", provider=PROVIDER, transient=False)
        config = types.GenerateContentConfig(
            response_modalities=["AUDIO"],
            # No tools here: skip the SDK's automatic function calling loop.
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
            speech_config=types.SpeechConfig(
                voice_config=types.VoiceConfig(
                    prebuilt_voice_config=types.PrebuiltVoiceConfig(
                        voice_name=self.voices[language]
                    )
                )
            ),
        )
        try:
            response = await self._client.aio.models.generate_content(
                model=self.model,
                contents=types.Content(
                    role="user",
                    parts=[
                        types.Part(text=text, speech_metadata=types.SpeechMetadata(style=STYLE))
                    ],
                ),
                config=config,
            )
        except errors.APIError as exc:
            raise ProviderError(
                f"{exc.status or 'error'}: {exc.message or exc}",
                provider=PROVIDER,
                transient=is_transient_status(exc.code),
                status=exc.code,
                retry_after=retry_after(exc.response),
            ) from exc
        except httpx2.TimeoutException as exc:
            raise ProviderError("request timed out", provider=PROVIDER, transient=True) from exc
        except httpx2.TransportError as exc:
            raise ProviderError(
                f"connection failed: {exc}", provider=PROVIDER, transient=True
            ) from exc
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            # An unreadable body (not JSON, or not Gemini's shape).
            raise ProviderError(
                f"malformed answer: {exc}", provider=PROVIDER, transient=True
            ) from exc
        return speech_from_response(response)


def speech_from_response(response: Any) -> Speech:
    candidates = getattr(response, "candidates", None) or []
    for candidate in candidates:
        parts = getattr(getattr(candidate, "content", None), "parts", None) or []
        for part in parts:
            blob = getattr(part, "inline_data", None)
            if blob is None or not blob.data:
                continue
            mime = blob.mime_type or ""
            if mime.split(";")[0].strip().lower() in WAV_TYPES:
                try:
                    wav = read_wav(blob.data)
                except ValueError as exc:
                    raise ProviderError(
                        f"unreadable WAV in the answer: {exc}", provider=PROVIDER, transient=True
                    ) from exc
                return Speech(
                    audio=blob.data, content_type="audio/wav", duration_ms=wav.duration_ms
                )
            rate = parse_pcm_mime(mime)
            if rate is not None:
                pcm = blob.data[: len(blob.data) - len(blob.data) % 2]  # whole samples
                return Speech(
                    audio=pcm_to_wav(pcm, rate=rate),
                    content_type="audio/wav",
                    duration_ms=duration_ms(len(pcm), rate=rate),
                )
            logger.warning("Gemini sent audio as %r; expected WAV or raw PCM", mime)
    reason = candidates[0].finish_reason if candidates else "no candidates"
    raise ProviderError(f"no audio in the answer ({reason})", provider=PROVIDER, transient=True)
