"""CEFR levels, and the frequency band of a word at each: one figure of a passage's vocabulary.

**Frequency bands.** A word's band comes from the Zipf frequency of its lemma
in the target language, as ``wordfreq`` gives it (``zipf_frequency``; its data
ships in the wheel, offline). The Zipf scale (van Heuven, Mandera, Keuleers &
Brysbaert 2014, "SUBTLEX-UK: a new and improved word frequency database for
British English", QJEP 67(6)) is log10 of a word's frequency per billion words:
Zipf 6 is once per thousand words ("casa"), 3 once per million. Band 1 holds
the most frequent lemmas, band 6 the rarest (and words wordfreq does not know).

**Band per level.** Learners' vocabulary size per CEFR level, as measured
with X_Lex by Milton & Alexiou (2009, "Vocabulary size and the Common European
Framework of Reference for Languages", in Richards et al. (eds), Vocabulary
Studies in First and Second Language Acquisition, Palgrave, 194-211; see also
Milton 2010, EUROSLA Monographs 1, 211-232), for learners of English, in
lemmas of the 5,000 most frequent: A1 under 1,500, A2 1,500-2,500, B1
2,750-3,250, B2 3,250-3,750, C1 3,750-4,500, C2 4,500-5,000 (their learners of
French scored lower: 1,160 at A1 to 3,525 at C2). A passage for a level may use
what a learner at the top of that level knows: the upper end of each range,
rounded up to 500 (A1 1,500, A2 2,500, B1 3,500, B2 4,000, C1 4,500) and, at
C2, any word. Each count becomes a Zipf cut-off: lemma frequencies (wordfreq's
word forms summed by their simplemma lemma, ``_lemma_frequencies``) ranked,
and the Zipf of the lemma at that rank read off (``rank_cutoffs``; wordfreq
3.1.1). The five languages we teach agree within 0.04 (at ranks 1,500/2,500/
3,500/4,000/4,500: es 4.76/4.48/4.27/4.18/4.10; fr 4.76/4.48/4.27/4.19/4.12;
de 4.74/4.47/4.28/4.20/4.13; it 4.79/4.51/4.32/4.23/4.15; pt 4.79/4.50/4.30/
4.22/4.14), so one table, their mean, serves them all: ``BAND_FLOORS``. A lemma
is *within* a level when its band is at most ``LEVEL_BANDS[level]``.

**The band share**, one figure of a passage's vocabulary (the estimate of
how hard a passage is lives in ``langlearn.difficulty``): only content lemmas
count (NOUN, VERB, ADJ, ADV: what learners tap; with no tagger, any word that
is not in spaCy's stop-word list and is not capitalised mid-sentence), each
distinct lemma once; the share is how many of them are within the level's
band. Entries measured before the estimate existed were *on level* at
``ON_LEVEL_SHARE`` or more (a text needs 95-98 % of its running words known to
be read without help: Laufer 1989; Hu & Nation 2000; function words, about
half of the running words, are nearly all in band 1).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

from django.db import models

from langlearn import derived_data


class CefrLevel(models.TextChoices):
    """The six levels of the Common European Framework of Reference."""

    A1 = "A1"
    A2 = "A2"
    B1 = "B1"
    B2 = "B2"
    C1 = "C1"
    C2 = "C2"


LEVELS = tuple(CefrLevel.values)

# Zipf at or above which a lemma is in band 1, 2, ... 5; below the last, band 6.
# Lemma ranks 1,500 / 2,500 / 3,500 / 4,000 / 4,500 (see the module docstring).
BAND_FLOORS: tuple[float, ...] = (4.77, 4.49, 4.29, 4.2, 4.13)
BANDS = tuple(range(1, len(BAND_FLOORS) + 2))  # 1..6
# Lemmas a learner at the band's level knows, roughly (the rank of its floor).
BAND_LEMMAS = {1: 1500, 2: 2500, 3: 3500, 4: 4000, 5: 4500, 6: None}

# The highest band whose lemmas a passage at each level may use.
LEVEL_BANDS = {"A1": 1, "A2": 2, "B1": 3, "B2": 4, "C1": 5, "C2": 6}

ON_LEVEL_SHARE = 0.90

CONTENT_POS = frozenset({"NOUN", "VERB", "ADJ", "ADV"})
_NOT_WORDS = frozenset({"PUNCT", "SYM", "NUM", "X", "SPACE"})
# Languages whose capitals belong to the word (German nouns), not to a name.
_CASE_IS_LEXICAL = frozenset({"de"})


def band_of_zipf(zipf: float) -> int:
    for band, floor in enumerate(BAND_FLOORS, start=1):
        if zipf >= floor:
            return band
    return BANDS[-1]


# Word forms of wordfreq's list summed into their lemma's frequency: the most
# frequent ones (rarer forms add nothing that moves a lemma across a band floor).
FAMILY_FORMS = 30000


def _lemma_frequencies(language: str) -> dict[str, float]:
    """``{lemma: frequency}``: wordfreq's word forms summed by lemma (simplemma),
    which is what "the frequency of a lemma" means (``pesado`` counts
    ``pesada``, ``pesados``...). One to four seconds a language, once per
    machine (then read back in milliseconds; see ``_family_frequencies``) and
    loaded once per process: the first lookups of a language, from the
    worker's concurrent jobs, wait for one load rather than each doing it."""
    with _loading(language):
        return _family_frequencies(language)


_locks_lock = threading.Lock()
_locks: dict[str, threading.Lock] = {}


def _loading(language: str) -> threading.Lock:
    with _locks_lock:
        return _locks.setdefault(language, threading.Lock())


@cache
def _family_frequencies(language: str) -> dict[str, float]:
    """Derived once per machine, not per process (``langlearn.derived_data``):
    it depends only on this code and on wordfreq's and simplemma's data."""
    import inspect

    from wordfreq import get_frequency_dict

    # wordfreq's own list of the language, which ``zipf`` reads next: decoded
    # here, under the language's lock, once (concurrent first lookups that
    # found it missing from wordfreq's cache would each decode it).
    get_frequency_dict(language, "best")
    try:
        code = inspect.getsource(_sum_families)
    except OSError:  # no source to key the cache by: derive it here
        return _sum_families(language)
    inputs = [
        code,
        FAMILY_FORMS,
        language,
        derived_data.package_files("wordfreq"),
        derived_data.package_files("simplemma"),
    ]
    return derived_data.cached(
        f"lemma-frequencies-{language}", inputs, lambda: _sum_families(language)
    )


def _sum_families(language: str) -> dict[str, float]:
    import heapq

    import simplemma
    from wordfreq import get_frequency_dict

    # (language, "best"): the key wordfreq's own lookups cache it under, so
    # the frequency list is decoded once, not once per spelling of the call.
    forms = get_frequency_dict(language, "best")
    families: dict[str, float] = {}
    for form, frequency in heapq.nlargest(FAMILY_FORMS, forms.items(), key=lambda kv: kv[1]):
        if not any(character.isalpha() for character in form):
            continue
        # low_memory: as the annotator (outbound/spacy/lemmas.py), the same answers.
        lemma = str(simplemma.lemmatize(form, lang=language, low_memory=True)).lower()
        families[lemma] = families.get(lemma, 0.0) + frequency
    return families


def warm(language: str) -> None:
    """Load the frequencies and stop words of ``language`` now (once per process)."""
    _lemma_frequencies(language)
    _stop_words(language)


def zipf(lemma: str, language: str) -> float:
    """The Zipf frequency of ``lemma``: its forms summed, or wordfreq's figure
    for the word itself when higher (a lemma rarer than the forms we sum, or
    forms the lemmatiser sends elsewhere once lower-cased, as German nouns)."""
    from wordfreq import zipf_frequency

    family = _lemma_frequencies(language).get(lemma.lower())  # loads the language first
    own = float(zipf_frequency(lemma, language))
    return max(own, round(math.log10(family * 1e9), 2)) if family else own


def band(lemma: str, language: str) -> int:
    """The frequency band (1 most frequent .. 6 rarest) of ``lemma``."""
    return band_of_zipf(zipf(lemma, language))


def within(band_: int, level: str) -> bool:
    return band_ <= LEVEL_BANDS[level]


@cache
def _stop_words(language: str) -> frozenset[str]:
    import importlib

    try:
        module = importlib.import_module(f"spacy.lang.{language}.stop_words")
    except ImportError:
        return frozenset()
    return frozenset(word.lower() for word in module.STOP_WORDS)


def is_content(text: str, lemma: str, pos: str, *, language: str, sentence_start: bool) -> bool:
    """Whether a token counts for the fit (see the module docstring)."""
    if not any(character.isalpha() for character in text):
        return False
    if pos:
        return pos in CONTENT_POS
    if language not in _CASE_IS_LEXICAL and text[:1].isupper() and not sentence_start:
        return False  # a name, most likely
    return lemma.lower() not in _stop_words(language) and text.lower() not in _stop_words(language)


@dataclass(frozen=True)
class Word:
    text: str
    lemma: str
    pos: str
    sentence: int
    morph: str = ""  # Universal Dependencies features ("Mood=Sub|Tense=Pres"), if known


@dataclass(frozen=True)
class LevelFit:
    level: str
    content_lemmas: int  # distinct content lemmas
    within: int  # of them, inside the level's band
    above: list[str] = field(default_factory=list)  # the others, rarest first

    @property
    def share(self) -> float | None:
        return self.within / self.content_lemmas if self.content_lemmas else None

    @property
    def on_level(self) -> bool:
        return self.share is None or self.share >= ON_LEVEL_SHARE


def content_bands(words: Iterable[Word], *, language: str) -> list[int | None]:
    """For each word, the band of its lemma when it is a content word, else None."""
    bands: list[int | None] = []
    sentence, first_word = None, True
    for word in words:
        if word.sentence != sentence:
            sentence, first_word = word.sentence, True
        alphabetic = any(character.isalpha() for character in word.text)
        start, first_word = first_word and alphabetic, first_word and not alphabetic
        if word.pos in _NOT_WORDS or not alphabetic:
            bands.append(None)
            continue
        content = is_content(
            word.text, word.lemma, word.pos, language=language, sentence_start=start
        )
        bands.append(band(word.lemma, language) if content else None)
    return bands


def _key(lemma: str, language: str) -> str:
    return lemma if language in _CASE_IS_LEXICAL else lemma.lower()


def measure(words: list[Word], *, language: str, level: str) -> LevelFit:
    """How well ``words`` (a passage's tokens, in order) fit ``level``."""
    seen: dict[str, int] = {}
    for word, band_ in zip(words, content_bands(words, language=language), strict=True):
        if band_ is not None:
            seen.setdefault(_key(word.lemma, language), band_)
    above = sorted(
        (lemma for lemma, band_ in seen.items() if not within(band_, level)),
        key=lambda lemma: zipf(lemma, language),
    )
    return LevelFit(
        level=level,
        content_lemmas=len(seen),
        within=len(seen) - len(above),
        above=above,
    )


def rank_cutoffs(language: str, ranks: Iterable[int] = (1500, 2500, 3500, 4000, 4500)) -> dict:
    """The Zipf of the lemma at each rank, lemmas ranked by frequency: how
    ``BAND_FLOORS`` was derived."""
    ranked = sorted(_lemma_frequencies(language).values(), reverse=True)
    return {rank: round(math.log10(ranked[rank - 1] * 1e9), 2) for rank in ranks}
