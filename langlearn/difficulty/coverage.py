"""How much of a passage its learner already knows: known-word coverage.

A passage is read with pleasure and without a dictionary at about 98 % of
its running words known, with effort at 95 % (Laufer 1989; Hu & Nation 2000).
Coverage counts **running words**: every word each time it occurs (a known
word used three times counts three times), names and numbers left out (they
are neither known nor new: nobody learns them from a list).

A running word is *known* when the learner marked its lemma known (or
ignored: a word they chose not to learn), *learning* when marked learning,
and otherwise judged by the learner's estimated vocabulary: known when its
lemma's frequency rank (``vocabulary.rank``) is within it. That estimate is
the learner's placement check when they took one, else the vocabulary of the
adventure's level (``vocabulary.VOCABULARY``); ``basis`` says which. The
learner's own statuses always take over from the estimate, word by word.

**New words** are the content lemmas (NOUN, VERB, ADJ, ADV) that are neither
known nor learning: what the passage teaches.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass

from langlearn import levels

from . import vocabulary

# New content words a passage (about six sentences) may bring, by level: a
# few per page is what makes reading teach, and keeps coverage near 98 %.
NEW_WORDS_BUDGET = {"A1": 3, "A2": 4, "B1": 5, "B2": 6, "C1": 7, "C2": 8}
# A passage with more than this many times its budget of new content words is
# far outside the learner's coverage band (twice the A2 budget, 8 new words in
# some 70 running words, is below 90 % known: a page read with a dictionary)
# and is asked for once more.
FAR_OUTSIDE_BUDGET = 2

KNOWN_STATUSES = frozenset({"known", "ignored"})
LEARNING = "learning"
_NOT_WORDS = frozenset({"PROPN", "NUM", "PUNCT", "SYM", "X", "SPACE"})


@dataclass(frozen=True)
class Coverage:
    known: float | None  # share of the running words known (None: no running word)
    learning: float | None  # share marked learning
    new_words: list[str]  # content lemmas neither known nor learning, in order of first use
    running_words: int
    basis: str  # "placement" or "level": what judges the words the learner has not marked
    vocabulary: int  # the estimated vocabulary (lemmas) it judged them by

    def as_dict(self) -> dict:
        return asdict(self)

    def new_words_beyond(self, level: str, *, exclude: Collection[str] = ()) -> list[str]:
        """The new words, ``exclude``d ones left out (the learner's review
        words and the theme's, there on purpose), when they are more than
        ``FAR_OUTSIDE_BUDGET`` times the level's budget; else none."""
        counted = [word for word in self.new_words if word.lower() not in exclude]
        if len(counted) > FAR_OUTSIDE_BUDGET * NEW_WORDS_BUDGET[level]:
            return counted
        return []


def coverage(
    words: list[levels.Word],
    *,
    language: str,
    statuses: dict[str, str],
    vocabulary_size: int,
    basis: str,
) -> Coverage:
    """``statuses``: the learner's status per lower-cased lemma (lemmas they
    have no word for are missing)."""
    names = vocabulary.names(words, language)
    known = learning = running = 0
    new: dict[str, None] = {}
    for word in words:
        lemma = word.lemma.lower()
        if word.pos in _NOT_WORDS or lemma in names:
            continue
        if not any(character.isalpha() for character in word.text):
            continue
        running += 1
        status = statuses.get(lemma)
        if status in KNOWN_STATUSES:
            known += 1
        elif status == LEARNING:
            learning += 1
        elif vocabulary.rank(word.lemma, language) <= vocabulary_size:
            known += 1
        elif word.pos in levels.CONTENT_POS:
            new.setdefault(word.lemma, None)
    return Coverage(
        known=round(known / running, 4) if running else None,
        learning=round(learning / running, 4) if running else None,
        new_words=list(new),
        running_words=running,
        basis=basis,
        vocabulary=vocabulary_size,
    )
