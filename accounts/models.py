import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A learner (or a staff member). Ids are UUIDs so they can travel in jobs."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    native_language = models.CharField(
        max_length=8,
        default="en",
        help_text="Language the learner reads translations in (ISO 639-1).",
    )
