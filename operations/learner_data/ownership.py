"""Which models hold a learner's rows: those with a foreign key to the user,
directly or through another such model (an adventure, an entry, a word)."""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models


def owned_models() -> dict[type[models.Model], str]:
    """Every model whose rows belong to a learner, with the lookup from it to
    the user (``""`` for the user model itself): ``{Token:
    "entry__adventure__user", Word: "user", …}``. Many-to-many tables
    (the user's groups) included."""
    user = get_user_model()
    owned: dict[type[models.Model], str] = {user: ""}
    found = True
    while found:
        found = False
        for model in apps.get_models(include_auto_created=True):
            if model in owned:
                continue
            for field in model._meta.get_fields():
                if not (field.concrete and field.is_relation):
                    continue
                if not (field.many_to_one or field.one_to_one):
                    continue
                target = field.related_model
                if target in owned:
                    path = owned[target]  # type: ignore[index]
                    owned[model] = f"{field.name}__{path}" if path else field.name
                    found = True
                    break
    return owned


def rows_of(model: type[models.Model], path: str, user_id: object) -> models.QuerySet:
    """``model``'s rows that belong to the user ``user_id`` (``owned_models``)."""
    return model._default_manager.filter(**{path or "pk": user_id})
