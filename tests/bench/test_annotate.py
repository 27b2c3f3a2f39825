"""``python -m bench annotate``: lemma accuracy against Universal Dependencies
treebanks, here on the small train/dev slices shipped in bench/data/ud/."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.annotate import main, read_conllu

from tests.support.processes import ROOT

SLICES = ROOT / "bench" / "data" / "ud"
TREEBANKS = {
    "es": SLICES / "es_gsd-ud-dev.last150.conllu",
    "fr": SLICES / "fr_gsd-ud-dev.last150.conllu",
    "de": SLICES / "de_gsd-ud-dev.last150.conllu",
    "it": SLICES / "it_markit-ud-dev.last150.conllu",
    "pt": SLICES / "pt_bosque-ud-dev.last150.conllu",
}
# What the shipped slices (held out from the shipped models' training) score
# today on content words, less about a point: a change that costs more fails
# here. Measured: es 0.954, fr 0.952, de 0.980 (HanTa), it 0.955, pt 0.947;
# simplemma alone (no tagger, no table, no HanTa) scores es 0.942, fr 0.926,
# de 0.956, it 0.935, pt 0.918, so losing the shipped models fails too.
CONTENT_AT_LEAST = {"es": 0.945, "fr": 0.945, "de": 0.97, "it": 0.945, "pt": 0.935}
# The same for POS (measured: es 0.938, fr 0.954, de 0.899, it 0.935, pt 0.923)
# and the Mood of verbs (es 0.937, fr 0.962, de 0.835, it 0.945, pt 0.906; a
# model without verb features scores about 0.4, the verbs that have no mood).
POS_AT_LEAST = {"es": 0.93, "fr": 0.945, "de": 0.89, "it": 0.925, "pt": 0.915}
MOOD_AT_LEAST = {"es": 0.925, "fr": 0.95, "de": 0.825, "it": 0.935, "pt": 0.895}


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse's own exit
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.slow  # the annotator over five treebank slices: seconds
def test_every_language_is_measured_on_all_and_content_words(capsys):
    args = [f"--treebank={language}={path}" for language, path in TREEBANKS.items()]
    code, out, err = _run(capsys, *args)
    assert code == 0, err
    figures = json.loads(out)
    assert set(figures["languages"]) == set(TREEBANKS)
    for language, result in figures["languages"].items():
        assert result["sentences"] == 150
        assert result["words"] > result["scored_words"] > result["content_words"] > 500
        assert CONTENT_AT_LEAST[language] <= result["accuracy"]["content"] <= 1, language
        assert 0.5 <= result["accuracy"]["all"] <= 1, language
        assert POS_AT_LEAST[language] <= result["pos_accuracy"] <= 1, language
        assert result["verbs"] > 300
        features = result["verb_feature_accuracy"]
        assert MOOD_AT_LEAST[language] <= features["Mood"] <= 1, language
        assert 0.5 <= features["all"] <= min(features["Tense"], features["VerbForm"]), language
        assert 0 <= result["verb_feature_recall"]["Mood=Sub"] <= 1, language
        assert result["words_per_second"] > 0
        assert f"{language}: " in err  # progress goes to stderr, not into the JSON


def test_multiword_tokens_and_empty_nodes_are_read_as_their_words(tmp_path):
    treebank = tmp_path / "t.conllu"
    treebank.write_text(
        "# text = Vino del pueblo.\n"
        "1\tVino\tvenir\tVERB\t_\tMood=Ind|Number=Sing|Person=3|Tense=Past|VerbForm=Fin\t0\troot\t_\t_\n"
        "2-3\tdel\t_\t_\t_\t_\t_\t_\t_\t_\n"
        "2\tde\tde\tADP\t_\t_\t4\tcase\t_\t_\n"
        "3\tel\tel\tDET\t_\t_\t4\tdet\t_\t_\n"
        "3.1\t_\t_\t_\t_\t_\t_\t_\t_\t_\n"
        "4\tpueblo\tpueblo\tNOUN\t_\tGender=Masc|Number=Sing\t1\tobl\t_\t_\n"
        "5\t.\t.\tPUNCT\t_\t_\t1\tpunct\t_\t_\n"
        "\n",
        encoding="utf-8",
    )
    [sentence] = read_conllu(treebank)
    assert [(word.form, word.lemma, word.upos) for word in sentence] == [
        ("Vino", "venir", "VERB"),
        ("de", "de", "ADP"),
        ("el", "el", "DET"),
        ("pueblo", "pueblo", "NOUN"),
        (".", ".", "PUNCT"),
    ]
    assert sentence[0].feats == "Mood=Ind|Tense=Past|VerbForm=Fin"  # the verb features only
    assert sentence[3].feats == ""  # nor any of a noun


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "--treebank"),
        (["--treebank", "es"], "expected LANG=FILE"),
        (["--treebank", "en=x.conllu"], "'en' is not one of de, es, fr, it, pt"),
        (["--treebank", "es=/no/such/file.conllu"], "no such file"),
        (
            ["--treebank", f"es={TREEBANKS['es']}", "--treebank", f"es={TREEBANKS['es']}"],
            "'es' is given twice",
        ),
        (["--treebank", f"es={TREEBANKS['es']}", "--models", "es"], "expected LANG=MODEL"),
        (["--treebank", f"es={TREEBANKS['es']}", "--errors", "-1"], "0 or more"),
    ],
)
def test_bad_arguments_get_a_clear_message_and_exit_2(capsys, args, message):
    code, out, err = _run(capsys, *args)
    assert code == 2
    assert message in err
    assert out == ""


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("1\tonly\tthree\n\n", "t.conllu:1: expected 10 tab-separated columns, got 3"),
        ("one\tdos\tdos\tNUM\t_\t_\t0\troot\t_\t_\n\n", "t.conllu:1: bad word id 'one'"),
        ("# just a comment\n", "t.conllu: no sentences"),
        (b"\xff\xfe not utf-8", "can't decode"),
    ],
)
def test_a_file_that_is_not_conllu_gets_a_clear_message_and_exit_2(
    capsys, tmp_path: Path, content: str | bytes, message: str
):
    treebank = tmp_path / "t.conllu"
    if isinstance(content, bytes):
        treebank.write_bytes(content)
    else:
        treebank.write_text(content, encoding="utf-8")
    code, out, err = _run(capsys, "--treebank", f"es={treebank}")
    assert code == 2
    assert message in err
    assert "Traceback" not in err
    assert out == ""


@pytest.mark.slow
def test_the_command_line_runs_it_and_the_benchmark_keeps_its_own_options():
    result = subprocess.run(
        [sys.executable, "-m", "bench", "annotate", "--treebank", f"pt={TREEBANKS['pt']}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["languages"]["pt"]["sentences"] == 150
    benchmark = subprocess.run(
        [sys.executable, "-m", "bench", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "--quick" in benchmark.stdout
    assert "python -m bench annotate" in benchmark.stdout
