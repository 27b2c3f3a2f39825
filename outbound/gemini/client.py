"""The voice on Gemini text-to-speech (``google-genai`` SDK, ``client.aio``).

Which call (the developer API, an API key on generativelanguage.googleapis.com):

- the 3.8 models (``gemini-3.8-flash-lite-tts``, our default, and
  ``gemini-3.8-flash-tts``) — and any later one — through the Interactions
  API, ``client.aio.interactions.create`` (``POST /{version}/interactions``):
  the developer guide, https://ai.google.dev/gemini-api/docs/speech-generation,
  shows 3.8 TTS only there. ``generateContent`` for 3.8 is documented only
  for the Gemini Enterprise API (Vertex: "Migrate to Gemini 3.8 TTS",
  https://docs.cloud.google.com/gemini-enterprise-agent-platform/models/text-to-speech/migration-guide);
- the earlier models (``gemini-2.5-*``, ``gemini-3.1-*``: legacy, raw L16
  answers) through ``models.generate_content``, as they always were.

What goes out on Interactions: one ``user_input`` turn whose ``text`` block
is the sentence *verbatim* (3.8 reads ``text`` as a transcript, so an
instruction written into it may be spoken), the delivery in the block's
``speech_metadata`` annotation (``style``), ``response_format={"type":
"audio"}``, the voice in ``generation_config.speech_config`` (``[{"voice":
...}]``), ``store=false`` (nothing to keep on Google's side; "stateless",
https://ai.google.dev/gemini-api/docs/interactions.md.txt), and no
``temperature``/``top_p``/``top_k`` (3.8 refuses them: INVALID_ARGUMENT).
On ``generateContent`` (earlier models): the same text and
``speech_metadata.style`` on the part, the voice as
``prebuiltVoiceConfig.voiceName``.

What comes back, whatever the call: a complete WAV file (``audio/wav``, the
3.8 default for a unary request) is kept as sent, its duration read from its
header; raw 16-bit PCM (``audio/L16;codec=pcm;rate=24000``, or ``audio/l16``
with the audio block's ``sample_rate``) is wrapped in a WAV header.

Errors map the same on both calls: 429 (with ``Retry-After``), 408/409/425
and 5xx are transient, other 4xx permanent; timeouts, broken connections
and unreadable or audioless answers are transient. The SDK's retries stay
off (``attempts=1``, honoured by both calls): the job queue owns retries.
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Any

import httpx2
from google import genai
from google.genai import _interactions, errors, types

from outbound import tls
from outbound.errors import ProviderError, is_transient_status, retry_after
from outbound.roles import Speech

from .wav import duration_ms, pcm_to_wav, read_wav

logger = logging.getLogger(__name__)

PROVIDER = "gemini"
DEFAULT_RATE = 24_000
# The delivery, sent as speech_metadata.style (never in the text, which is read verbatim).
STYLE = "slow and clear, for someone learning the language"
WAV_TYPES = frozenset({"audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"})
# The earlier TTS models, served by generateContent (the 3.8 ones are not,
# on the developer API). Anything else goes through the Interactions API.
GENERATE_CONTENT_MODELS = ("gemini-2.5-", "gemini-3.1-")


def uses_interactions(model: str) -> bool:
    return not model.removeprefix("models/").startswith(GENERATE_CONTENT_MODELS)


def parse_pcm_mime(mime_type: str, *, rate: int | None = None) -> int | None:
    """The sample rate of a raw-PCM MIME type (``audio/L16;rate=24000``), else
    None; ``rate`` (the answer's own field) when the type names none."""
    kind, *params = (part.strip() for part in mime_type.split(";"))
    if kind.lower() not in {"audio/l16", "audio/pcm"}:
        return None
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "rate" and value.strip().isdigit():
            return int(value)
    return rate or DEFAULT_RATE


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
            # The process's TLS context: "verify" for the HTTP clients, "ssl"
            # for the SDK's websockets (the Live API, unused here).
            client_args={"verify": tls.context()},
            async_client_args={"verify": tls.context(), "ssl": tls.context()},
        )
        self._client = genai.Client(api_key=api_key, http_options=options)

    def supports(self, language: str) -> bool:
        return language in self.voices

    async def synthesize(self, text: str, *, language: str) -> Speech:
        if not self.supports(language):
            raise ProviderError(f"no voice for {language!r}", provider=PROVIDER, transient=False)
        voice = self.voices[language]
        try:
            if uses_interactions(self.model):
                return await self._interaction(text, voice)
            return await self._generate_content(text, voice)
        except ProviderError:
            raise
        except _interactions.APIStatusError as exc:
            raise ProviderError(
                interaction_error(exc.body, exc.status_code),
                provider=PROVIDER,
                transient=is_transient_status(exc.status_code),
                status=exc.status_code,
                retry_after=retry_after(exc.response),
            ) from exc
        except errors.APIError as exc:
            raise ProviderError(
                f"{exc.status or 'error'}: {exc.message or exc}",
                provider=PROVIDER,
                transient=is_transient_status(exc.code),
                status=exc.code,
                retry_after=retry_after(exc.response),
            ) from exc
        except (_interactions.APITimeoutError, httpx2.TimeoutException) as exc:
            raise ProviderError("request timed out", provider=PROVIDER, transient=True) from exc
        except (_interactions.APIConnectionError, httpx2.TransportError) as exc:
            raise ProviderError(
                f"connection failed: {exc}", provider=PROVIDER, transient=True
            ) from exc
        except (_interactions.APIError, ValueError, TypeError, KeyError, AttributeError) as exc:
            # An unreadable body (not JSON, or not Gemini's shape).
            raise ProviderError(
                f"malformed answer: {exc}", provider=PROVIDER, transient=True
            ) from exc

    async def _interaction(self, text: str, voice: str) -> Speech:
        interaction = await self._client.aio.interactions.create(
            model=self.model,
            input=[
                {
                    "type": "user_input",
                    "content": [
                        {
                            "type": "text",
                            "text": text,
                            "annotations": [{"type": "speech_metadata", "style": STYLE}],
                        }
                    ],
                }
            ],
            response_format={"type": "audio"},
            generation_config={"speech_config": [{"voice": voice}]},
            store=False,
        )
        return speech_from_interaction(interaction)

    async def _generate_content(self, text: str, voice: str) -> Speech:
        config = types.GenerateContentConfig(
            response_modalities=["AUDIO"],
            # No tools here: skip the SDK's automatic function calling loop.
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
            speech_config=types.SpeechConfig(
                voice_config=types.VoiceConfig(
                    prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name=voice)
                )
            ),
        )
        response = await self._client.aio.models.generate_content(
            model=self.model,
            contents=types.Content(
                role="user",
                parts=[types.Part(text=text, speech_metadata=types.SpeechMetadata(style=STYLE))],
            ),
            config=config,
        )
        return speech_from_response(response)


def interaction_error(body: Any, status: int | None) -> str:
    """``STATUS: message`` from Google's error body, else the status alone."""
    detail = body.get("error") if isinstance(body, dict) else None
    if isinstance(detail, dict):
        return f"{detail.get('status') or status}: {detail.get('message') or ''}".rstrip(": ")
    return f"HTTP {status}: {str(body)[:200]}"


def speech_from_interaction(interaction: Any) -> Speech:
    """The audio of an Interactions answer: the last ``audio`` block of its
    model output (the SDK's ``output_audio``)."""
    block = getattr(interaction, "output_audio", None)
    data = getattr(block, "data", None)
    if block is None or not data:
        status = getattr(interaction, "status", None) or "no status"
        raise ProviderError(f"no audio in the answer ({status})", provider=PROVIDER, transient=True)
    try:
        audio = base64.b64decode(data, validate=True) if isinstance(data, str) else bytes(data)
    except (binascii.Error, ValueError) as exc:
        raise ProviderError(
            f"unreadable audio in the answer: {exc}", provider=PROVIDER, transient=True
        ) from exc
    speech = speech_from_audio(audio, str(block.mime_type or ""), rate=block.sample_rate)
    if speech is None:
        raise ProviderError(
            f"no audio in the answer (sent as {block.mime_type!r})",
            provider=PROVIDER,
            transient=True,
        )
    return speech


def speech_from_audio(audio: bytes, mime: str, *, rate: int | None = None) -> Speech | None:
    """WAV kept as sent; raw L16 wrapped in a WAV header; None for anything else."""
    if mime.split(";")[0].strip().lower() in WAV_TYPES:
        try:
            wav = read_wav(audio)
        except ValueError as exc:
            raise ProviderError(
                f"unreadable WAV in the answer: {exc}", provider=PROVIDER, transient=True
            ) from exc
        return Speech(audio=audio, content_type="audio/wav", duration_ms=wav.duration_ms)
    pcm_rate = parse_pcm_mime(mime, rate=rate)
    if pcm_rate is not None:
        pcm = audio[: len(audio) - len(audio) % 2]  # whole samples
        return Speech(
            audio=pcm_to_wav(pcm, rate=pcm_rate),
            content_type="audio/wav",
            duration_ms=duration_ms(len(pcm), rate=pcm_rate),
        )
    logger.warning("Gemini sent audio as %r; expected WAV or raw PCM", mime)
    return None


def speech_from_response(response: Any) -> Speech:
    """The audio of a ``generateContent`` answer (the first audio part)."""
    candidates = getattr(response, "candidates", None) or []
    for candidate in candidates:
        parts = getattr(getattr(candidate, "content", None), "parts", None) or []
        for part in parts:
            blob = getattr(part, "inline_data", None)
            if blob is None or not blob.data:
                continue
            speech = speech_from_audio(blob.data, blob.mime_type or "")
            if speech is not None:
                return speech
    reason = candidates[0].finish_reason if candidates else "no candidates"
    raise ProviderError(f"no audio in the answer ({reason})", provider=PROVIDER, transient=True)
