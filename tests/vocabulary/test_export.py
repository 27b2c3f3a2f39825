"""``GET /api/words/export``: the learner's words as an Anki deck or CSV."""

from __future__ import annotations

import csv
import datetime
import io
import json
import sqlite3
import zipfile
from pathlib import Path

import pytest

from vocabulary.models import Word

from tests.support.api import client_for
from tests.support.factories import make_user

pytestmark = pytest.mark.django_db

URL = "/api/words/export"


@pytest.fixture
def words(learner) -> list[Word]:
    """Three Spanish words of the learner's (one known), plus others' and French ones."""
    mine = [
        Word.objects.create(
            user=learner,
            language="es",
            lemma="pescador",
            sentence="Los pescadores se ríen.",
            translation="The fishermen laugh.",
        ),
        Word.objects.create(
            user=learner,
            language="es",
            lemma="faro",
            sentence='Dice: "el faro, por fin"\ny se va.',
            translation='=HYPERLINK("http://evil.example") <b>bold</b> & co',
        ),
        Word.objects.create(user=learner, language="es", lemma="mar", status="known"),
    ]
    Word.objects.create(user=learner, language="fr", lemma="phare")
    Word.objects.create(user=make_user("ben"), language="es", lemma="ola")
    return mine


def notes_of(apkg: bytes, tmp_path: Path) -> list[tuple[str, list[str], str]]:
    """(guid, fields, tags) of each note in the deck's SQLite collection."""
    with zipfile.ZipFile(io.BytesIO(apkg)) as archive:
        assert archive.testzip() is None
        assert "collection.anki2" in archive.namelist()
        database = tmp_path / "collection.anki2"
        database.write_bytes(archive.read("collection.anki2"))
    connection = sqlite3.connect(database)
    try:
        rows = connection.execute("SELECT guid, flds, tags FROM notes ORDER BY id").fetchall()
        decks = json.loads(connection.execute("SELECT decks FROM col").fetchone()[0])
    finally:
        connection.close()
    assert any(deck["name"] == "langlearn::Spanish" for deck in decks.values())
    return [(guid, fields.split("\x1f"), tags.strip()) for guid, fields, tags in rows]


def test_the_anki_deck_is_a_zip_with_a_note_per_word(api, words, tmp_path):
    response = api.get(URL, {"language": "es", "format": "apkg", "status": "learning,known"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/apkg"
    assert response["Content-Disposition"] == 'attachment; filename="langlearn-words-es.apkg"'
    notes = notes_of(response.content, tmp_path)
    assert [(fields, tags) for _, fields, tags in notes] == [
        (["pescador", "Los pescadores se ríen.", "The fishermen laugh."], "langlearn::learning"),
        (
            [
                "faro",
                "Dice: &quot;el faro, por fin&quot;\ny se va.",
                "=HYPERLINK(&quot;http://evil.example&quot;) &lt;b&gt;bold&lt;/b&gt; &amp; co",
            ],
            "langlearn::learning",
        ),
        (["mar", "", ""], "langlearn::known"),
    ]


@pytest.mark.parametrize(
    ("format_", "own_type"), [("apkg", "application/apkg"), ("csv", "text/csv; charset=utf-8")]
)
def test_a_client_that_accepts_bytes_gets_the_same_file_as_octet_stream(
    api, words, format_, own_type
):
    query = {"language": "es", "format": format_}
    plain = api.get(URL, query)
    as_bytes = api.get(URL, query, HTTP_ACCEPT="application/octet-stream")
    assert plain["Content-Type"] == own_type
    assert as_bytes.status_code == 200
    assert as_bytes["Content-Type"] == "application/octet-stream"
    assert as_bytes["Content-Disposition"] == plain["Content-Disposition"]
    if format_ == "csv":
        assert as_bytes.content == plain.content
    else:
        assert zipfile.ZipFile(io.BytesIO(as_bytes.content)).namelist() == [
            "collection.anki2",
            "media",
        ]
    # Naming the format's own type too keeps it.
    both = api.get(URL, query, HTTP_ACCEPT=f"application/octet-stream, {own_type.split(';')[0]}")
    assert both["Content-Type"] == own_type


def test_exporting_again_keeps_the_deck_and_note_ids(api, words, tmp_path):
    first = api.get(URL, {"language": "es", "format": "apkg"}).content
    Word.objects.create(user=words[0].user, language="es", lemma="llave")
    second = api.get(URL, {"language": "es", "format": "apkg"}).content
    before = {guid for guid, _, _ in notes_of(first, tmp_path)}
    after = {guid for guid, _, _ in notes_of(second, tmp_path)}
    assert len(after) == 3
    assert before < after  # Anki updates the two notes it has and adds one


def rows_of(apkg: bytes, tmp_path: Path, table: str) -> list[tuple[object, ...]]:
    with zipfile.ZipFile(io.BytesIO(apkg)) as archive:
        (tmp_path / "rows.anki2").write_bytes(archive.read("collection.anki2"))
    connection = sqlite3.connect(tmp_path / "rows.anki2")
    try:
        return connection.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
    finally:
        connection.close()


def test_a_note_is_stamped_with_its_words_last_change_not_the_export(api, words, tmp_path):
    changed = datetime.datetime(2026, 3, 1, 12, 0, 30, tzinfo=datetime.UTC)
    created = datetime.datetime(2026, 2, 1, 9, 0, 0, 123000, tzinfo=datetime.UTC)
    Word.objects.filter(lemma="pescador").update(created_at=created, updated_at=changed)

    apkg = api.get(URL, {"language": "es", "format": "apkg"}).content

    notes = {row[1]: row for row in rows_of(apkg, tmp_path, "notes")}
    pescador = next(row for row in notes.values() if row[6].startswith("pescador"))
    assert pescador[0] == int(created.timestamp() * 1000)  # id
    assert pescador[3] == int(changed.timestamp())  # mod
    (card,) = [row for row in rows_of(apkg, tmp_path, "cards") if row[1] == pescador[0]]
    assert card[0] == pescador[0]
    assert card[4] == int(changed.timestamp())


def test_an_unchanged_word_exports_the_same_rows(api, words, tmp_path):
    first = api.get(URL, {"language": "es", "format": "apkg"}).content
    Word.objects.create(user=words[0].user, language="es", lemma="llave")
    second = api.get(URL, {"language": "es", "format": "apkg"}).content

    for table in ("notes", "cards"):
        before = rows_of(first, tmp_path, table)
        after = rows_of(second, tmp_path, table)
        assert len(after) == len(before) + 1
        assert set(before) < set(after)
    assert rows_of(first, tmp_path, "col") == rows_of(second, tmp_path, "col")


def test_changing_a_word_changes_its_notes_mod_only(api, words, tmp_path):
    Word.objects.update(updated_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC))
    first = {
        row[1]: row
        for row in rows_of(
            api.get(URL, {"language": "es", "format": "apkg"}).content, tmp_path, "notes"
        )
    }
    faro = Word.objects.get(id=words[1].id)
    faro.translation = "The lighthouse"
    faro.save()
    second = {
        row[1]: row
        for row in rows_of(
            api.get(URL, {"language": "es", "format": "apkg"}).content, tmp_path, "notes"
        )
    }

    changed = [guid for guid in first if first[guid] != second[guid]]
    assert len(changed) == 1
    assert second[changed[0]][3] == int(faro.updated_at.timestamp())
    assert second[changed[0]][3] > first[changed[0]][3]


def test_the_csv_is_escaped_and_holds_only_your_words(api, words):
    response = api.get(URL, {"language": "es", "format": "csv", "status": "learning,known"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="langlearn-words-es.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8"), newline="")))
    assert rows[0] == ["lemma", "status", "sentence", "translation", "saved_at"]
    assert [row[:4] for row in rows[1:]] == [
        ["pescador", "learning", "Los pescadores se ríen.", "The fishermen laugh."],
        [
            "faro",
            "learning",
            'Dice: "el faro, por fin"\ny se va.',
            # Not run as a formula by a spreadsheet.
            '\'=HYPERLINK("http://evil.example") <b>bold</b> & co',
        ],
        ["mar", "known", "", ""],
    ]


def test_the_export_filters_by_status(api, words):
    response = api.get(URL, {"language": "es", "format": "csv", "status": "known"})
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert [row[0] for row in rows[1:]] == ["mar"]


@pytest.mark.parametrize("format_", ["csv", "apkg"])
def test_known_and_ignored_words_are_left_out_unless_asked_for(api, words, format_, tmp_path):
    Word.objects.create(user=words[0].user, language="es", lemma="Juan", status="ignored")

    def lemmas(query: dict[str, str]) -> list[str]:
        body = api.get(URL, {"language": "es", "format": format_, **query}).content
        if format_ == "csv":
            return [row[0] for row in csv.reader(io.StringIO(body.decode()))][1:]
        return [fields[0] for _, fields, _ in notes_of(body, tmp_path)]

    assert lemmas({}) == ["pescador", "faro"]
    assert lemmas({"status": "learning,known,ignored"}) == ["pescador", "faro", "mar", "Juan"]
    assert lemmas({"status": "ignored, known"}) == ["mar", "Juan"]


def test_an_unknown_status_is_named_in_the_400(api, words):
    response = api.get(URL, {"language": "es", "format": "csv", "status": "learning,nuevo"})
    assert response.status_code == 400
    assert response.json() == {
        "status": [
            "Unknown status 'nuevo': give some of learning, known, ignored, separated by commas."
        ]
    }


def test_an_export_without_words_is_an_empty_deck(api, tmp_path):
    response = api.get(URL, {"language": "it", "format": "apkg"})
    assert response.status_code == 200
    assert notes_of_any(response.content, tmp_path) == 0


def notes_of_any(apkg: bytes, tmp_path: Path) -> int:
    with zipfile.ZipFile(io.BytesIO(apkg)) as archive:
        (tmp_path / "c.anki2").write_bytes(archive.read("collection.anki2"))
    connection = sqlite3.connect(tmp_path / "c.anki2")
    try:
        return connection.execute("SELECT count(*) FROM notes").fetchone()[0]
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"language": "xx", "format": "csv"}, "language"),
        ({"language": "en", "format": "csv"}, "language"),  # not taught
        ({"format": "csv"}, "language"),
        ({"language": "es"}, "format"),
        ({"language": "es", "format": "xlsx"}, "format"),
        ({"language": "es", "format": "json"}, "format"),
        ({"language": "es", "format": "apkg", "status": "new"}, "status"),
        ({"language": "es", "format": "apkg", "status": ""}, "status"),
        ({"language": "es", "format": "csv", "status": "learning,"}, "status"),
    ],
)
def test_bad_input_is_a_400_in_json(api, query, field):
    response = api.get(URL, query, HTTP_ACCEPT="text/csv")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert field in response.json()


def test_the_export_needs_a_token(anonymous):
    response = anonymous.get(URL, {"language": "es", "format": "csv"})
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_another_learner_gets_only_their_words(words):
    ben = Word.objects.get(lemma="ola").user
    response = client_for(ben).get(URL, {"language": "es", "format": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert [row[0] for row in rows[1:]] == ["ola"]
