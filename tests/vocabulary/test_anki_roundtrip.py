"""Two successive exports imported into a real Anki collection (the ``anki``
package, Anki's own importer): nothing is added twice, the learner's edits and
reviews in Anki are kept, and a word changed here updates its note."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest
from anki.import_export_pb2 import IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_IF_NEWER
from django.utils import timezone

from vocabulary import services
from vocabulary.models import Word

pytestmark = pytest.mark.django_db

URL = "/api/words/export"


@pytest.fixture
def collection(tmp_path: Path):
    col = Collection(str(tmp_path / "collection.anki2"))
    yield col
    col.close()


def import_export(api, col: Collection, path: Path) -> None:
    """Download the deck and import it as Anki's import dialog does by default."""
    response = api.get(URL, {"language": "es", "format": "apkg"})
    assert response.status_code == 200
    path.write_bytes(response.content)
    col.import_anki_package(
        ImportAnkiPackageRequest(
            package_path=str(path),
            options=ImportAnkiPackageOptions(
                update_notes=IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_IF_NEWER,
                update_notetypes=IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_IF_NEWER,
                with_scheduling=False,
                with_deck_configs=False,
                merge_notetypes=False,
            ),
        )
    )


def note_of(col: Collection, lemma: str):
    (note_id,) = col.find_notes(f'"Lemma:{lemma}"')
    return col.get_note(note_id)


def test_a_second_import_keeps_edits_and_reviews_and_updates_changed_words(
    api, learner, collection, tmp_path
):
    for lemma, sentence in (("pescador", "Los pescadores se ríen."), ("faro", "")):
        services.word_save(
            user=learner,
            language="es",
            lemma=lemma,
            sentence=sentence,
            translation="The fishermen laugh." if sentence else "",
        )
    services.word_save(user=learner, language="es", lemma="mar")
    services.word_set_status(user=learner, word_id=Word.objects.get(lemma="mar").id, status="known")
    # Saved a while ago: the learner's edits in Anki below come later.
    Word.objects.update(updated_at=timezone.now() - datetime.timedelta(days=2))

    import_export(api, collection, tmp_path / "first.apkg")
    assert collection.note_count() == 2  # the known word is left out
    assert collection.card_count() == 2

    # In Anki: the learner rewrites a translation and reviews that card.
    pescador = note_of(collection, "pescador")
    pescador["Translation"] = "Fishermen laugh (my words)"
    collection.update_note(pescador)
    card = collection.get_card(pescador.card_ids()[0])
    card.start_timer()
    collection.sched.answerCard(card, 3)
    revlog = collection.db.list("SELECT id FROM revlog WHERE cid = ?", card.id)
    assert len(revlog) == 1
    scheduled = collection.get_card(card.id)

    # Here: "faro" is met in a passage, which fills in its sentence.
    services.word_save(
        user=learner,
        language="es",
        lemma="faro",
        sentence="Van al faro.",
        translation="They go to the lighthouse.",
    )

    import_export(api, collection, tmp_path / "second.apkg")

    assert collection.note_count() == 2
    assert collection.card_count() == 2
    assert note_of(collection, "pescador")["Translation"] == "Fishermen laugh (my words)"
    faro = note_of(collection, "faro")
    assert faro["Sentence"] == "Van al faro."
    assert faro["Translation"] == "They go to the lighthouse."
    assert collection.db.list("SELECT id FROM revlog WHERE cid = ?", card.id) == revlog
    after = collection.get_card(card.id)
    assert (after.type, after.queue, after.due, after.reps) == (
        scheduled.type,
        scheduled.queue,
        scheduled.due,
        scheduled.reps,
    )
    assert after.reps == 1
