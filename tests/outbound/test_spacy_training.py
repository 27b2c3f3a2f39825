"""``python -m outbound.spacy.training``: the annotator's models, trained on
the small dev slices shipped for the lemma measure (``bench/data/ud/``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from outbound.spacy.client import SpacyAnnotator
from outbound.spacy.training.command import main as train

from tests.support.processes import ROOT

SPANISH = ROOT / "bench" / "data" / "ud" / "es_gsd-ud-dev.last150.conllu"


def test_a_model_trained_by_the_command_is_what_the_annotator_loads(capsys, tmp_path):
    """``python -m outbound.spacy.training`` on a slice (a tiny model, one epoch):
    the annotator given its folder tags words and looks lemmas up in its table."""
    out = tmp_path / "es"
    args = ["es", "--dev", str(SPANISH), "--hold-out", "50", "--epochs", "1"]
    code = train([*args, "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    summary = json.loads(captured.out)
    assert summary["training_sentences"] == 100
    assert 0 < summary["held_out_pos_accuracy"] <= 1
    assert 0 < summary["held_out_lemma_accuracy"]["content"] <= 1
    table = json.loads((out / "lemmas.json").read_text(encoding="utf-8"))
    assert table["lemmas"]
    assert table["contractions"]["del"] == ["del", "ADP"]
    tokens = SpacyAnnotator(shipped=tmp_path).annotate_sync(["Vino del pueblo."], "es")
    assert [token.text for token in tokens] == ["Vino", "del", "pueblo", "."]
    assert all(token.pos for token in tokens)  # the trained tagger's, not blank
    assert tokens[1].lemma == "del"  # the contraction, left whole, as such


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["en", "--dev", str(SPANISH)], "'en' is not one of"),
        (["es", "--dev", "/tmp/es_gsd-ud-test.conllu"], "test splits are the measure"),
        (["es", "--dev", "/no/such/dev.conllu"], "no such file"),
        (
            ["es", "--dev", str(SPANISH), "--train", str(SPANISH)],
            "given as --train and --dev",
        ),
        (["es", "--dev", str(SPANISH), "--epochs", "0"], "1 or more"),
        (["es", "--dev", str(SPANISH), "--hold-out", "150"], "not more than --hold-out"),
    ],
)
def test_training_refuses_test_splits_and_bad_arguments(capsys, tmp_path, args, message):
    try:
        code = train([*args, "--out", str(tmp_path / "model")])
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    assert code == 2
    assert message in captured.err
    assert not (tmp_path / "model").exists()


@pytest.mark.slow
def test_the_command_line_runs_it_and_writes_the_same_model_for_the_same_seed(tmp_path):
    """Same files, same seed: the same model, byte for byte (one thread)."""
    args = ["es", "--dev", str(SPANISH), "--hold-out", "50", "--epochs", "1"]
    for name in ("first", "second"):
        result = subprocess.run(
            [sys.executable, "-m", "outbound.spacy.training", *args, "--out", str(tmp_path / name)],
            cwd=ROOT,
            env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["epochs"] == 1
    first = sorted(p.relative_to(tmp_path / "first") for p in (tmp_path / "first").rglob("*"))
    assert first == sorted(
        p.relative_to(tmp_path / "second") for p in (tmp_path / "second").rglob("*")
    )
    for path in first:
        if (tmp_path / "first" / path).is_file():
            one = (tmp_path / "first" / path).read_bytes()
            assert one == (tmp_path / "second" / path).read_bytes(), path
