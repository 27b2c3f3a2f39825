from __future__ import annotations

import io
import wave


def pcm_to_wav(pcm: bytes, *, rate: int, channels: int = 1, sample_width: int = 2) -> bytes:
    """Wrap raw little-endian PCM in a WAV header."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(sample_width)
        out.setframerate(rate)
        out.writeframes(pcm)
    return buffer.getvalue()


def duration_ms(pcm_length: int, *, rate: int, channels: int = 1, sample_width: int = 2) -> int:
    return round(pcm_length * 1000 / (rate * channels * sample_width))
