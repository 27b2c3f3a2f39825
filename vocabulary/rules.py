"""Which tokens are words a learner can save or mark known."""

from __future__ import annotations

# Universal Dependencies tags that are never vocabulary.
NOT_WORDS = frozenset({"PUNCT", "NUM", "SYM", "X", "SPACE"})


def is_word(*, lemma: str, pos: str = "") -> bool:
    """A lemma with at least one letter whose part of speech is not punctuation,
    a number or a symbol. An empty ``pos`` (a lookup-only annotator) counts as a
    word unless the lemma has no letter (``¿``, ``—``, ``1984``)."""
    return pos not in NOT_WORDS and any(character.isalpha() for character in lemma)
