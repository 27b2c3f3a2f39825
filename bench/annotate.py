"""``python -m bench annotate --treebank es=FILE.conllu ...``: how often the
annotator's lemma is the one a Universal Dependencies treebank gives, and its
POS and verb features.

The annotator is fed the treebank's gold words, sentence by sentence (its own
tokenisation is not measured), and each word's lemma is compared with the gold
lemma, case-insensitively. Words the treebank tags PUNCT, SYM, NUM or X are not
scored. Accuracy is given on all scored words and on content words (NOUN,
VERB, ADJ, ADV: what learners tap). POS accuracy is on every word. Verb
features: on the words the treebank tags VERB or AUX, how often the annotator's
Mood, Tense and VerbForm are the treebank's (the same value, or none where it
has none), how often Mood, Tense, VerbForm and Voice all are, and the recall
of each value (how many of the treebank's ``Mood=Sub`` the annotator finds).
Words per second is the annotator's own speed on this machine (one process;
spaCy runs on one core here), words per CPU second the same per second of the
process's CPU time (the per-core speed, whatever else the machine is running).

One JSON object on stdout; progress on stderr; bad arguments or unreadable
files: a message and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from langlearn import languages
from outbound.spacy.client import SpacyAnnotator
from outbound.spacy.training.treebank import (
    CONTENT,
    UNSCORED,
    VERBAL,
    feature_accuracy,
    value_recall,
    verb_features,
)


class TreebankError(ValueError):
    """A file that is not CoNLL-U as we read it."""


@dataclass(frozen=True)
class Word:
    form: str
    lemma: str
    upos: str
    feats: str = ""  # the verb features scored (``verb_features``), "" for others


def read_conllu(path: Path) -> Iterator[list[Word]]:
    """The sentences of a CoNLL-U file, each as its syntactic words.

    Multiword-token lines (``1-2 del``) are skipped, the words they stand for
    (``de``, ``el``) are kept; empty nodes (``8.1``) are skipped.
    """
    sentence: list[Word] = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            line = line.rstrip("\n")
            if not line.strip():
                if sentence:
                    yield sentence
                sentence = []
                continue
            if line.startswith("#"):
                continue
            columns = line.split("\t")
            if len(columns) != 10:
                raise TreebankError(
                    f"{path}:{number}: expected 10 tab-separated columns, got {len(columns)}"
                )
            word_id = columns[0]
            if "-" in word_id or "." in word_id:
                continue
            if not word_id.isdigit():
                raise TreebankError(f"{path}:{number}: bad word id {word_id!r}")
            upos = columns[3]
            feats = verb_features(upos, columns[5])
            sentence.append(Word(form=columns[1], lemma=columns[2], upos=upos, feats=feats))
    if sentence:
        yield sentence


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench annotate",
        description=(
            "Lemma accuracy of the annotator on Universal Dependencies treebanks "
            "(gold words in, lemmas compared case-insensitively), its POS and verb "
            "feature accuracy, and its speed; print one JSON object."
        ),
    )
    parser.add_argument(
        "--treebank",
        action="append",
        required=True,
        metavar="LANG=FILE",
        help="a CoNLL-U file and its language, e.g. es=es_gsd-ud-test.conllu (repeatable)",
    )
    parser.add_argument(
        "--models",
        default="",
        metavar="LANG=MODEL,...",
        help="trained spaCy pipelines, as SPACY_MODELS spells them (default: none)",
    )
    parser.add_argument(
        "--errors",
        type=int,
        default=0,
        metavar="N",
        help="also print the N most frequent wrong content-word lemmas per language to stderr",
    )
    args = parser.parse_args(argv)
    treebanks: dict[str, Path] = {}
    for item in args.treebank:
        language, sep, file = item.partition("=")
        if not sep or not file:
            parser.error(f"--treebank {item!r}: expected LANG=FILE")
        if language not in languages.lemmatized():
            parser.error(
                f"--treebank {item!r}: {language!r} is not one of "
                f"{', '.join(sorted(languages.lemmatized()))}"
            )
        if language in treebanks:
            parser.error(f"--treebank: {language!r} is given twice")
        path = Path(file)
        if not path.is_file():
            parser.error(f"--treebank {item!r}: no such file")
        treebanks[language] = path
    args.treebanks = treebanks
    models: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in args.models.split(","))):
        language, sep, model = (part.strip() for part in item.partition("="))
        if not sep or not model or language not in languages.lemmatized():
            parser.error(f"--models {item!r}: expected LANG=MODEL with a language we teach")
        models[language] = model
    args.models = models
    if args.errors < 0:
        parser.error("--errors: give a number of 0 or more")
    return args


def log(message: str) -> None:
    print(f"[bench annotate] {message}", file=sys.stderr, flush=True)


def evaluate(
    annotator: SpacyAnnotator, language: str, path: Path, errors: int = 0
) -> dict[str, object]:
    sentences = list(read_conllu(path))
    if not sentences:
        raise TreebankError(f"{path}: no sentences")
    words = [[word.form for word in sentence] for sentence in sentences]
    annotator.annotate_words_sync(words[:1], language)  # load the pipeline, untimed
    started, cpu_started = time.perf_counter(), time.process_time()
    tokens = annotator.annotate_words_sync(words, language)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    gold = [word for sentence in sentences for word in sentence]
    if len(tokens) != len(gold):
        raise TreebankError(f"{path}: the annotator returned {len(tokens)} words for {len(gold)}")
    scored = content = right = content_right = 0
    wrong: Counter[tuple[str, str, str]] = Counter()
    pos_right = sum(token.pos == word.upos for word, token in zip(gold, tokens, strict=True))
    verbs = [
        (word.feats, token.morph)
        for word, token in zip(gold, tokens, strict=True)
        if word.upos in VERBAL
    ]
    for word, token in zip(gold, tokens, strict=True):
        if word.upos in UNSCORED:
            continue
        correct = token.lemma.casefold() == word.lemma.casefold()
        scored += 1
        right += correct
        if word.upos in CONTENT:
            content += 1
            content_right += correct
            if not correct:
                wrong[(word.form.lower(), token.lemma, word.lemma)] += 1
    if errors:
        for (form, ours, theirs), count in wrong.most_common(errors):
            log(f"{language}: {count:4d}  {form} -> {ours} (gold {theirs})")
    return {
        "treebank": str(path),
        "sentences": len(sentences),
        "words": len(gold),
        "scored_words": scored,
        "content_words": content,
        "accuracy": {
            "all": round(right / scored, 4) if scored else None,
            "content": round(content_right / content, 4) if content else None,
        },
        "pos_accuracy": round(pos_right / len(gold), 4),
        "verbs": len(verbs),
        "verb_feature_accuracy": feature_accuracy(verbs),
        # of the verbs the treebank gives a value (Mood=Sub), how many the annotator does
        "verb_feature_recall": value_recall(verbs),
        "words_per_second": round(len(gold) / seconds) if seconds else None,
        # per second of CPU time: the per-core figure, whatever else the machine runs
        "words_per_cpu_second": round(len(gold) / cpu_seconds) if cpu_seconds else None,
    }


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    annotator = SpacyAnnotator(args.models)
    figures: dict[str, object] = {}
    for language, path in args.treebanks.items():
        log(f"{language}: {path}")
        try:
            figures[language] = result = evaluate(annotator, language, path, args.errors)
        except (TreebankError, UnicodeDecodeError, OSError) as exc:
            log(f"failed: {exc}")
            return 2
        log(
            f"{language}: lemmas {json.dumps(result['accuracy'])}, POS {result['pos_accuracy']}, "
            f"verb features {json.dumps(result['verb_feature_accuracy'])}, "
            f"{result['words_per_second']} words/s, "
            f"{result['words_per_cpu_second']} words per CPU second"
        )
    print(json.dumps({"models": args.models, "languages": figures}, indent=2))
    return 0
