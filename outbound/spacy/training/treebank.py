"""Universal Dependencies treebanks (CoNLL-U) as training reads them."""

from __future__ import annotations

from collections.abc import Iterable
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
# The morphology the tagger learns: these features of verbs and auxiliaries
# (the mood, tense, verb form and voice a difficulty measure asks about), none
# of other words nor others of theirs (person, number, gender: a small label
# set). ``python -m bench annotate`` scores the first three.
VERBAL = frozenset({"VERB", "AUX"})
VERB_FEATURES = ("Mood", "Tense", "VerbForm", "Voice")
SCORED_FEATURES = ("Mood", "Tense", "VerbForm")


@dataclass(frozen=True)
class Word:
    form: str
    lemma: str
    upos: str
    feats: str = ""  # the verb features kept (``verb_features``), "" for others


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
            words.append(Word(columns[1], columns[2], upos, verb_features(upos, columns[5])))
    if words:
        sentences.append(Sentence(words, spans))
    return sentences


def verb_features(upos: str, feats: str) -> str:
    """The FEATS a tagger learns (``VERB_FEATURES`` of verbs and auxiliaries),
    in their CoNLL-U order: ``Mood=Sub|Number=Sing|Person=2|Tense=Pres|VerbForm=Fin``
    of ``vengas`` -> ``Mood=Sub|Tense=Pres|VerbForm=Fin``; "" for other words."""
    if upos not in VERBAL:
        return ""
    return "|".join(pair for pair in feats.split("|") if pair.split("=")[0] in VERB_FEATURES)


def feature(feats: str, name: str) -> str:
    """The value of one feature in a FEATS string, "" where it has none."""
    for pair in feats.split("|"):
        key, _, value = pair.partition("=")
        if key == name:
            return value
    return ""


def feature_accuracy(pairs: Iterable[tuple[str, str]]) -> dict[str, float | None]:
    """How often each of ``SCORED_FEATURES`` is right, over (gold, predicted)
    FEATS of the words the gold tags VERB or AUX: right when both give the same
    value or neither gives one (``Mood`` of an infinitive). ``all``: the
    features of ``VERB_FEATURES`` all right."""
    pairs = list(pairs)
    scores: dict[str, float | None] = {}
    for name in SCORED_FEATURES:
        right = sum(feature(gold, name) == feature(found, name) for gold, found in pairs)
        scores[name] = round(right / len(pairs), 4) if pairs else None
    whole = sum(
        all(feature(gold, name) == feature(found, name) for name in VERB_FEATURES)
        for gold, found in pairs
    )
    scores["all"] = round(whole / len(pairs), 4) if pairs else None
    return scores


def value_recall(pairs: Iterable[tuple[str, str]]) -> dict[str, float]:
    """For each value of ``VERB_FEATURES`` the gold gives (``Mood=Sub``), how
    often the prediction gives it too: the rarer forms (subjunctive,
    conditional, passive) a per-feature accuracy hides."""
    seen: dict[str, int] = {}
    right: dict[str, int] = {}
    for gold, found in pairs:
        for name in VERB_FEATURES:
            value = feature(gold, name)
            if value:
                key = f"{name}={value}"
                seen[key] = seen.get(key, 0) + 1
                right[key] = right.get(key, 0) + (feature(found, name) == value)
    return {key: round(right[key] / seen[key], 4) for key in sorted(seen)}


def head(parts: list[Word]) -> Word:
    """The lexical part of a contraction (``dar`` of ``dárselo``), else its first."""
    return next((part for part in parts if part.upos not in FUNCTION), parts[0])


def merged(sentence: Sentence) -> list[Word] | None:
    """The words as the tokeniser sees them: contractions whole, with the POS
    and features of their lexical part (``dárselo`` VERB, ``del`` ADP)."""
    if not sentence.contractions:
        return None
    starts = {first: (last, surface) for first, last, surface in sentence.contractions}
    words: list[Word] = []
    index = 0
    while index < len(sentence.words):
        if index in starts:
            last, surface = starts[index]
            lexical = head(sentence.words[index : last + 1])
            words.append(Word(surface, lexical.lemma, lexical.upos, lexical.feats))
            index = last + 1
        else:
            words.append(sentence.words[index])
            index += 1
    return words
