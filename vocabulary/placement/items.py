"""The items of a learner's placement test, drawn from the shipped pools.

Each language's pool (``data/<language>.json``, made by ``manage.py
placement_items``; ``build`` says how) holds ``POOL_PER_BAND`` real words in
each band of 1,000 frequency ranks up to 10,000, and pseudo-words. A learner's
test is ``WORDS_PER_BAND`` real words of each band and ``PSEUDO_WORDS``
pseudo-words (23 % of the items), drawn and shuffled with a seed from the
learner and the language: the same test every time they ask, another for
another learner. An item's id comes from its word (``item_id``), so it does
not say which items are pseudo-words, and answers to a pool that has since
changed name ids the test no longer has (a 400, not a wrong score).
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"
WORDS_PER_BAND = 4
PSEUDO_WORDS = 12
# About how long a yes/no decision takes, for the estimate shown to learners.
SECONDS_PER_ITEM = 2


@dataclass(frozen=True)
class Item:
    id: str
    word: str
    band: int | None  # 1 for ranks 1-1,000 ... ; None: a pseudo-word

    @property
    def pseudo(self) -> bool:
        return self.band is None


@dataclass(frozen=True)
class Pool:
    language: str
    band_width: int
    bands: tuple[tuple[Item, ...], ...]
    pseudowords: tuple[Item, ...]


def item_id(language: str, word: str) -> str:
    return hashlib.sha256(f"{language}:{word}".encode()).hexdigest()[:12]


@cache
def pool(language: str) -> Pool:
    """The shipped pool of ``language`` (a language we teach)."""
    data: dict[str, Any] = json.loads((DATA / f"{language}.json").read_text(encoding="utf-8"))
    return Pool(
        language=language,
        band_width=data["band_width"],
        bands=tuple(
            tuple(Item(item_id(language, w["word"]), w["word"], number) for w in band)
            for number, band in enumerate(data["bands"], start=1)
        ),
        pseudowords=tuple(Item(item_id(language, w), w, None) for w in data["pseudowords"]),
    )


def learner_items(learner_id: object, language: str) -> list[Item]:
    """The learner's test in ``language``, in its order: the same list on every call."""
    seed = hashlib.sha256(f"placement:{learner_id}:{language}".encode()).digest()
    rng = random.Random(int.from_bytes(seed, "big"))
    source = pool(language)
    chosen = [item for band in source.bands for item in rng.sample(band, WORDS_PER_BAND)]
    chosen += rng.sample(source.pseudowords, PSEUDO_WORDS)
    rng.shuffle(chosen)
    return chosen
