"""OpenAPI descriptions (drf-spectacular) for our subclasses of simplejwt's
classes, which spectacular's own simplejwt extensions match only by exact class."""

from __future__ import annotations

from drf_spectacular.contrib.rest_framework_simplejwt import (
    SimpleJWTScheme,
    TokenObtainPairSerializerExtension,
)


class JWTAuthenticationScheme(SimpleJWTScheme):
    target_class = "accounts.tokens.JWTAuthentication"


class TokenObtainPairSchema(TokenObtainPairSerializerExtension):
    target_class = "accounts.tokens.TokenObtainPairSerializer"
