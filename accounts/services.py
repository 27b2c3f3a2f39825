from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from langlearn import languages
from langlearn.errors import InvalidInput, Unauthenticated

from .models import User
from .tokens import REVOKED_MESSAGE, is_current, refresh_token_for
from .usernames import normalize_username, validate_username

TAKEN_MESSAGE = "A user with that username already exists."


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


def username_check(raw: str) -> str:
    """The stored form of ``raw`` (NFKC), or ``InvalidInput`` naming the rule it
    breaks or saying the name is taken (whatever its case)."""
    username = normalize_username(raw)
    try:
        validate_username(username)
    except DjangoValidationError as exc:
        raise InvalidInput({"username": list(exc.messages)}) from None
    if User.objects.named(username).exists():
        raise InvalidInput({"username": [TAKEN_MESSAGE]})
    return username


def user_register(*, username: str, password: str, native_language: str) -> User:
    """Create a learner account. The username must pass ``username_check``, the
    password Django's validators, and the native language must be one we
    translate into.

    The name is checked, then the password hashed with no database connection
    held (``User.set_password``), then the row inserted: a name taken by a
    concurrent registration meanwhile still fails on the unique constraint."""
    problem = languages.native_language_problem(native_language)
    if problem:
        raise InvalidInput({"native_language": [problem]})
    user = User(username=username_check(username), native_language=native_language)
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise InvalidInput({"password": list(exc.messages)}) from None
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:  # a concurrent registration of the same name
        raise InvalidInput({"username": [TAKEN_MESSAGE]}) from None
    return user


# --- tokens ------------------------------------------------------------------------


def _pair(user: User) -> TokenPair:
    refresh = refresh_token_for(user)
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh))


def _parse_refresh(raw: str) -> RefreshToken:
    """A valid refresh token (signature, expiry, not blacklisted), or 401."""
    try:
        return RefreshToken(raw)  # type: ignore[arg-type]  # it takes the encoded token
    except TokenError as exc:
        raise Unauthenticated(str(exc), code="token_not_valid") from None


def _outstanding_locked(token: RefreshToken) -> OutstandingToken:
    """The token's row in the outstanding list, locked until the transaction
    ends, so two requests with the same refresh token run one after the other."""
    jti = token[jwt_settings.JTI_CLAIM]
    OutstandingToken.objects.get_or_create(
        jti=jti,
        defaults={
            "user_id": token.get(jwt_settings.USER_ID_CLAIM),
            "token": str(token),
            "created_at": timezone.now(),
            "expires_at": datetime_from_epoch(token["exp"]),
        },
    )
    return OutstandingToken.objects.select_for_update().get(jti=jti)


@transaction.atomic
def tokens_refresh(*, refresh: str) -> TokenPair:
    """Exchange a refresh token for a new pair; the old one is revoked (each
    refresh token works once, even under concurrent requests). Refused (401)
    when it was revoked, or issued before the user's last password change."""
    token = _parse_refresh(refresh)
    outstanding = _outstanding_locked(token)
    if BlacklistedToken.objects.filter(token=outstanding).exists():
        raise Unauthenticated("Token is blacklisted", code="token_not_valid")
    user = User.objects.filter(pk=token.get(jwt_settings.USER_ID_CLAIM)).first()
    if user is None or not user.is_active:
        raise Unauthenticated("No active account found for the given token.", code="no_account")
    if not is_current(token, user):
        raise Unauthenticated(REVOKED_MESSAGE, code="token_revoked")
    BlacklistedToken.objects.create(token=outstanding)
    return _pair(user)


@transaction.atomic
def tokens_revoke(*, refresh: str) -> None:
    """Sign out: the refresh token stops working at once. (An access token
    issued with it stays valid until it expires, `JWT_ACCESS_MINUTES`.)"""
    token = _parse_refresh(refresh)
    BlacklistedToken.objects.get_or_create(token=_outstanding_locked(token))


def password_change(*, user: User, old_password: str, new_password: str) -> TokenPair:
    """Change the password after checking the current one. Every token issued
    before (access and refresh, on every device) stops working; the answer is
    a fresh pair for the caller. Both hashes are made before the transaction,
    with no database connection held."""
    if not user.check_password(old_password):
        raise InvalidInput({"old_password": ["The current password is not correct."]})
    try:
        validate_password(new_password, user=user)
    except DjangoValidationError as exc:
        raise InvalidInput({"new_password": list(exc.messages)}) from None
    user.set_password(new_password)
    with transaction.atomic():
        user.save(update_fields=["password"])  # also bumps token_version (User.save)
        # The version check already refuses them; blacklisting them too keeps
        # the blacklist the one record of revoked refresh tokens.
        live = OutstandingToken.objects.filter(
            user=user, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
        )
        BlacklistedToken.objects.bulk_create(
            [BlacklistedToken(token=token) for token in live], ignore_conflicts=True
        )
        return _pair(user)
