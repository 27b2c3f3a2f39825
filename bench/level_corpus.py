"""``python -m bench level-corpus``: build the graded passages the difficulty
estimate is fitted on and measured against (``docs/levels.md``, "Data and
fit"), from public sources you fetch yourself; nothing of them ships.

    python -m bench level-corpus --out DIR \\
        --deplain DEPlain/B__Document-level_Corpus \\
        --merlin UniversalCEFRScoring/Datasets \\
        --ud UD_German-GSD/de_gsd-ud-test.conllu --ud UD_Spanish-GSD/es_gsd-ud-test.conllu ...

- ``--deplain``: DEplain-web's document-level corpus (Stodden et al. 2023,
  github.com/rstodden/DEPlain): each document in plain or easy-to-read
  German (its ``simple_level``, A1 or A2) beside its original (B2 or C2). The
  licence is each row's; a pair is one document for the split.
- ``--merlin``: MERLIN's German and Italian learner letters rated A1-C1 (Boyd
  et al. 2014; CC BY-SA 4.0) as in github.com/PhyloStar/UniversalCEFRScoring
  (``DE/*_LEVEL.txt``, ``IT/*_LEVEL.txt``).
- ``--ud``: Universal Dependencies test files, native prose (``"kind":
  "native"``, ``"level": "A2"``: it is measured as too hard at A2 or not); the
  language is the file name's prefix, the licence the ``License:`` line of the
  README beside the file.

Each document becomes passages of six consecutive sentences (the size the
generator writes; a last window of three to five sentences is kept), one JSON
object a line as ``python -m bench level --input`` reads them: ``id``,
``language``, ``level``, ``text``, ``source``, ``kind`` (``graded``,
``learner`` or ``native``), ``document``, ``licence``, ``commercial_ok``
(false for non-commercial or unknown licences: such lines are measured,
never fitted). Documents, never windows, are split between ``tune.jsonl``
(62 %) and ``heldout.jsonl``, by a hash of the source and the document's
name: the same files give the same split on every machine.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .level import LEVELS, split_sentences

WINDOW = 6
SHORTEST = 3  # a document's last window, when shorter than WINDOW
TUNE_SHARE = 62  # percent of documents

# Licences a model fitted on the text could ship under.
_COMMERCIAL = re.compile(r"^(CC[ _-]?BY(?![ _-]?NC)(?:[ _-]?SA)?|public domain|CC0)", re.I)


@dataclass(frozen=True)
class Document:
    source: str
    name: str
    language: str
    level: str
    kind: str
    licence: str
    sentences: list[str]


def commercial(licence: str) -> bool:
    return bool(_COMMERCIAL.match(licence.strip())) and "ND" not in licence.upper()


def deplain(folder: Path) -> Iterator[Document]:
    """Both sides of every open DEplain-web document pair (``auto/open/.../all.csv``
    and ``manual/open/.../test.csv``: the auto-aligned ones and the manually
    aligned test set, disjoint)."""
    for path in sorted(folder.glob("DEplain-web-doc/*/open/plain-text/*.csv")):
        if path.name not in ("all.csv", "test.csv"):
            continue  # all.csv holds the train and dev files' rows
        alignment = path.parents[2].name  # auto or manual
        with path.open(encoding="utf-8", newline="") as file:
            for row in csv.DictReader(file):
                pair = row.get("pair_id") or row["complex_document_id"].rsplit("-", 1)[0]
                site = row.get("website") or row.get("domain") or ""
                licence = row["license"].replace("_", " ")
                for side, level in (
                    ("simplification", row["simple_level"]),
                    ("original", row["complex_level"]),
                ):
                    level = level.upper().split("/")[0]
                    if level not in LEVELS or not row[side].strip():
                        continue
                    yield Document(
                        source="deplain-web",
                        name=f"{alignment}/{site}/{pair}",
                        language="de",
                        level=level,
                        kind="graded",
                        licence=licence,
                        sentences=split_sentences(row[side]),
                    )


def merlin(folder: Path) -> Iterator[Document]:
    for language in ("de", "it"):
        for path in sorted((folder / language.upper()).glob("*.txt")):
            level = path.stem.rsplit("_", 1)[-1]
            if level not in LEVELS:
                continue
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
            # Letters open with an address block, a line a field: keep the prose.
            prose = " ".join(line.strip() for line in lines if len(line.split()) > 4)
            yield Document(
                source="merlin",
                name=path.name,
                language=language,
                level=level,
                kind="learner",
                licence="CC BY-SA 4.0",
                sentences=split_sentences(prose),
            )


def universal_dependencies(path: Path) -> Iterator[Document]:
    language = path.name.split("_", 1)[0]
    readme = path.with_name("README.md")
    licence = "unknown"
    if readme.exists():
        found = re.search(r"^License:\s*(.+)$", readme.read_text(encoding="utf-8"), re.M)
        licence = found.group(1).strip() if found else licence
    source = f"ud-{path.name.split('-ud-')[0]}"
    documents: list[tuple[str, list[str]]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# newdoc"):
            name = line.partition("=")[2].strip() or f"doc{len(documents)}"
            documents.append((name, []))
        elif line.startswith("# text ="):
            if not documents:  # no document boundaries (yet)
                documents.append(("", []))
            documents[-1][1].append(line.partition("=")[2].strip())
    # Without document boundaries, or with documents too short on average to
    # give a window (PUD: two or three sentences drawn from each article),
    # every 30 sentences, in the file's order, count as one document.
    total = sum(len(sentences) for _, sentences in documents)
    if documents and total < SHORTEST * len(documents):
        documents = [("", [s for _, sentences in documents for s in sentences])]
    for name, sentences in documents:
        step = len(sentences) if name else 30
        for start in range(0, len(sentences), step or 1):
            yield Document(
                source,
                name or f"part{start // step}",
                language,
                "A2",
                "native",
                licence,
                sentences[start : start + step],
            )


def windows(document: Document) -> Iterator[list[str]]:
    sentences = [s for s in document.sentences if re.search(r"[^\W\d_]", s)]
    for start in range(0, len(sentences), WINDOW):
        window = sentences[start : start + WINDOW]
        if len(window) >= SHORTEST:
            yield window


def split_of(document: Document) -> str:
    digest = hashlib.sha256(f"{document.source}:{document.name}".encode()).digest()
    return "tune" if int.from_bytes(digest[:4], "big") % 100 < TUNE_SHARE else "heldout"


def records(documents: Iterator[Document]) -> Iterator[tuple[str, dict]]:
    for document in documents:
        split = split_of(document)
        for number, window in enumerate(windows(document)):
            yield (
                split,
                {
                    "id": f"{document.source}/{document.name}/{document.level}/{number}",
                    "language": document.language,
                    "level": document.level,
                    "text": " ".join(window),
                    "source": document.source,
                    "kind": document.kind,
                    "document": document.name,
                    "licence": document.licence,
                    "commercial_ok": commercial(document.licence),
                },
            )


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench level-corpus",
        description="Build tune.jsonl and heldout.jsonl of graded passages from public sources.",
    )
    parser.add_argument("--out", required=True, type=Path, help="folder to write to")
    parser.add_argument("--deplain", type=Path, help="DEPlain's B__Document-level_Corpus folder")
    parser.add_argument("--merlin", type=Path, help="UniversalCEFRScoring's Datasets folder")
    parser.add_argument(
        "--ud", type=Path, action="append", default=[], help="a UD test .conllu (repeatable)"
    )
    args = parser.parse_args(argv)
    if not (args.deplain or args.merlin or args.ud):
        parser.error("give at least one source: --deplain, --merlin or --ud")
    for name in ("deplain", "merlin"):
        folder = getattr(args, name)
        if folder is not None and not folder.is_dir():
            parser.error(f"--{name} {folder}: not a folder")
    for path in args.ud:
        if not path.is_file():
            parser.error(f"--ud {path}: no such file")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    sources: list[Iterator[Document]] = []
    if args.deplain:
        sources.append(deplain(args.deplain))
    if args.merlin:
        sources.append(merlin(args.merlin))
    sources.extend(universal_dependencies(path) for path in args.ud)
    args.out.mkdir(parents=True, exist_ok=True)
    counts: Counter[tuple[str, str, str, str]] = Counter()
    files = {
        name: (args.out / f"{name}.jsonl").open("w", encoding="utf-8")
        for name in ("tune", "heldout")
    }
    try:
        for documents in sources:
            for split, record in records(documents):
                files[split].write(json.dumps(record, ensure_ascii=False) + "\n")
                counts[(split, record["language"], record["source"], record["level"])] += 1
    finally:
        for file in files.values():
            file.close()
    summary: dict[str, dict[str, int]] = {}
    for (split, language, source, level), count in sorted(counts.items()):
        summary.setdefault(f"{split} {language} {source}", {})[level] = count
    json.dump(summary, sys.stdout, indent=1)
    print()
    return 0
