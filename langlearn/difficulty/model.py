"""The estimate: a linear model of the passage's figures, fitted by least
squares on graded text (``python -m bench level --fit``; the data, the split and
the figures are in ``docs/levels.md``)."""

from __future__ import annotations

FEATURES = (
    "vocabulary_mean",  # mean log10 rank of the running content words
    "vocabulary_90",  # log10 of the rank 90 % of them need
    "vocabulary_rare",  # share of them past the B2 vocabulary
    "word_length",  # ln of the letters per content word
    "sentence_length",  # ln of the words per sentence
    "subordinate_clauses",  # per sentence (conjunctions and relative pronouns)
    "verb_forms_top",  # the level of the second most advanced verb form (1..6)
    "verb_forms_after_a1",  # share of the verbs in forms taught after A1
    "verb_forms_after_a2",  # ... after A2
)

# Fitted on the tune split (3,529 graded passages that may be used commercially,
# built by ``python -m bench level-corpus``; docs/levels.md). The fit
# gave no weight to the frequency figures once word length was in: long words
# are the rare ones (and a graded reader's everyday "mochila" is rarer in
# wordfreq than its level); they stay as features, and in the reasons.
INTERCEPT = -3.834
COEFFICIENTS = {
    "vocabulary_mean": 0.0,
    "vocabulary_90": 0.0,
    "vocabulary_rare": 0.0,
    "word_length": 1.362,
    "sentence_length": 1.597,
    "subordinate_clauses": 0.978,
    "verb_forms_top": 0.09,
    "verb_forms_after_a1": 0.0,
    "verb_forms_after_a2": 0.718,
}

# The vocabulary floor: a passage in which at least ``FLOOR_SHARE`` of the
# running words, in at least ``FLOOR_LEMMAS`` different lemmas, are rarer than
# ``FLOOR_RANK`` (far past the 8,000 lemmas of native-like reading) is under
# 90 % known words even for a C1 reader, below which reading is frustration
# (Laufer 1989; Hu & Nation 2000): it is at least C1, whatever its sentences
# and verbs. Graded text has almost no such passages (under 4 % of the A1-A2
# ones of the tune split, learners' misspellings among them), so the fit
# cannot learn it; a model asked for A2 may write one.
FLOOR_RANK = 12000
FLOOR_SHARE = 0.10
FLOOR_LEMMAS = 5
FLOOR_LEVEL = 5.0

# A passage this far or more above its level is asked for once more.
REASK_MARGIN = 1.5
# Words named as too rare, to the learner and to the generator, at most.
MAX_NAMED_WORDS = 12
# The rank taken for a passage without a content word to count.
NO_WORDS_RANK = 100


def predict(features: dict[str, float], *, floor: float = 1.0) -> float:
    value = INTERCEPT + sum(COEFFICIENTS[name] * features[name] for name in FEATURES)
    return round(min(6.0, max(1.0, floor, value)), 2)
