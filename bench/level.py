"""``python -m bench level --input FILE.jsonl [--output FILE.jsonl]``: score any
text with the pipeline's own difficulty estimate (``adventures.levelfit``).

Input: one JSON object a line, ``{"id", "language", "level", "text"}`` (text:
plain sentences; other fields are kept for ``--figures``). Output: one JSON
object a line, in input order:

- ``id``, ``language``, ``level``: as given;
- ``estimate``: the estimated CEFR level, 1.0 (A1) .. 6.0 (C2);
- ``estimated_level``: the estimate rounded to a level;
- ``reask``: whether the pipeline would ask the generator again at ``level``;
- ``reasons``: the words and verb forms above ``level``, words per sentence,
  subordinate clauses per sentence, the vocabulary rank 90 % of the content
  words need (the entry payload's ``level.reasons``);
- ``features``: the model's inputs.

The output is a contract: fields are added, never renamed. A bad line (not
JSON, a missing field, a language the annotator does not know, a level that
is not A1..C2, no words) is reported on stderr with its line number and
skipped; unreadable input is exit status 2.

``--figures`` also prints, on stderr as one JSON object, how the estimate
orders the labelled lines: per language, the rank correlation between level
and estimate, the share of A1-A2 lines judged too hard for their own level,
and the share of lines whose ``kind`` is ``native`` judged too hard at A2
(give native prose ``"level": "A2"``); with lines naming their ``source``,
also per source. ``--save NAME`` writes those figures and the fit to
``bench/results/<date>-level-NAME.json``. ``--fit`` prints the least-squares
coefficients of ``langlearn.difficulty.model`` on the input's lines that are
neither native prose nor marked ``"commercial_ok": false`` (what ``model.py``
holds was fitted that way).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2")
# A sentence ends at . ! ? or … (with closing quotes or brackets) before a
# space and what can open a sentence.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'»”)\]]*\s+(?=[\"'«“¿¡(\[]?[^\W\d_])", re.UNICODE)


# Abbreviations a sentence does not end at (titles, initials).
_ABBREVIATION = re.compile(
    r"(?:\b(?:Sr|Sra|Srta|Dr|Dra|Ud|Uds|Vd|Vds|Prof|Profa|St|Mr|Mrs|Ms|Mme|Mlle|Hr|Fr|"
    r"Sig|Sigra|Dott|Dott\.ssa|Av|etc|bzw|z\.B|ca|Nr|S|p|pp|vs)|\b[A-ZÀ-Ý])\.$"
)


def split_sentences(text: str) -> list[str]:
    sentences: list[str] = []
    for part in _SENTENCE_END.split(text.strip()):
        part = part.strip()
        if not part:
            continue
        if sentences and _ABBREVIATION.search(sentences[-1]):
            sentences[-1] = f"{sentences[-1]} {part}"
        else:
            sentences.append(part)
    return sentences


@dataclass(frozen=True)
class Line:
    number: int
    record: dict[str, Any]


class BadLine(ValueError):
    pass


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench level",
        description="Estimate the CEFR level of passages, one JSON object a line.",
    )
    parser.add_argument("--input", required=True, help="JSONL file ('-' for stdin)")
    parser.add_argument("--output", help="JSONL file to write (default: stdout)")
    parser.add_argument(
        "--figures",
        action="store_true",
        help="also print how the estimate orders the labelled lines (stderr, JSON)",
    )
    parser.add_argument(
        "--save",
        metavar="NAME",
        help="also write the figures (and the fit) to bench/results/<date>-level-NAME.json",
    )
    parser.add_argument(
        "--fit",
        action="store_true",
        help="also print the model's least-squares coefficients on these lines (stderr)",
    )
    args = parser.parse_args(argv)
    if args.save is not None and not re.fullmatch(r"[a-z0-9][a-z0-9-]*", args.save):
        parser.error(f"--save {args.save!r}: use lowercase letters, digits and -")
    return args


def log(message: str) -> None:
    print(f"[bench level] {message}", file=sys.stderr, flush=True)


def read_lines(source: TextIO) -> Iterator[Line | BadLine]:
    for number, text in enumerate(source, 1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            yield BadLine(f"line {number}: not JSON ({exc.msg})")
            continue
        problem = _problem(record)
        if problem:
            yield BadLine(f"line {number}: {problem}")
        else:
            yield Line(number, record)


def _problem(record: Any) -> str | None:
    from langlearn import languages

    if not isinstance(record, dict):
        return "not a JSON object"
    for name in ("id", "language", "level", "text"):
        if name not in record:
            return f"no {name!r}"
    if not isinstance(record["id"], str | int):
        return "'id' must be a string or a number"
    if record["language"] not in languages.lemmatized():
        taught = ", ".join(sorted(languages.lemmatized()))
        return f"language {record['language']!r} is not one we teach ({taught})"
    if record["level"] not in LEVELS:
        return f"level {record['level']!r} is not a CEFR level ({', '.join(LEVELS)})"
    if not isinstance(record["text"], str) or not re.search(r"[^\W\d_]", record["text"]):
        return "'text' has no words"
    return None


async def score(lines: list[Line]) -> list[dict[str, Any]]:
    from adventures import levelfit

    results = []
    for line in lines:
        record = line.record
        measured = await levelfit.measure_sentences(
            split_sentences(record["text"]),
            language=record["language"],
            level=record["level"],
            exclude=set(),
        )
        estimate = measured.estimate
        results.append(
            {
                "id": record["id"],
                "language": record["language"],
                "level": record["level"],
                "estimate": estimate.value,
                "estimated_level": estimate.level,
                "reask": measured.too_hard,
                "reasons": estimate.reasons(record["level"]),
                "features": {name: round(value, 4) for name, value in estimate.features.items()},
            }
        )
    return results


def _ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(xs: list[float], ys: list[float]) -> float | None:
    if len(xs) < 3 or len(set(xs)) < 2 or len(set(ys)) < 2:
        return None
    rx, ry = _ranks(xs), _ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    var = math.sqrt(sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry))
    return round(cov / var, 3) if var else None


def auc(negatives: list[float], positives: list[float]) -> float | None:
    """Chance that a positive scores above a negative (ties count half)."""
    if not negatives or not positives:
        return None
    ranks = _ranks(negatives + positives)
    positive_ranks = sum(ranks[len(negatives) :])
    n, p = len(negatives), len(positives)
    return round((positive_ranks - p * (p + 1) / 2) / (n * p), 3)


def figures(lines: list[Line], results: list[dict[str, Any]]) -> dict[str, Any]:
    """Per language (and, where lines name their ``source``, per source)."""
    by_language: dict[str, list[tuple[dict, dict]]] = defaultdict(list)
    for line, result in zip(lines, results, strict=True):
        by_language[line.record["language"]].append((line.record, result))
    report: dict[str, Any] = {}
    for language, pairs in sorted(by_language.items()):
        report[language] = _measures(pairs)
        sources: dict[str, list[tuple[dict, dict]]] = defaultdict(list)
        for record, result in pairs:
            sources[str(record.get("source", ""))].append((record, result))
        if len(sources) > 1:
            report[language]["sources"] = {
                name: _measures(found) for name, found in sorted(sources.items())
            }
    return report


def _measures(pairs: list[tuple[dict, dict]]) -> dict[str, Any]:
    graded = [(r, s) for r, s in pairs if r.get("kind") != "native"]
    native = [s for r, s in pairs if r.get("kind") == "native"]
    low = [s for r, s in graded if r["level"] in ("A1", "A2")]
    high = [s for r, s in graded if r["level"] not in ("A1", "A2")]
    counts: dict[str, int] = defaultdict(int)
    for record, _ in graded:
        counts[record["level"]] += 1
    return {
        "lines": len(pairs),
        "per_level": dict(sorted(counts.items())),
        "rank_correlation": spearman(
            [LEVELS.index(r["level"]) + 1.0 for r, _ in graded],
            [s["estimate"] for _, s in graded],
        ),
        "auc_a1_a2_vs_b1_up": auc([s["estimate"] for s in low], [s["estimate"] for s in high]),
        "a1_a2_too_hard_share": _share([s["reask"] for s in low]),
        "native_lines": len(native),
        "native_too_hard_at_a2_share": _share([s["reask"] for s in native]),
        "mean_estimate_per_level": {
            level: round(sum(s["estimate"] for r, s in graded if r["level"] == level) / count, 2)
            for level, count in sorted(counts.items())
        },
        "mean_estimate_native": (
            round(sum(s["estimate"] for s in native) / len(native), 2) if native else None
        ),
    }


def _share(flags: list[bool]) -> float | None:
    return round(sum(flags) / len(flags), 3) if flags else None


def fit(lines: list[Line], results: list[dict[str, Any]]) -> dict[str, Any]:
    """Least squares of the level number on the model's features, native
    prose left out (it has no level) and lines marked ``"commercial_ok":
    false`` too (a model fitted on them could not ship), each (source, level) cell weighing the
    same (a large source does not outvote a small one), a little ridge for
    stability; a feature whose coefficient comes out negative is dropped and
    the rest refitted, so that more of any difficulty never lowers the
    estimate."""
    import numpy

    from langlearn.difficulty import model

    rows = [
        (line.record, result["features"])
        for line, result in zip(lines, results, strict=True)
        if line.record.get("kind") != "native" and line.record.get("commercial_ok") is not False
    ]
    if len(rows) < len(model.FEATURES) + 2:
        return {"error": "too few graded lines to fit"}
    cells: dict[tuple[str, str], int] = defaultdict(int)
    for record, _ in rows:
        cells[(str(record.get("source", "")), record["level"])] += 1
    weights = numpy.array([1.0 / cells[(str(r.get("source", "")), r["level"])] for r, _ in rows])
    weights *= len(weights) / weights.sum()
    y = numpy.array([LEVELS.index(record["level"]) + 1.0 for record, _ in rows])
    kept = list(model.FEATURES)
    while True:
        x = numpy.array([[1.0] + [features[name] for name in kept] for _, features in rows])
        ridge = numpy.eye(len(kept) + 1)
        ridge[0, 0] = 0.0
        weighted = x.T * weights
        solution = numpy.linalg.solve(weighted @ x + ridge, weighted @ y)
        negative = [name for name, value in zip(kept, solution[1:], strict=True) if value < 0]
        if not negative:
            break
        kept.remove(min(negative, key=lambda name: solution[1 + kept.index(name)]))
    found = dict(zip(kept, solution[1:], strict=True))
    return {
        "lines": len(rows),
        "intercept": round(float(solution[0]), 3),
        "coefficients": {name: round(float(found.get(name, 0.0)), 3) for name in model.FEATURES},
    }


def write(results: list[dict[str, Any]], output: TextIO) -> None:
    for result in results:
        output.write(json.dumps(result, ensure_ascii=False) + "\n")
    output.flush()


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "langlearn.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    from django.apps import apps

    if not apps.ready:  # (called from a process that has set Django up: leave it be)
        django.setup()
    try:
        if args.input == "-":
            parsed = list(read_lines(sys.stdin))
        else:
            with Path(args.input).open(encoding="utf-8") as source:
                parsed = list(read_lines(source))
    except (OSError, UnicodeDecodeError) as exc:
        log(f"cannot read {args.input}: {exc}")
        return 2
    lines = [item for item in parsed if isinstance(item, Line)]
    bad = [item for item in parsed if isinstance(item, BadLine)]
    for problem in bad:
        log(f"skipped {problem}")
    started = time.perf_counter()
    results = asyncio.run(score(lines))
    seconds = time.perf_counter() - started
    log(f"{len(results)} scored, {len(bad)} skipped, in {seconds:.1f} s")
    if args.output:
        try:
            with Path(args.output).open("w", encoding="utf-8") as output:
                write(results, output)
        except OSError as exc:
            log(f"cannot write {args.output}: {exc}")
            return 2
    else:
        write(results, sys.stdout)
    report: dict[str, Any] = {}
    if args.figures or args.save:
        report["figures"] = figures(lines, results)
    if args.fit or args.save:
        report["fit"] = fit(lines, results)
    if args.figures:
        print(json.dumps(report["figures"], indent=2), file=sys.stderr)
    if args.fit:
        print(json.dumps(report["fit"], indent=2), file=sys.stderr)
    if args.save:
        from .results import save

        report["seconds"] = round(seconds, 1)
        path = save(report, section=f"level-{args.save}", command=["level", *argv])
        log(f"saved to {path}")
    return 0
