from __future__ import annotations

import math
import struct

from langlearn import languages
from outbound.errors import ProviderError
from outbound.roles import Speech
from outbound.stubs.drills import stub_delay

from .wav import duration_ms, pcm_to_wav

RATE = 16_000
CHARS_PER_SECOND = 14  # an unhurried reading pace


def _tone_period(frequency: int = 200, amplitude: int = 1500) -> bytes:
    samples = RATE // frequency
    return b"".join(
        struct.pack("<h", int(amplitude * math.sin(2 * math.pi * i / samples)))
        for i in range(samples)
    )


_PERIOD = _tone_period()


class StubVoice:
    """A valid 16 kHz mono WAV: a soft hum as long as reading the text takes."""

    def supports(self, language: str) -> bool:
        registered = languages.get(language)
        return registered is not None and registered.can_voice

    async def synthesize(self, text: str, *, language: str) -> Speech:
        await stub_delay("voice")
        if not self.supports(language):
            raise ProviderError(
                f"no voice for {language!r}", provider="stub-voice", transient=False
            )
        seconds = max(1.0, len(text) / CHARS_PER_SECOND)
        frames = int(RATE * seconds)
        periods = frames // (len(_PERIOD) // 2) + 1
        pcm = (_PERIOD * periods)[: frames * 2]
        return Speech(
            audio=pcm_to_wav(pcm, rate=RATE),
            content_type="audio/wav",
            duration_ms=duration_ms(len(pcm), rate=RATE),
        )
