"""API tokens (simplejwt) that a password change revokes.

Every token carries the user's ``token_version`` (claim ``ver``), which goes up
with each password change (``User.save``). ``JWTAuthentication`` refuses an
access token, and ``accounts.services.tokens_refresh`` a refresh token, whose
version is not the user's current one. Tokens issued before versions existed
carry no claim and count as version 0, the version of an account whose
password never changed since.

Refresh tokens also rotate: each works once (simplejwt's token_blacklist app
records issued and revoked ones).
"""

from __future__ import annotations

from typing import Any

from rest_framework_simplejwt import authentication, serializers
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.tokens import RefreshToken, Token

VERSION_CLAIM = "ver"
REVOKED_MESSAGE = "This token was revoked by a password change; sign in again."


def refresh_token_for(user: Any) -> RefreshToken:
    """A new refresh token (recorded as outstanding) for ``user``; its
    ``.access_token`` carries the same claims."""
    token = RefreshToken.for_user(user)
    token[VERSION_CLAIM] = user.token_version
    return token


def is_current(token: Token, user: Any) -> bool:
    return token.get(VERSION_CLAIM, 0) == user.token_version


class JWTAuthentication(authentication.JWTAuthentication):
    def get_user(self, validated_token: Token) -> Any:
        user = super().get_user(validated_token)
        if not is_current(validated_token, user):
            raise AuthenticationFailed(REVOKED_MESSAGE, code="token_revoked")
        return user


class TokenObtainPairSerializer(serializers.TokenObtainPairSerializer):
    """simplejwt's sign-in, issuing versioned tokens."""

    @classmethod
    def get_token(cls, user: Any) -> Token:
        return refresh_token_for(user)
