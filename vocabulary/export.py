"""A learner's words as a file: an Anki deck (``.apkg``, through ``genanki``) or CSV.

The deck and its note type keep the same ids from one export to the next (the
deck's from the learner and language, each note's guid from its word's id), so
importing a newer export into Anki updates the notes already there instead of
adding them twice. Anki fields are HTML: every value is escaped.

A round trip keeps the learner's edits: Anki updates a note it has only when
the imported note's modification time is newer than its own, so each note's is
its word's last change (``Word.updated_at``), never the export's time. A word
that has not changed since the last import leaves the note as the learner
edited it; a word changed since updates it. Each note and card row depends on
its word alone (ids from the word's creation time), so the same word exported
twice gives the same rows. Scheduling and review history are never in the
file: Anki keeps its own.

CSV is RFC 4180 (``csv`` module, quoted where needed, CRLF line ends), UTF-8.
A cell that a spreadsheet would run as a formula (starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return) is prefixed with ``'`` (OWASP's
advice against CSV injection).
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import itertools
import sqlite3
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path

import genanki

from langlearn import languages

from .models import Word

# Chosen once at random; never change it (Anki knows the note type by it).
MODEL_ID = 1_738_204_911
MODEL = genanki.Model(
    MODEL_ID,
    "langlearn word",
    fields=[{"name": "Lemma"}, {"name": "Sentence"}, {"name": "Translation"}],
    templates=[
        {
            "name": "Word in context",
            "qfmt": '<div class="lemma">{{Lemma}}</div><div class="sentence">{{Sentence}}</div>',
            "afmt": '{{FrontSide}}<hr id="answer"><div class="translation">{{Translation}}</div>',
        }
    ],
    css=".card { font-family: sans-serif; text-align: center; }"
    " .lemma { font-size: 2em; } .sentence { font-style: italic; margin-top: 1em; }",
)
# When the note type above last changed (seconds since the epoch): its ``mod``
# in every export, so that re-importing does not overwrite a learner's changes
# to its templates or styling unless ours are newer. Update it with the type.
MODEL_CHANGED = 1_738_204_911
CSV_COLUMNS = ("lemma", "status", "sentence", "translation", "saved_at")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def filename(language: str, extension: str) -> str:
    return f"langlearn-words-{language}.{extension}"


def deck_id(*, user_id: object, language: str) -> int:
    """Stable per learner and language, in the range Anki's own ids use."""
    digest = hashlib.sha256(f"langlearn deck {user_id} {language}".encode()).digest()
    return (1 << 30) + int.from_bytes(digest[:4]) % (1 << 30)


def apkg(words: Iterable[Word], *, user_id: object, language: str) -> bytes:
    deck = genanki.Deck(
        deck_id(user_id=user_id, language=language),
        f"langlearn::{languages.name(language)}",
    )
    rows: dict[str, tuple[int, int]] = {}  # guid: (note id, modification time)
    used: set[int] = set()
    for word in words:
        guid = genanki.guid_for("langlearn", str(word.id))
        deck.add_note(
            genanki.Note(
                model=MODEL,
                fields=[
                    html.escape(word.lemma),
                    html.escape(word.sentence),
                    html.escape(word.translation),
                ],
                guid=guid,
                tags=[f"langlearn::{word.status}"],
            )
        )
        note_id = _note_id(word, taken=used)
        used.add(note_id)
        rows[guid] = (note_id, int(word.updated_at.timestamp()))
    # genanki's write_to_file leaves its temporary database behind; this does
    # the same in a folder that is removed afterwards.
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "collection.anki2"
        connection = sqlite3.connect(database)
        try:
            cursor = connection.cursor()
            # Temporary ids (1, 2, ...), far below the real ones set next.
            genanki.Package(deck).write_to_db(cursor, MODEL_CHANGED, itertools.count(1))
            for guid, (note_id, modified) in rows.items():
                (temporary,) = cursor.execute(
                    "SELECT id FROM notes WHERE guid = ?", (guid,)
                ).fetchone()
                cursor.execute(
                    "UPDATE notes SET id = ?, mod = ? WHERE id = ?", (note_id, modified, temporary)
                )
                # One template: one card a note, its id the note's.
                cursor.execute(
                    "UPDATE cards SET id = ?, nid = ?, mod = ? WHERE nid = ?",
                    (note_id, note_id, modified, temporary),
                )
            connection.commit()
        finally:
            connection.close()
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.write(database, "collection.anki2")
            archive.writestr("media", "{}")
    return out.getvalue()


def _note_id(word: Word, *, taken: set[int]) -> int:
    """The word's creation time in milliseconds (as Anki's own note ids), one
    more for each word of this export created in the same millisecond."""
    note_id = int(word.created_at.timestamp() * 1000)
    while note_id in taken:
        note_id += 1
    return note_id


def _cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def csv_text(words: Iterable[Word]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for word in words:
        writer.writerow(
            [
                _cell(word.lemma),
                word.status,
                _cell(word.sentence),
                _cell(word.translation),
                word.created_at.isoformat(),
            ]
        )
    return out.getvalue()
