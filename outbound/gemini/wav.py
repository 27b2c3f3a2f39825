"""WAV files: wrapping raw PCM, reading a file's header, joining files.

Shared by the voices (Gemini, the stub) and the voice step, which joins one
WAV per sentence into the entry's single file (``join_wavs``).
"""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass


@dataclass(frozen=True)
class WavInfo:
    rate: int
    channels: int
    sample_width: int
    frames: int
    pcm: bytes

    @property
    def duration_ms(self) -> int:
        return frames_to_ms(self.frames, self.rate)


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


def frames_to_ms(frames: int, rate: int) -> int:
    return round(frames * 1000 / rate)


def read_wav(audio: bytes) -> WavInfo:
    """The header and samples of a PCM WAV file; ``ValueError`` if it is not one."""
    try:
        with wave.open(io.BytesIO(audio)) as wav:
            frames = wav.getnframes()
            info = WavInfo(
                rate=wav.getframerate(),
                channels=wav.getnchannels(),
                sample_width=wav.getsampwidth(),
                frames=frames,
                pcm=wav.readframes(frames),
            )
    except (wave.Error, EOFError) as exc:
        raise ValueError(f"not a PCM WAV file: {exc}") from exc
    if info.rate <= 0:
        raise ValueError("not a PCM WAV file: no sample rate")
    return info


@dataclass(frozen=True)
class Joined:
    audio: bytes
    duration_ms: int
    # (start_ms, end_ms) of each input file in the joined one: contiguous,
    # from 0 to ``duration_ms``, computed from whole frames.
    offsets: list[tuple[int, int]]


def join_wavs(files: list[bytes]) -> Joined:
    """One WAV made of ``files`` played one after another.

    They must share sample rate, channels and sample width (one voice gives
    one format); ``ValueError`` otherwise, or for an empty list.
    """
    if not files:
        raise ValueError("nothing to join")
    parts = [read_wav(audio) for audio in files]
    first = parts[0]
    shape = (first.rate, first.channels, first.sample_width)
    offsets: list[tuple[int, int]] = []
    frames = 0
    for part in parts:
        if (part.rate, part.channels, part.sample_width) != shape:
            raise ValueError(
                f"cannot join {part.rate} Hz/{part.channels} ch/{part.sample_width * 8} bit "
                f"audio to {first.rate} Hz/{first.channels} ch/{first.sample_width * 8} bit"
            )
        start = frames_to_ms(frames, first.rate)
        frames += part.frames
        offsets.append((start, frames_to_ms(frames, first.rate)))
    audio = pcm_to_wav(
        b"".join(part.pcm for part in parts),
        rate=first.rate,
        channels=first.channels,
        sample_width=first.sample_width,
    )
    return Joined(audio=audio, duration_ms=frames_to_ms(frames, first.rate), offsets=offsets)
