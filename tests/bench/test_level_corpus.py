"""``python -m bench level-corpus`` (``bench/level_corpus.py``): graded
passages built from the public sources' own formats, split by document."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from bench import level, level_corpus

SENTENCES = [f"Das ist der Satz Nummer {n} im Text." for n in range(1, 15)]


def deplain_folder(root: Path) -> Path:
    folder = root / "DEplain-web-doc" / "auto" / "open" / "plain-text"
    folder.mkdir(parents=True)
    with (folder / "all.csv").open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(
            file,
            fieldnames=[
                "complex_document_id",
                "website",
                "complex_url",
                "simple_level",
                "complex_level",
                "license",
                "simplification",
                "original",
            ],
        )
        writer.writeheader()
        for pair, licence in (("7", "CC BY-SA 3.0"), ("8", "CC BY-NC-ND 4.0")):
            writer.writerow(
                {
                    "complex_document_id": f"{pair}-1",
                    "website": "site",
                    "complex_url": "",
                    "simple_level": "A1",
                    "complex_level": "C2",
                    "license": licence,
                    "simplification": " ".join(SENTENCES[:7]),
                    "original": " ".join(SENTENCES),
                }
            )
    return root


def test_passages_are_six_sentence_windows_split_by_document(tmp_path, capsys):
    merlin = tmp_path / "merlin" / "DE"
    merlin.mkdir(parents=True)
    (merlin / "0001_DE_B1.txt").write_text(
        "Maria Rossi\nStadt X\n" + "\n".join(SENTENCES[:9]), encoding="utf-8"
    )
    (merlin / "0002_DE_X9.txt").write_text("Kein Niveau hier, also nicht dabei.", encoding="utf-8")
    ud = tmp_path / "UD_German-GSD"
    ud.mkdir()
    (ud / "README.md").write_text("# Summary\n\nLicense: CC BY-SA 4.0\n", encoding="utf-8")
    (ud / "de_gsd-ud-test.conllu").write_text(
        "".join(
            f"# newdoc id = d{n // 4}\n" * (n % 4 == 0) + f"# text = {s}\n1\tx\n\n"
            for n, s in enumerate(SENTENCES[:8])
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    code = level_corpus.main(
        [
            "--out",
            str(out),
            "--deplain",
            str(deplain_folder(tmp_path / "deplain")),
            "--merlin",
            str(tmp_path / "merlin"),
            "--ud",
            str(ud / "de_gsd-ud-test.conllu"),
        ]
    )
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary  # counts per split, language, source and level
    lines = [
        json.loads(line)
        for name in ("tune", "heldout")
        for line in (out / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    # What `bench level` reads, every line of it.
    text = "\n".join(json.dumps(line) for line in lines)
    assert all(isinstance(r, level.Line) for r in level.read_lines(io.StringIO(text)))

    by_source = {}
    for line in lines:
        by_source.setdefault(line["source"], []).append(line)
    deplain = by_source["deplain-web"]
    # The original (14 sentences): 6 + 6, and a last window of 2 left out; the
    # simplification (7): 6, then 1 left out.
    originals = [line for line in deplain if line["level"] == "C2"]
    assert [len(level.split_sentences(line["text"])) for line in originals] == [6, 6] * 2
    assert {line["commercial_ok"] for line in deplain if "NC" in line["licence"]} == {False}
    assert {line["commercial_ok"] for line in deplain if "SA" in line["licence"]} == {True}
    # 9 sentences: 6, then a last window of 3 kept; the address block left
    # out; the file without a level not read.
    letter = by_source["merlin"]
    assert [len(level.split_sentences(line["text"])) for line in letter] == [6, 3]
    assert {(line["level"], line["kind"]) for line in letter} == {("B1", "learner")}
    assert letter[0]["text"].startswith("Das ist")
    native = by_source["ud-de_gsd"]
    assert {(line["level"], line["kind"], line["licence"]) for line in native} == {
        ("A2", "native", "CC BY-SA 4.0")
    }
    assert {line["document"] for line in native} == {"d0", "d1"}


def test_both_sides_of_a_document_and_all_its_windows_fall_in_one_split(tmp_path):
    out = tmp_path / "out"
    level_corpus.main(["--out", str(out), "--deplain", str(deplain_folder(tmp_path / "d"))])
    for name in ("tune", "heldout"):
        for line in (out / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            document = level_corpus.Document(
                "deplain-web", record["document"], "de", "A1", "graded", "", []
            )
            assert level_corpus.split_of(document) == name


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--out", "x"], "give at least one source"),
        (["--out", "x", "--merlin", "/nonexistent"], "not a folder"),
        (["--out", "x", "--ud", "/nonexistent.conllu"], "no such file"),
    ],
)
def test_bad_arguments_are_a_clear_usage_error(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        level_corpus.main(argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_a_treebank_of_two_sentence_documents_is_cut_into_parts_of_thirty(tmp_path, capsys):
    """PUD draws two or three sentences from each article: taken one
    document at a time, none would give a window."""
    ud = tmp_path / "UD_German-PUD"
    ud.mkdir()
    (ud / "README.md").write_text("License: CC BY-SA 3.0\n", encoding="utf-8")
    sentences = [f"Der Bericht nennt im Absatz {n} eine Zahl." for n in range(40)]
    (ud / "de_pud-ud-test.conllu").write_text(
        "".join(
            f"# newdoc id = n{n // 2}\n" * (n % 2 == 0) + f"# text = {s}\n1\tx\n\n"
            for n, s in enumerate(sentences)
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert level_corpus.main(["--out", str(out), "--ud", str(ud / "de_pud-ud-test.conllu")]) == 0
    capsys.readouterr()
    lines = [
        json.loads(line)
        for name in ("tune", "heldout")
        for line in (out / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    # 40 sentences: a part of 30 (five windows) and one of 10 (6, then 4).
    parts: dict[str, list[int]] = {}
    for line in lines:
        parts.setdefault(line["document"], []).append(len(level.split_sentences(line["text"])))
    assert sorted(parts.values()) == [[6, 4], [6, 6, 6, 6, 6]]
    assert {line["licence"] for line in lines} == {"CC BY-SA 3.0"}
