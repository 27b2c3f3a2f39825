"""``python -m bench train-lemmatizer LANG --train FILE ... --dev FILE``: train
the annotator's model for one language from Universal Dependencies train/dev
splits, and write it to ``outbound/spacy/models/LANG/`` (or ``--out``).

A model is two things the annotator (``outbound/spacy/``) loads together:

- a small spaCy pipeline, a CNN over hashed word features and a
  ``morphologizer`` that predicts the Universal POS tag of each word (no
  morphological features: the POS is all the lemmas need);
- ``lemmas.json``: the treebanks' lemma per (lower-cased word, POS) where it is
  not what ``simplemma`` gives, and the contractions (``del``, ``du``,
  ``della``, ``do``, ``im``) with the lemma and POS a learner should see when
  the tokeniser leaves them whole.

The tagger and the table learn from every ``--train`` file and the ``--dev``
file except its last sentences (``--hold-out``), on which the tagger is checked
after each epoch (the best epoch is kept) and the whole is measured at the end;
the suite's slices (``bench/data/ud/``) come from those held-out sentences.
Sentences holding a contraction are also shown with it merged into one word
(the tokeniser does not split them), now and then.
Deterministic for a given ``--seed`` and input (on one thread).
Progress on stderr; the summary (accuracy, sizes, time) as JSON on stdout.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langlearn import languages

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "outbound" / "spacy" / "models"
# Old UD (v1) spells one tag differently.
RENAMED = {"CONJ": "CCONJ"}
# Parts of a contraction that carry no lexical meaning of their own.
FUNCTION = frozenset({"ADP", "DET", "PRON", "CCONJ", "SCONJ", "PART", "AUX"})


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
            tags.append(_head(parts).upos)
            index = last + 1
        else:
            words.append(sentence.words[index].form)
            tags.append(sentence.words[index].upos)
            index += 1
    return words, tags


def _head(parts: list[Word]) -> Word:
    return next((part for part in parts if part.upos not in FUNCTION), parts[0])


def lemma_table(
    language: str, sentences: list[Sentence], preferred: list[Sentence]
) -> dict[str, Any]:
    """What the annotator cannot get from simplemma alone. Where a word is in
    ``preferred`` (the dev split: the treebank's current conventions), the
    other files' lemmas for it are not counted (an older release's ``melhor``
    -> ``bom``)."""
    import simplemma

    counts: defaultdict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    whole: defaultdict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    as_word: Counter[str] = Counter()
    current = {(word.form.lower(), word.upos) for s in preferred for word in s.words}
    newer = {id(sentence) for sentence in preferred}
    for sentence in sentences:
        for word in sentence.words:
            key = (word.form.lower(), word.upos)
            if key not in current or id(sentence) in newer:
                counts[key][word.lemma] += 1
            as_word[word.form.lower()] += 1
        for first, last, surface in sentence.contractions:
            parts = sentence.words[first : last + 1]
            head = _head(parts)
            # a learner looks up "del" or "della" as such, "dárselo" under "dar"
            form = surface.lower()
            entry = head.lemma if head.upos not in FUNCTION else form
            whole[form][(entry, head.upos)] += 1
    lemmas: dict[str, str] = {}
    for (form, upos), found in sorted(counts.items()):
        best = found.most_common(1)[0][0]
        if best != simplemma.lemmatize(form, lang=language) or upos == "PROPN":
            lemmas[f"{form}\t{upos}"] = best
    contractions: dict[str, list[str]] = {}
    for form, seen in sorted(whole.items()):
        # "nos" (em + os, or the pronoun): whole only where that is what it usually is
        if sum(seen.values()) > as_word[form]:
            (entry, upos), _ = seen.most_common(1)[0]
            contractions[form] = [entry, upos]
    return {"lemmas": lemmas, "contractions": contractions}


def held_out_lemmas(
    language: str, nlp: Any, data: dict[str, Any], held: list[Sentence]
) -> dict[str, float]:
    """The annotator's lemma accuracy on the held-out sentences (tagger and a
    table made without them), scored as ``python -m bench annotate`` does."""
    from spacy.tokens import Doc

    from bench.annotate import CONTENT, UNSCORED
    from outbound.spacy import lemmas

    table = lemmas.Table(
        lemmas=dict(data["lemmas"]),
        contractions={},
    )
    scored = right = content = content_right = 0
    for sentence in held:
        doc = nlp(Doc(nlp.vocab, words=[w.form for w in sentence.words]))
        for index, (word, token) in enumerate(zip(sentence.words, doc, strict=True)):
            if word.upos in UNSCORED:
                continue
            found = lemmas.lemma(
                word.form,
                language=language,
                pos=token.pos_,
                sentence_start=index == 0 and word.form.isalpha(),
                table=table,
            )
            correct = found.casefold() == word.lemma.casefold()
            scored += 1
            right += correct
            if word.upos in CONTENT:
                content += 1
                content_right += correct
    return {"all": round(right / scored, 4), "content": round(content_right / content, 4)}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench train-lemmatizer",
        description=(
            "Train the annotator's POS tagger and lemma table for one language from "
            "Universal Dependencies train/dev splits (never a test split)."
        ),
    )
    parser.add_argument("language", help="one of the languages we teach, e.g. es")
    parser.add_argument(
        "--train",
        action="append",
        default=[],
        metavar="FILE",
        help="CoNLL-U train split(s) (repeatable; none: the dev split alone)",
    )
    parser.add_argument("--dev", required=True, metavar="FILE", help="CoNLL-U dev split")
    parser.add_argument(
        "--hold-out",
        type=int,
        default=150,
        metavar="N",
        help="the last N dev sentences, held out to check each epoch and the result (default 150)",
    )
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--width", type=int, default=96)
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument("--rows", type=int, default=3000, help="hash embedding rows")
    parser.add_argument("--out", type=Path, default=None, help="default outbound/spacy/models/LANG")
    args = parser.parse_args(argv)
    if args.language not in languages.lemmatized():
        parser.error(f"{args.language!r} is not one of {', '.join(sorted(languages.lemmatized()))}")
    if any(Path(file).resolve() == Path(args.dev).resolve() for file in args.train):
        parser.error(f"{args.dev}: given as --train and --dev; its held-out part must stay out")
    for file in [*args.train, args.dev]:
        if "test" in Path(file).name:
            parser.error(f"{file}: test splits are the measure; train on train/dev only")
        if not Path(file).is_file():
            parser.error(f"{file}: no such file")
    if args.epochs < 1 or args.hold_out < 1 or args.patience < 1:
        parser.error("--epochs, --hold-out and --patience: give 1 or more")
    args.out = args.out or MODELS / args.language
    return args


def log(message: str) -> None:
    print(f"[train-lemmatizer] {message}", file=sys.stderr, flush=True)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    import spacy
    from spacy.tokens import Doc
    from spacy.training import Example
    from spacy.util import compounding, fix_random_seed, minibatch

    started = time.perf_counter()
    cpu_started = time.process_time()
    fix_random_seed(args.seed)
    rng = random.Random(args.seed)
    train: list[Sentence] = [s for file in args.train for s in read(Path(file))]
    dev = read(Path(args.dev))
    if len(dev) <= args.hold_out:
        log(f"{args.dev}: {len(dev)} sentences, not more than --hold-out {args.hold_out}")
        return 2
    train += dev[: -args.hold_out]
    held = dev[-args.hold_out :]
    log(f"{args.language}: {len(train)} training sentences, {len(held)} held out")

    nlp = spacy.blank(args.language)
    nlp.add_pipe(
        "morphologizer",
        config={
            "model": {
                "@architectures": "spacy.Tagger.v2",
                "nO": None,
                "normalize": False,
                "tok2vec": {
                    "@architectures": "spacy.HashEmbedCNN.v2",
                    "pretrained_vectors": None,
                    "width": args.width,
                    "depth": args.depth,
                    "embed_size": args.rows,
                    "window_size": 1,
                    "maxout_pieces": 3,
                    "subword_features": True,
                },
            }
        },
    )

    def example(words: list[str], tags: list[str]) -> Example:
        return Example(Doc(nlp.vocab, words=words), Doc(nlp.vocab, words=words, pos=tags))

    plain = [example([w.form for w in s.words], [w.upos for w in s.words]) for s in train]
    whole = {}
    for index, sentence in enumerate(train):
        found = merged(sentence)
        if found:
            whole[index] = example(*found)
    checks = [example([w.form for w in s.words], [w.upos for w in s.words]) for s in held]
    optimizer = nlp.initialize(lambda: plain[:2000])
    best, best_bytes, since_best, epoch_seconds = -1.0, b"", 0, []
    for epoch in range(1, args.epochs + 1):
        tick = time.perf_counter()
        order = list(range(len(plain)))
        rng.shuffle(order)
        batch_of = [whole[i] if i in whole and rng.random() < 0.3 else plain[i] for i in order]
        losses: dict[str, float] = {}
        for batch in minibatch(batch_of, size=compounding(8.0, 64.0, 1.001)):
            nlp.update(batch, sgd=optimizer, drop=0.2, losses=losses)
        with nlp.use_params(optimizer.averages):
            accuracy = nlp.evaluate(checks)["pos_acc"]
        epoch_seconds.append(time.perf_counter() - tick)
        log(
            f"epoch {epoch}: loss {losses.get('morphologizer', 0):.0f}, "
            f"held-out POS {accuracy:.4f} ({epoch_seconds[-1]:.0f} s)"
        )
        if accuracy > best:
            best, since_best = accuracy, 0
            with nlp.use_params(optimizer.averages):
                best_bytes = nlp.to_bytes()
        else:
            since_best += 1
            if since_best >= args.patience:
                break
    nlp.from_bytes(best_bytes)
    if args.out.exists():
        shutil.rmtree(args.out)
    nlp.meta["name"] = f"langlearn_{args.language}"
    nlp.meta["description"] = "POS tagger for the langlearn annotator (bench/train_lemmatizer.py)"
    nlp.meta["sources"] = [{"name": Path(f).name} for f in [*args.train, args.dev]]
    nlp.to_disk(args.out)
    # the held-out sentences stay out of the table too: the suite's slices
    # (bench/data/ud/) come from them
    table = lemma_table(args.language, train, dev[: -args.hold_out])
    checked = held_out_lemmas(args.language, nlp, table, held)
    log(f"held-out lemma accuracy {checked}")
    (args.out / "lemmas.json").write_text(
        json.dumps(table, ensure_ascii=False, sort_keys=True, indent=0), encoding="utf-8"
    )
    size = sum(f.stat().st_size for f in args.out.rglob("*") if f.is_file())
    summary = {
        "language": args.language,
        "out": str(args.out),
        "training_sentences": len(train),
        "held_out_pos_accuracy": round(best, 4),
        "held_out_lemma_accuracy": checked,
        "epochs": len(epoch_seconds),
        "lemma_entries": len(table["lemmas"]),
        "contractions": len(table["contractions"]),
        "bytes": size,
        "seconds": round(time.perf_counter() - started),
        "cpu_seconds": round(time.process_time() - cpu_started),
    }
    print(json.dumps(summary, indent=2))
    return 0
