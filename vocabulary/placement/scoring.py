"""The estimate: a vocabulary size in lemmas, and the level it suggests.

A yes/no test (Meara & Buxton 1987, "An alternative to multiple choice
vocabulary tests", Language Testing 4(2); X_Lex, Meara & Milton 2003) asks
whether the learner knows each of a sample of words drawn by frequency band,
mixed with pseudo-words: a "yes" to a pseudo-word (a false alarm) measures
how readily the learner says yes to what they do not know. With ``h_b`` the
share of band ``b``'s real words claimed and ``f`` the share of
pseudo-words claimed, each band counts for its width times its hit rate
corrected for guessing, the *h - f* correction (X_Lex's own: its score is
5,000 x (h - f) over five bands)::

    size = sum over bands b of  width x clamp(h_b - f, 0, 1)

A learner who claims every item, pseudo-words too, scores 0; one who claims
no pseudo-word scores their hits. The h - f correction is biased under a
strong yes-bias (Huibregtse, Admiraal & Meara 2002, "Scores on a yes-no
vocabulary test: correction for guessing and response style", Language
Testing 19(3)), but less than the correction-for-guessing formula
(h - f) / (1 - f), which gives a learner who claims 11 of 12 pseudo-words
and every real word the whole 10,000; and Huibregtse's I_SDT is an index of
discrimination, not a share of words known, so it cannot be summed over
bands. Simulated learners (tests/vocabulary/test_placement.py, and the
figures in docs/walkthrough.md) keep the h - f estimate near the true size
for honest learners and low for guessers.

The suggested level is the highest whose vocabulary
(``langlearn.difficulty.vocabulary.VOCABULARY``) the estimate reaches, A1
below all of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from langlearn.difficulty.vocabulary import VOCABULARY

from .items import Item


@dataclass(frozen=True)
class Score:
    vocabulary_size: int
    level: str
    hits: int  # real words claimed
    real_words: int
    false_alarms: int  # pseudo-words claimed
    pseudo_words: int
    bands: list[dict[str, int]]  # per band: {"band", "words", "hits"}


def score(items: Sequence[Item], known: Mapping[str, bool], *, band_width: int) -> Score:
    """``known``: an answer for every item, by id."""
    pseudo = [item for item in items if item.pseudo]
    false_alarms = sum(known[item.id] for item in pseudo)
    f = false_alarms / len(pseudo) if pseudo else 0.0
    bands: dict[int, list[bool]] = {}
    for item in items:
        if item.band is not None:
            bands.setdefault(item.band, []).append(known[item.id])
    size = 0.0
    for answers in bands.values():
        size += band_width * min(1.0, max(0.0, sum(answers) / len(answers) - f))
    vocabulary_size = round(size)
    return Score(
        vocabulary_size=vocabulary_size,
        level=level_for(vocabulary_size),
        hits=sum(sum(answers) for answers in bands.values()),
        real_words=sum(len(answers) for answers in bands.values()),
        false_alarms=false_alarms,
        pseudo_words=len(pseudo),
        bands=[
            {"band": band, "words": len(answers), "hits": sum(answers)}
            for band, answers in sorted(bands.items())
        ],
    )


def level_for(vocabulary_size: int) -> str:
    reached = [level for level, size in VOCABULARY.items() if vocabulary_size >= size]
    return reached[-1] if reached else "A1"
