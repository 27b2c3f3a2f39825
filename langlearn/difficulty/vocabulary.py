"""The vocabulary a passage asks of its reader: how far down the language's
frequency list its running content words go.

A lemma's *rank* is its place in the language's lemma frequency list
(``langlearn.levels``: wordfreq's word forms summed by lemma; a lemma missing
from it ranks past the end). A learner at a level knows about the most
frequent ``VOCABULARY[level]`` lemmas (Milton & Alexiou 2009, the sizes
``langlearn.levels`` cites), and reads a text without help when about 95 % of
its running words are known (Laufer 1989; Hu & Nation 2000); function words,
about half of them, are all frequent, so the demand of a passage is the rank
its content words need to be 90 % covered (``COVERAGE``): the rank of the
content word at that share, running words counted each time they occur.

Not counted, because no vocabulary list holds them and a reader does not
need to have learnt them: names (tagged ``PROPN``, capitalised in the middle
of a sentence anywhere in the passage, except in German, whose nouns are all
capitalised and whose names the annotator tags from its German morphology),
numbers, and the words a caller names (the learner's own review words, the
theme's words).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache

from langlearn import levels

# Lemmas a learner knows at each level (``levels.BAND_LEMMAS``' figures), and
# past C1, the 98 % coverage of native prose: about 8,000 lemmas (Nation 2006).
VOCABULARY = {"A1": 1500, "A2": 2500, "B1": 3500, "B2": 4000, "C1": 4500, "C2": 8000}
COVERAGE = 0.90
# Where a lemma missing from the frequency list ranks.
UNLISTED_RANK = 30000
# Languages whose capitals belong to the word (German nouns), not to a name.
CASE_IS_LEXICAL = frozenset({"de"})


@cache
def _sorted_zipfs(language: str) -> list[float]:
    """Every lemma's Zipf frequency, ascending (for ranking by bisection)."""
    families = levels._lemma_frequencies(language)
    return sorted(math.log10(frequency * 1e9) for frequency in families.values())


def warm(language: str) -> None:
    _sorted_zipfs(language)


@lru_cache(maxsize=200_000)
def rank(lemma: str, language: str) -> int:
    """1 for the most frequent lemma; ``UNLISTED_RANK`` for one wordfreq lacks.
    A German compound ranks as its rarest part when that is more frequent
    than the compound itself (``Leuchtturmwärter``: ``Leuchtturm`` and
    ``Wärter``): its parts are what a reader must know."""
    own = _rank_of_zipf(levels.zipf(lemma, language), language)
    if language == "de" and own > COMPOUND_FROM_RANK:
        parts = _compound_parts(lemma.lower(), language)
        if parts:
            return min(own, max(rank(part, language) for part in parts))
    return own


def _rank_of_zipf(zipf: float, language: str) -> int:
    if zipf <= 0:
        return UNLISTED_RANK
    zipfs = _sorted_zipfs(language)
    return min(UNLISTED_RANK, len(zipfs) - bisect.bisect_right(zipfs, zipf) + 1)


# German compounds are split (Koehn & Knight 2003, "Empirical methods for
# compound splitting", EACL: the split into known words whose frequencies have
# the highest geometric mean) when rarer than this rank, into parts of at
# least ``PART_LETTERS`` letters joined directly or by a linking element.
COMPOUND_FROM_RANK = 3000
PART_LETTERS = 3
LINKING = ("", "s", "es", "n", "en", "e", "er")
KNOWN_ZIPF = 3.0


def _compound_parts(word: str, language: str) -> list[str]:
    """The best split of ``word`` into two known words (the second may split
    again), or [] when none is better than the word itself."""
    from wordfreq import zipf_frequency

    best: list[str] = []
    best_score = zipf_frequency(word, language)
    for cut in range(PART_LETTERS, len(word) - PART_LETTERS + 1):
        head, tail = word[:cut], word[cut:]
        tail_zipf = zipf_frequency(tail, language)
        if tail_zipf < KNOWN_ZIPF:
            continue
        for link in LINKING:
            if not head.endswith(link) or len(head) - len(link) < PART_LETTERS:
                continue
            stem = head[: len(head) - len(link)] if link else head
            stem_zipf = zipf_frequency(stem, language)
            if stem_zipf < KNOWN_ZIPF:
                continue
            score = (stem_zipf + tail_zipf) / 2
            if score > best_score:
                best, best_score = [stem, tail], score
    return best


@dataclass(frozen=True)
class Counted:
    """A running content word the vocabulary measure counts."""

    text: str
    lemma: str
    rank: int


def names(words: list[levels.Word], language: str) -> set[str]:
    """The lemmas (lower-cased) the passage uses as names."""
    found = {w.lemma.lower() for w in words if w.pos == "PROPN"}
    if language in CASE_IS_LEXICAL:
        return found
    sentence, first = None, True
    for word in words:
        if word.sentence != sentence:
            sentence, first = word.sentence, True
        alphabetic = any(character.isalpha() for character in word.text)
        if alphabetic and not first and word.text[:1].isupper() and not word.text.isupper():
            found.add(word.lemma.lower())
        first = first and not alphabetic
    return found


def counted(
    words: list[levels.Word], language: str, *, exclude: Iterable[str] = ()
) -> list[Counted]:
    """The running content words the measure counts, in order."""
    left_out = names(words, language) | {word.lower() for word in exclude}
    result = []
    for word in words:
        if word.pos not in levels.CONTENT_POS or not any(c.isalpha() for c in word.text):
            continue
        if word.lemma.lower() in left_out or word.text.lower() in left_out:
            continue
        result.append(Counted(word.text, word.lemma, rank(word.lemma, language)))
    return result


def demand(ranks: list[int], coverage: float = COVERAGE) -> int | None:
    """The rank a reader must know for ``coverage`` of these running words."""
    if not ranks:
        return None
    ordered = sorted(ranks)
    return ordered[min(len(ordered) - 1, math.ceil(coverage * len(ordered)) - 1)]


def above(words: list[Counted], level: str) -> list[str]:
    """The distinct lemmas past what a learner at ``level`` knows, rarest first."""
    limit = VOCABULARY[level]
    seen: dict[str, int] = {}
    for word in words:
        if word.rank > limit:
            seen.setdefault(word.lemma, word.rank)
    return sorted(seen, key=lambda lemma: -seen[lemma])
