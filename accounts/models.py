import uuid
from typing import Any

from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.db.models import Value
from django.db.models.functions import Lower

from langlearn.connections import connection_released

from .usernames import normalize_username, validate_username


class UserManager(DjangoUserManager["User"]):
    def named(self, username: str) -> "models.QuerySet[User]":
        """The account called ``username``: NFKC-normalised and compared
        case-insensitively, as the unique constraint below compares names."""
        name = normalize_username(username)
        return self.alias(username_lower=Lower("username")).filter(
            username_lower=Lower(Value(name))
        )

    def get_by_natural_key(self, username: str | None) -> "User":
        # Sign-in lookup (Django's ModelBackend: the API's token view, the admin).
        return self.named(username or "").get()


class User(AbstractUser):
    """A learner (or a staff member). Ids are UUIDs so they can travel in jobs."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    username = models.CharField(
        "username",
        max_length=150,
        unique=True,
        help_text="150 characters or fewer: letters of one script, digits and @/./+/-/_.",
        validators=[validate_username],
        error_messages={"unique": "A user with that username already exists."},
    )
    native_language = models.CharField(
        max_length=8,
        default="en",
        help_text="Language the learner reads translations in (ISO 639-1).",
    )
    token_version = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="Goes up with every password change; API tokens carry it "
        "(accounts/tokens.py), so older tokens stop working.",
    )

    objects = UserManager()  # type: ignore[misc]

    class Meta(AbstractUser.Meta):
        constraints = [
            # `ana` and `ANA` are one account, whatever path created it.
            models.UniqueConstraint(
                Lower("username"),
                name="accounts_user_username_ci_unique",
                violation_error_message="A user with that username already exists.",
            )
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Django keeps the raw password in `_password` only after set_password()
        # (not after a hash upgrade in check_password()), and reports the change
        # to the password validators on save. The same signal revokes tokens:
        # every path that changes a password (our API, the admin, `changepassword`)
        # invalidates the tokens issued before it.
        if getattr(self, "_password", None) is not None:
            self.token_version += 1
            update_fields = kwargs.get("update_fields")
            if update_fields is not None and "password" in update_fields:
                kwargs["update_fields"] = {*update_fields, "token_version"}
        super().save(*args, **kwargs)

    # Hashing a password is tens of milliseconds of CPU that needs no database:
    # the web request's connection goes back to the pool meanwhile
    # (langlearn/connections.py), for the requests waiting on one.

    def set_password(self, raw_password: str | None) -> None:
        with connection_released():
            super().set_password(raw_password)

    def check_password(self, raw_password: str | None) -> bool:
        """Django's check, hashing with no connection held. A correct password
        whose hash is not the current hasher's (PBKDF2 from before, other
        parameters) gets a new hash, saved as Django saves it: not a password
        change, so the learner's tokens stay valid."""
        outdated = False

        def note_outdated(_raw: str | None) -> None:
            nonlocal outdated
            outdated = True

        with connection_released():
            valid = check_password(raw_password, self.password, note_outdated)
            if outdated:
                super().set_password(raw_password)
        if outdated:
            self._password = None  # what Django's own setter does
            self.save(update_fields=["password"])
        return valid
