from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction

from langlearn import languages
from langlearn.errors import InvalidInput

from .models import User


@transaction.atomic
def user_register(*, username: str, password: str, native_language: str) -> User:
    """Create a learner account. The password must pass Django's validators and
    the native language must be one we translate into."""
    problem = languages.native_language_problem(native_language)
    if problem:
        raise InvalidInput({"native_language": [problem]})
    user = User(username=username, native_language=native_language)
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise InvalidInput({"password": list(exc.messages)}) from None
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise InvalidInput({"username": ["A user with that username already exists."]}) from None
    return user
