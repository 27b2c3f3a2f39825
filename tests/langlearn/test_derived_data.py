"""Derived language data kept on disk between processes (langlearn/derived_data.py):
read back only for the same inputs, whole or not at all."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import simplemma

from langlearn import derived_data, levels

if TYPE_CHECKING:
    from pytest_django.fixtures import Settings


@pytest.fixture
def folder(settings: Settings, tmp_path: Path) -> Path:
    settings.DERIVED_DATA_DIR = str(tmp_path / "derived")
    return tmp_path / "derived"


class Deriver:
    def __init__(self, value: object) -> None:
        self.value, self.calls = value, 0

    def __call__(self) -> object:
        self.calls += 1
        return self.value


def test_a_value_is_derived_once_then_read_back(folder):
    derive = Deriver({"casa": 1.5e-4, "perro": 2e-5})
    assert derived_data.cached("families-es", ["code", 30000], derive) == derive.value
    assert derived_data.cached("families-es", ["code", 30000], derive) == derive.value
    assert derive.calls == 1
    [stored] = folder.glob("families-es-*.json")
    assert json.loads(stored.read_text()) == derive.value
    assert not list(folder.glob(".*"))  # no temporary file left behind


@pytest.mark.parametrize("changed", [["code v2", 30000], ["code", 20000], ["code", 30000, "x"]])
def test_any_changed_input_derives_it_again(folder, changed):
    old, new = Deriver({"a": 1.0}), Deriver({"a": 2.0})
    derived_data.cached("families-es", ["code", 30000], old)
    assert derived_data.cached("families-es", changed, new) == {"a": 2.0}
    assert new.calls == 1
    # Each kept under its own inputs: the old one is still read back as it was.
    assert derived_data.cached("families-es", ["code", 30000], Deriver(None)) == {"a": 1.0}


def test_inputs_are_told_apart_where_they_join():
    assert derived_data.digest(["ab", "c"]) != derived_data.digest(["a", "bc"])
    assert derived_data.digest(["a"]) == derived_data.digest(["a"])


def test_a_package_is_known_by_its_version_and_installed_files():
    files = derived_data.package_files("wordfreq")
    assert files.startswith("wordfreq 3.")
    assert "wordfreq/data/large_es.msgpack.gz,sha256=" in files


def test_a_damaged_file_is_derived_again_and_replaced(folder):
    derived_data.cached("families-es", ["code"], Deriver({"a": 1.0}))
    [stored] = folder.glob("families-es-*.json")
    stored.write_text('{"a": 1.')  # cut short
    again = Deriver({"a": 1.0})
    assert derived_data.cached("families-es", ["code"], again) == {"a": 1.0}
    assert again.calls == 1
    assert json.loads(stored.read_text()) == {"a": 1.0}


def test_an_unwritable_folder_only_costs_the_derivation(settings, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    settings.DERIVED_DATA_DIR = str(blocker / "derived")  # cannot be a folder
    derive = Deriver([1, 2])
    assert derived_data.cached("x", ["code"], derive) == [1, 2]
    assert derived_data.cached("x", ["code"], derive) == [1, 2]
    assert derive.calls == 2


def test_an_empty_setting_turns_the_cache_off(settings):
    settings.DERIVED_DATA_DIR = ""
    derive = Deriver([1])
    derived_data.cached("x", ["code"], derive)
    derived_data.cached("x", ["code"], derive)
    assert derive.calls == 2


def test_writers_at_once_leave_a_reader_a_whole_value_or_none(folder):
    """Writers racing on one value (as two processes deriving it at once)
    each rename a whole file into place: a reader never sees part of one."""
    values = [{f"word{i}": float(n) for i in range(20000)} for n in range(2)]
    path = folder / "families-es-key.json"
    folder.mkdir()
    stop = threading.Event()

    def write(value: dict) -> None:
        while not stop.is_set():
            derived_data._write(folder, "families-es", path, value)

    writers = [threading.Thread(target=write, args=(value,)) for value in values]
    for writer in writers:
        writer.start()
    try:
        reads = 0
        deadline = time.monotonic() + 0.3
        while time.monotonic() < deadline:
            try:
                text = path.read_text()
            except FileNotFoundError:
                continue
            assert json.loads(text) in values
            reads += 1
    finally:
        stop.set()
        for writer in writers:
            writer.join()
    assert reads > 0
    assert [p.name for p in folder.iterdir()] == [path.name]  # no temporary file left


def test_values_unused_for_a_month_go_when_another_is_written(folder):
    derived_data.cached("families-es", ["old"], Deriver({"a": 1.0}))
    derived_data.cached("families-es-x", ["other name"], Deriver({"b": 1.0}))
    derived_data.cached("families-es", ["recent"], Deriver({"a": 2.0}))
    month_ago = time.time() - derived_data.STALE_AFTER - 60
    for stored in folder.iterdir():
        os.utime(stored, (month_ago, month_ago))
    used = Deriver(None)
    derived_data.cached("families-es", ["recent"], used)  # read: in use again
    assert used.calls == 0
    derived_data.cached("families-es", ["new"], Deriver({"a": 3.0}))
    kept = {p.name.rsplit("-", 1)[0] + ":" + p.read_text() for p in folder.iterdir()}
    assert kept == {
        'families-es:{"a":2.0}',
        'families-es:{"a":3.0}',
        'families-es-x:{"b":1.0}',  # another name's: not this writer's to remove
    }


def test_the_lemma_frequencies_are_kept_under_their_code_size_and_packages(folder, monkeypatch):
    """What ``langlearn.levels`` keeps is what it derives, and a different
    number of forms summed (as any change of its inputs) derives it anew."""
    family_frequencies = levels._family_frequencies.__wrapped__  # past the per-process cache
    monkeypatch.setattr(levels, "FAMILY_FORMS", 300)
    fresh = levels._sum_families("it")
    assert family_frequencies("it") == fresh
    [stored] = folder.glob("lemma-frequencies-it-*.json")
    monkeypatch.setattr(simplemma, "lemmatize", lambda *a, **k: pytest.fail("derived again"))
    assert family_frequencies("it") == fresh  # read back
    monkeypatch.undo()
    monkeypatch.setattr(levels, "FAMILY_FORMS", 200)
    smaller = family_frequencies("it")
    assert smaller == levels._sum_families("it") != fresh
    assert len(list(folder.glob("lemma-frequencies-it-*.json"))) == 2
    assert stored.exists()
