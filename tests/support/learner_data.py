"""A learner with a row in every model that can hold a learner's rows, for the
tests of leaving and of the export (``operations.learner_data``).

``make_full_learner`` must give every model of ``owned_models()`` at least one
row: those tests fail for a model it leaves empty, so a model added later gets
its rows here, and then its deletion and its place in the export are checked.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path

from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from adventures.models import Adventure, Audio, DroppedBranch, EntryEvent
from vocabulary import services as vocabulary_services
from vocabulary.placement.items import learner_items

from .factories import make_adventure, make_complete_entry, make_decision, make_user

THEME = "a lighthouse keeper's secret"


def make_full_learner(media: Path, username: str = "ana") -> User:
    user = make_user(username)
    RefreshToken.for_user(user)  # an issued refresh token (its outstanding row)
    RefreshToken.for_user(user).blacklist()  # ... and one revoked (signed out)
    adventure = make_adventure(user, theme=THEME, title="El faro")
    first = make_complete_entry(adventure, llm_input_tokens=900)
    second = make_complete_entry(adventure, position=2)
    make_decision(first, next_entry=second)
    EntryEvent.objects.create(
        adventure=adventure,
        entry_id=second.id,
        position=2,
        status="complete",
        adventure_status=Adventure.Status.ACTIVE,
    )
    DroppedBranch.objects.create(
        adventure=adventure,
        entry_id=uuid.uuid4(),
        status="complete",
        branch_created_at=timezone.now(),
        audio_seconds=Decimal("3.2"),
    )
    for audio in Audio.objects.filter(entry__adventure=adventure):
        path = media / audio.file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"RIFF-read-aloud")
    token = first.tokens.get(lemma="pescador")
    saved = vocabulary_services.word_save_from_token(user=user, token_id=token.id)
    vocabulary_services.review_submit(
        user=user, word_id=saved.word.id, rating="good", review_id=uuid.uuid4()
    )
    items = learner_items(user.pk, "es")
    vocabulary_services.placement_submit(
        user=user, language="es", answers=[(item.id, item.band == 1) for item in items]
    )
    # Staff-side rows a learner who is also staff can have.
    group, _ = Group.objects.get_or_create(name="support")
    user.groups.add(group)
    user.user_permissions.add(Permission.objects.get(codename="view_adventure"))
    LogEntry.objects.create(
        user=user,
        content_type=ContentType.objects.get_for_model(Adventure),
        object_id=str(adventure.id),
        object_repr="El faro",
        action_flag=ADDITION,
    )
    return user
