"""Universal Dependencies treebanks (CoNLL-U) as training reads them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# Old UD (v1) spells one tag differently.
RENAMED = {"CONJ": "CCONJ"}
# Parts of a contraction that carry no lexical meaning of their own.
FUNCTION = frozenset({"ADP", "DET", "PRON", "CCONJ", "SCONJ", "PART", "AUX"})
# What a lemma measure scores: every word but these, and content words apart
# (what learners tap). ``python -m bench annotate`` scores the same way.
UNSCORED = frozenset({"PUNCT", "SYM", "NUM", "X"})
CONTENT = frozenset({"NOUN", "VERB", "ADJ", "ADV"})


@dataclass(frozen=True)
class Word:
    form: str
    lemma: str
    upos: str


@dataclass(frozen=True)
class Sentence:
    words: list[Word]
    # multiword tokens: (first word index, last word index, surface form)
    contractions: list[tuple[int, int, str]]


def read(path: Path) -> list[Sentence]:
    sentences: list[Sentence] = []
    words: list[Word] = []
    spans: list[tuple[int, int, str]] = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            line = line.rstrip("\n")
            if not line.strip():
                if words:
                    sentences.append(Sentence(words, spans))
                words, spans = [], []
                continue
            if line.startswith("#"):
                continue
            columns = line.split("\t")
            if len(columns) != 10 or "." in columns[0]:
                continue
            if "-" in columns[0]:
                first, last = columns[0].split("-")
                # word ids are 1-based and the range's words follow this line
                spans.append((int(first) - 1, int(last) - 1, columns[1]))
                continue
            upos = RENAMED.get(columns[3], columns[3])
            words.append(Word(columns[1], columns[2], upos))
    if words:
        sentences.append(Sentence(words, spans))
    return sentences


def head(parts: list[Word]) -> Word:
    """The lexical part of a contraction (``dar`` of ``dárselo``), else its first."""
    return next((part for part in parts if part.upos not in FUNCTION), parts[0])


def merged(sentence: Sentence) -> tuple[list[str], list[str]] | None:
    """The words and tags as the tokeniser sees them: contractions whole, with
    the POS of their lexical part (``dárselo`` VERB, ``del`` ADP)."""
    if not sentence.contractions:
        return None
    starts = {first: (last, surface) for first, last, surface in sentence.contractions}
    words: list[str] = []
    tags: list[str] = []
    index = 0
    while index < len(sentence.words):
        if index in starts:
            last, surface = starts[index]
            parts = sentence.words[index : last + 1]
            words.append(surface)
            tags.append(head(parts).upos)
            index = last + 1
        else:
            words.append(sentence.words[index].form)
            tags.append(sentence.words[index].upos)
            index += 1
    return words, tags
