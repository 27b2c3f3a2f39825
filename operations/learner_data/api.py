"""The learner's own account as a whole: leave (``DELETE /api/auth/account``)
and take it with you (``GET /api/auth/account/export``)."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts.models import User
from langlearn.api import StrictCharField, error_responses

from .deletion import account_delete_checked


@extend_schema_serializer(component_name="AccountDelete")
class AccountDeleteInput(serializers.Serializer):
    password = StrictCharField(
        max_length=128, trim_whitespace=False, help_text="Your current password."
    )


class DeleteWithBodySchema(AutoSchema):
    """drf-spectacular documents a body for POST, PUT and PATCH only; leaving
    takes the password in the DELETE's body (HTTP allows it, and a password
    has no place in a URL), so the schema says so for DELETE too."""

    def _get_request_body(self, direction: str = "request") -> dict | None:
        method = self.method
        if method == "DELETE":
            self.method = "POST"
        try:
            return super()._get_request_body(direction)
        finally:
            self.method = method


class AccountApi(APIView):
    schema = DeleteWithBodySchema()
    # Keyed by the user: guesses of the password with a stolen access token
    # are limited like sign-ins.
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    @extend_schema(
        request=AccountDeleteInput,
        responses={204: None, **error_responses(400, 401, 413, 415, 429, 503)},
        summary="Leave: delete your account and everything it holds (stories, audio, "
        "words, reviews, placements); every token stops working",
    )
    def delete(self, request: Request) -> Response:
        payload = AccountDeleteInput(data=request.data)
        payload.is_valid(raise_exception=True)
        assert isinstance(request.user, User)  # IsAuthenticated
        account_delete_checked(user=request.user, password=payload.validated_data["password"])
        return Response(status=status.HTTP_204_NO_CONTENT)
