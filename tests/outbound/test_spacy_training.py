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
from outbound.spacy.training.treebank import (
    Sentence,
    Word,
    feature_accuracy,
    merged,
    read,
    value_recall,
    verb_features,
)

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
    assert 0 < summary["held_out_morph_accuracy"] <= 1
    assert set(summary["held_out_verb_feature_accuracy"]) == {"Mood", "Tense", "VerbForm", "all"}
    table = json.loads((out / "lemmas.json").read_text(encoding="utf-8"))
    assert table["lemmas"]
    assert table["contractions"]["del"] == ["del", "ADP"]
    tokens = SpacyAnnotator(shipped=tmp_path).annotate_sync(["Vino del pueblo."], "es")
    assert [token.text for token in tokens] == ["Vino", "del", "pueblo", "."]
    assert all(token.pos for token in tokens)  # the trained tagger's, not blank
    assert tokens[1].lemma == "del"  # the contraction, left whole, as such
    labels = SpacyAnnotator(shipped=tmp_path)._pipeline("es")[0].get_pipe("morphologizer").labels
    # POS and verb features only: no person, number or gender, nor features of nouns
    assert "Mood=Ind|POS=VERB|Tense=Pres|VerbForm=Fin" in labels
    assert not [label for label in labels if "Number=" in label or "Gender=" in label]
    assert not [label for label in labels if "POS=NOUN|" in label]


def test_only_the_verb_features_of_verbs_and_auxiliaries_are_learnt():
    full = "Mood=Sub|Number=Sing|Person=2|Tense=Pres|VerbForm=Fin"
    assert verb_features("VERB", full) == "Mood=Sub|Tense=Pres|VerbForm=Fin"
    assert verb_features("AUX", "Gender=Fem|Tense=Past|VerbForm=Part|Voice=Pass") == (
        "Tense=Past|VerbForm=Part|Voice=Pass"
    )
    assert verb_features("NOUN", "Gender=Masc|Number=Sing") == ""
    assert verb_features("ADJ", "Tense=Past|VerbForm=Part") == ""  # a participle read as such
    assert verb_features("VERB", "_") == ""


def test_a_contraction_merged_whole_keeps_the_features_of_its_verb(tmp_path):
    treebank = tmp_path / "t.conllu"
    treebank.write_text(
        "1-3\tdárselo\t_\t_\t_\t_\t_\t_\t_\t_\n"
        "1\tdar\tdar\tVERB\t_\tVerbForm=Inf\t0\troot\t_\t_\n"
        "2\tse\tél\tPRON\t_\tCase=Dat|Person=3\t1\tiobj\t_\t_\n"
        "3\tlo\tél\tPRON\t_\tCase=Acc|Gender=Masc\t1\tobj\t_\t_\n"
        "\n",
        encoding="utf-8",
    )
    [sentence] = read(treebank)
    assert [(w.form, w.feats) for w in sentence.words] == [
        ("dar", "VerbForm=Inf"),
        ("se", ""),
        ("lo", ""),
    ]
    assert merged(sentence) == [Word("dárselo", "dar", "VERB", "VerbForm=Inf")]
    assert merged(Sentence(sentence.words, [])) is None


def test_verb_features_are_scored_on_verbs_with_none_where_the_gold_has_none():
    pairs = [
        ("Mood=Sub|Tense=Pres|VerbForm=Fin", "Mood=Ind|Tense=Pres|VerbForm=Fin"),
        ("VerbForm=Inf", "VerbForm=Inf"),
        ("VerbForm=Inf", ""),  # read as a noun
        ("Tense=Past|VerbForm=Part|Voice=Pass", "Tense=Past|VerbForm=Part"),
    ]
    assert feature_accuracy(pairs) == {"Mood": 0.75, "Tense": 1.0, "VerbForm": 0.75, "all": 0.25}
    assert feature_accuracy([]) == {"Mood": None, "Tense": None, "VerbForm": None, "all": None}
    assert value_recall(pairs) == {
        "Mood=Sub": 0.0,
        "Tense=Past": 1.0,
        "Tense=Pres": 1.0,
        "VerbForm=Fin": 1.0,
        "VerbForm=Inf": 0.5,
        "VerbForm=Part": 1.0,
        "Voice=Pass": 0.0,
    }


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
