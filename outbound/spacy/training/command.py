"""``python -m outbound.spacy.training LANG --train FILE ... --dev FILE``: train
the annotator's model for one language and write it to
``outbound/spacy/models/LANG/`` (or ``--out``).

Progress on stderr; the summary (accuracy, sizes, time) as JSON on stdout; bad
arguments: a message and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import time
from pathlib import Path

from langlearn import languages

from . import table, tagger
from .treebank import read

MODELS = Path(__file__).resolve().parent.parent / "models"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m outbound.spacy.training",
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
    from spacy.util import fix_random_seed

    started = time.perf_counter()
    cpu_started = time.process_time()
    fix_random_seed(args.seed)
    rng = random.Random(args.seed)
    train = [s for file in args.train for s in read(Path(file))]
    dev = read(Path(args.dev))
    if len(dev) <= args.hold_out:
        log(f"{args.dev}: {len(dev)} sentences, not more than --hold-out {args.hold_out}")
        return 2
    train += dev[: -args.hold_out]
    held = dev[-args.hold_out :]
    log(f"{args.language}: {len(train)} training sentences, {len(held)} held out")

    nlp = tagger.blank(args.language, width=args.width, depth=args.depth, rows=args.rows)
    best, epochs = tagger.train(
        nlp, train, held, epochs=args.epochs, patience=args.patience, rng=rng, log=log
    )
    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    nlp.meta["name"] = f"langlearn_{args.language}"
    nlp.meta["description"] = (
        "POS and verb-feature tagger for the langlearn annotator (outbound/spacy/training)"
    )
    nlp.meta["sources"] = [{"name": Path(f).name} for f in [*args.train, args.dev]]
    nlp.to_disk(args.out)
    # the held-out sentences stay out of the table too: the suite's slices
    # (bench/data/ud/) come from them
    lemmas = table.lemma_table(args.language, train, dev[: -args.hold_out])
    checked = table.held_out_lemmas(args.language, nlp, lemmas, held)
    log(f"held-out lemma accuracy {checked}")
    features = tagger.held_out_features(nlp, held)
    log(f"held-out verb feature accuracy {features}")
    (args.out / "lemmas.json").write_text(
        json.dumps(lemmas, ensure_ascii=False, sort_keys=True, indent=0), encoding="utf-8"
    )
    size = sum(f.stat().st_size for f in args.out.rglob("*") if f.is_file())
    summary = {
        "language": args.language,
        "out": str(args.out),
        "training_sentences": len(train),
        "held_out_pos_accuracy": round(best["pos"], 4),
        "held_out_morph_accuracy": round(best["morph"], 4),
        "held_out_lemma_accuracy": checked,
        "held_out_verb_feature_accuracy": features,
        "epochs": epochs,
        "lemma_entries": len(lemmas["lemmas"]),
        "contractions": len(lemmas["contractions"]),
        "bytes": size,
        "seconds": round(time.perf_counter() - started),
        "cpu_seconds": round(time.process_time() - cpu_started),
    }
    print(json.dumps(summary, indent=2))
    return 0
