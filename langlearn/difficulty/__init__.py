"""How hard a passage is to read: an estimated CEFR level, A1 = 1.0 … C2 = 6.0,
with the reasons behind it.

Three things make a text hard for a learner, and each is measured on the
annotator's own tokens (lemma, Universal POS, morphology):

- **vocabulary** (``vocabulary``): how far down the frequency list its running
  content words go, names, numbers and the caller's own words left out;
- **grammar** (``grammar``): the verb forms it uses, each placed at the level
  the published grammar inventories teach it;
- **sentences**: how long they are, and how many subordinate clauses they hold.

``model`` turns the figures into one estimate (a linear model fitted on
graded text; ``docs/levels.md`` has the data, the fit and the measured
figures). A passage is *too hard* for a level when its estimate is at least
``model.REASK_MARGIN`` above it: that, and nothing else, is what makes the
pipeline ask the generator once more (``adventures.levelfit``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from langlearn import levels

from . import grammar, model, vocabulary

LEVEL_NUMBER = {level: number for number, level in enumerate(levels.LEVELS, start=1)}


def level_name(value: float) -> str:
    """The CEFR level a continuous estimate falls in (A1 below 1.5, ..., C2 from 5.5)."""
    return levels.LEVELS[max(0, min(len(levels.LEVELS) - 1, round(value) - 1))]


def too_hard(value: float, level: str) -> bool:
    """Whether an estimate is far enough above ``level`` to ask again."""
    return value >= LEVEL_NUMBER[level] + model.REASK_MARGIN


@dataclass(frozen=True)
class Estimate:
    value: float  # 1.0 (A1) .. 6.0 (C2)
    language: str
    words: list[vocabulary.Counted]  # the running content words counted
    verbs: list[grammar.Use]
    sentences: int
    sentence_length: float  # words per sentence
    subordinate_clauses: float  # per sentence
    features: dict[str, float] = field(default_factory=dict)

    @property
    def level(self) -> str:
        return level_name(self.value)

    @property
    def vocabulary_rank(self) -> int | None:
        """The frequency rank a reader must know for 90 % of the content words."""
        return vocabulary.demand([word.rank for word in self.words])

    def too_hard_for(self, level: str) -> bool:
        return too_hard(self.value, level)

    def words_above(self, level: str) -> list[str]:
        """Content lemmas past the vocabulary of ``level``, rarest first."""
        return vocabulary.above(self.words, level)

    def constructions_above(self, level: str) -> list[dict]:
        """The verb forms taught after ``level``: name, level, the words used."""
        found: dict[str, dict] = {}
        for use in self.verbs:
            construction = use.construction
            if construction is None or construction.level <= LEVEL_NUMBER[level]:
                continue
            entry = found.setdefault(
                construction.name,
                {
                    "name": construction.name,
                    "level": levels.LEVELS[construction.level - 1],
                    "words": [],
                },
            )
            if use.word not in entry["words"]:
                entry["words"].append(use.word)
        return sorted(found.values(), key=lambda entry: entry["level"], reverse=True)

    def reasons(self, level: str) -> dict:
        """What puts the passage above ``level`` (empty lists when nothing does)."""
        return {
            "words": self.words_above(level)[: model.MAX_NAMED_WORDS],
            "constructions": self.constructions_above(level),
            "sentence_length": round(self.sentence_length, 1),
            "subordinate_clauses": round(self.subordinate_clauses, 2),
            "vocabulary_rank": self.vocabulary_rank,
        }


def warm(language: str) -> None:
    """Load what estimating a passage in ``language`` reads (its lemma
    frequencies and their ranks, stop words, grammar forms) now, not in its
    first passage: one to three seconds a language, once per process."""
    levels.warm(language)
    vocabulary.warm(language)
    grammar.warm(language)


def estimate(words: list[levels.Word], *, language: str, exclude: Iterable[str] = ()) -> Estimate:
    """The estimate for a passage's tokens, in order (``exclude``: lemmas or
    words not to count as vocabulary, such as the learner's review words)."""
    counted = vocabulary.counted(words, language, exclude=exclude)
    verbs = grammar.verb_uses(words, language)
    sentences = len({word.sentence for word in words}) or 1
    running = sum(1 for word in words if any(c.isalpha() for c in word.text))
    subordinate = grammar.subordinate_clauses(words, language)
    figures = features(
        [word.rank for word in counted],
        [len(word.text) for word in counted],
        [use.level for use in verbs],
        words_per_sentence=running / sentences,
        subordinate_per_sentence=subordinate / sentences,
    )
    rare = [word for word in counted if word.rank > model.FLOOR_RANK]
    beyond = running and len(rare) / running >= model.FLOOR_SHARE
    floor = (
        model.FLOOR_LEVEL if beyond and len({w.lemma for w in rare}) >= model.FLOOR_LEMMAS else 1.0
    )
    return Estimate(
        value=model.predict(figures, floor=floor),
        language=language,
        words=counted,
        verbs=verbs,
        sentences=sentences,
        sentence_length=running / sentences,
        subordinate_clauses=subordinate / sentences,
        features=figures,
    )


def features(
    ranks: list[int],
    lengths: list[int],
    verb_levels: list[int],
    *,
    words_per_sentence: float,
    subordinate_per_sentence: float,
) -> dict[str, float]:
    """The model's inputs (``model.FEATURES``), from the passage's figures:
    each grows with the difficulty it stands for."""
    logs = [math.log10(rank) for rank in ranks] or [math.log10(model.NO_WORDS_RANK)]
    top = sorted(verb_levels, reverse=True)
    return {
        "vocabulary_mean": sum(logs) / len(logs),
        "vocabulary_90": math.log10(vocabulary.demand(ranks, 0.90) or model.NO_WORDS_RANK),
        "vocabulary_rare": (
            sum(1 for rank in ranks if rank > vocabulary.VOCABULARY["B2"]) / len(ranks)
            if ranks
            else 0.0
        ),
        "word_length": math.log(sum(lengths) / len(lengths)) if lengths else math.log(4),
        "sentence_length": math.log(max(words_per_sentence, 1.0)),
        "subordinate_clauses": subordinate_per_sentence,
        "verb_forms_top": float(top[1] if len(top) > 1 else 1),
        "verb_forms_after_a1": _share(verb_levels, 2),
        "verb_forms_after_a2": _share(verb_levels, 3),
    }


def _share(verb_levels: list[int], level: int) -> float:
    if not verb_levels:
        return 0.0
    return sum(1 for found in verb_levels if found >= level) / len(verb_levels)
