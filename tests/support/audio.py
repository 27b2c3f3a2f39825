"""Checks on the audio a learner gets: the file's length and each sentence's place in it."""

from __future__ import annotations

import io
import wave
from itertools import pairwise
from typing import Any


def wav_duration_ms(audio: bytes) -> int:
    """The length a player reads from the WAV header (frames / rate)."""
    with wave.open(io.BytesIO(audio)) as wav:
        return round(wav.getnframes() * 1000 / wav.getframerate())


def assert_sentences_tile_the_audio(sentences: list[dict[str, Any]], duration_ms: int) -> None:
    """Sentence offsets start at 0, follow each other with no gap or overlap,
    each lasts a while, and the last ends where the file ends."""
    offsets = [(sentence["start_ms"], sentence["end_ms"]) for sentence in sentences]
    assert offsets, "no sentences"
    assert offsets[0][0] == 0
    assert all(end == start for (_, end), (start, _) in pairwise(offsets)), offsets
    assert all(start < end for start, end in offsets), offsets
    assert offsets[-1][1] == duration_ms, (offsets, duration_ms)
