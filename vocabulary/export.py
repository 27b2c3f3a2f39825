"""A learner's words as a file: an Anki deck (``.apkg``, through ``genanki``) or CSV.

The deck and its note type keep the same ids from one export to the next (the
deck's from the learner and language, each note's guid from its word's id), so
importing a newer export into Anki updates the notes already there instead of
adding them twice. Anki fields are HTML: every value is escaped.

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
from django.utils import timezone

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
    for word in words:
        deck.add_note(
            genanki.Note(
                model=MODEL,
                fields=[
                    html.escape(word.lemma),
                    html.escape(word.sentence),
                    html.escape(word.translation),
                ],
                guid=genanki.guid_for("langlearn", str(word.id)),
                tags=[f"langlearn::{word.status}"],
            )
        )
    # genanki's write_to_file leaves its temporary database behind; this does
    # the same in a folder that is removed afterwards.
    timestamp = timezone.now().timestamp()
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "collection.anki2"
        connection = sqlite3.connect(database)
        try:
            genanki.Package(deck).write_to_db(
                connection.cursor(), timestamp, itertools.count(int(timestamp * 1000))
            )
            connection.commit()
        finally:
            connection.close()
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.write(database, "collection.anki2")
            archive.writestr("media", "{}")
    return out.getvalue()


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
