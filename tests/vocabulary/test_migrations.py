"""Words saved before reviews existed get their cards when the migration runs."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from vocabulary.models import Card

from tests.support.factories import make_user

BEFORE = [("vocabulary", "0001_initial")]
AFTER = [("vocabulary", "0002_cards_and_reviews")]


@pytest.mark.django_db(transaction=True)
def test_learning_words_saved_before_reviews_get_a_card_due_now():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps
        Word = old.get_model("vocabulary", "Word")
        user = make_user()
        learning = Word.objects.create(user_id=user.id, language="es", lemma="faro")
        known = Word.objects.create(user_id=user.id, language="es", lemma="mar", status="known")

        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
        [card] = Card.objects.all()
        assert card.word_id == learning.id != known.id
        assert card.due <= timezone.now()
        assert (card.state, card.step, card.last_review) == (Card.State.LEARNING, 0, None)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
