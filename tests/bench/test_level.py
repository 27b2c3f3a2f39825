"""``python -m bench level``: the contract of scoring text from outside."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import level
from outbound.stubs import corpus

ES = corpus.LANGUAGES.index("es")
PLAIN = " ".join(row[ES] for row in corpus.scene_for(1, is_final=False).sentences)
NATIVE = (
    "El Gobierno aprobó ayer un decreto que modifica sustancialmente la normativa "
    "sobre arrendamientos urbanos, cuya entrada en vigor estaba prevista para enero. "
    "Según fuentes ministeriales, la reforma pretende paliar el encarecimiento de los "
    "alquileres, aunque las asociaciones de propietarios consideran que vulnera la "
    "seguridad jurídica de los contratos vigentes."
)


def run(tmp_path: Path, lines: list[str], *extra: str, capsys) -> tuple[int, list[dict], str]:
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    output = tmp_path / "out.jsonl"
    status = level.main(["--input", str(source), "--output", str(output), *extra])
    results = [json.loads(line) for line in output.read_text().splitlines()] if status == 0 else []
    return status, results, capsys.readouterr().err


def test_each_good_line_gets_an_estimate_a_verdict_and_reasons(tmp_path, capsys):
    lines = [
        json.dumps({"id": "plain", "language": "es", "level": "A2", "text": PLAIN}),
        json.dumps({"id": 7, "language": "es", "level": "A2", "text": NATIVE, "kind": "x"}),
    ]
    status, results, _ = run(tmp_path, lines, capsys=capsys)
    assert status == 0
    assert [r["id"] for r in results] == ["plain", 7]
    plain, native = results
    for result in results:
        assert 1.0 <= result["estimate"] <= 6.0
        assert isinstance(result["reask"], bool)
        assert set(result["reasons"]) >= {"words", "constructions", "sentence_length"}
    assert plain["reask"] is False
    assert native["reask"] is True
    assert native["estimate"] > plain["estimate"]
    assert "paliar" in native["reasons"]["words"]


def test_bad_lines_are_reported_with_their_number_and_skipped(tmp_path, capsys):
    good = {"id": "ok", "language": "es", "level": "A1", "text": PLAIN}
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps({"id": "x", "language": "es", "text": PLAIN}),
        json.dumps({"id": "x", "language": "xx", "level": "A1", "text": PLAIN}),
        json.dumps({"id": "x", "language": "es", "level": "D4", "text": PLAIN}),
        json.dumps({"id": "x", "language": "es", "level": "A1", "text": "123 !"}),
        json.dumps(["a", "list"]),
        json.dumps({**good, "id": "ok too"}),
    ]
    status, results, err = run(tmp_path, lines, capsys=capsys)
    assert status == 0
    assert [r["id"] for r in results] == ["ok", "ok too"]
    assert "line 2: not JSON" in err
    assert "line 3: no 'level'" in err
    assert "line 4: language 'xx'" in err
    assert "line 5: level 'D4' is not a CEFR level" in err
    assert "line 6: 'text' has no words" in err
    assert "line 7: not a JSON object" in err
    assert "2 scored, 6 skipped" in err


def test_unreadable_input_is_exit_status_2(tmp_path, capsys):
    assert level.main(["--input", str(tmp_path / "missing.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err
    latin = tmp_path / "latin1.jsonl"
    latin.write_bytes('{"text": "caf\xe9"}\n'.encode("latin-1"))
    assert level.main(["--input", str(latin)]) == 2


def test_figures_report_how_the_estimate_orders_labelled_lines(tmp_path, capsys):
    lines = [
        json.dumps({"id": f"{n}", "language": "es", "level": lv, "text": text, "kind": kind})
        for n, (lv, text, kind) in enumerate(
            [("A1", PLAIN, "reader"), ("C1", NATIVE, "reader"), ("A2", NATIVE, "native")]
        )
    ]
    status, _, err = run(tmp_path, lines, "--figures", capsys=capsys)
    assert status == 0
    report = json.loads(err[err.index("{") :])
    spanish = report["es"]
    assert spanish["per_level"] == {"A1": 1, "C1": 1}
    assert spanish["auc_a1_a2_vs_b1_up"] == 1.0
    assert spanish["native_too_hard_at_a2_share"] == 1.0


def test_sentences_are_split_as_a_reader_would():
    assert level.split_sentences("¿Vienes? Sí. «Vamos», dice Ana. El Sr. López no.") == [
        "¿Vienes?",
        "Sí.",
        "«Vamos», dice Ana.",
        "El Sr. López no.",
    ]


@pytest.mark.slow
def test_the_command_runs_as_documented(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": 1, "language": "es", "level": "A2", "text": PLAIN}))
    result = subprocess.run(
        [sys.executable, "-m", "bench", "level", "--input", str(source)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["id"] == 1
