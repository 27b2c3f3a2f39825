"""The learner's own account as a whole: leave (``DELETE /api/auth/account``)
and take it with you (``GET /api/auth/account/export``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from asgiref.sync import sync_to_async
from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts.models import User
from langlearn.api import StrictCharField, error_responses
from langlearn.errors import InvalidInput

from .deletion import account_delete_checked
from .export import buffered, chunks, zip_blocks


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


async def _streamed(blocks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """``blocks`` read in the request's thread for the ORM, one at a time: an
    ASGI server streams an async iterator as it goes, where it would read a
    sync one whole first."""

    def read() -> bytes | None:
        return next(blocks, None)

    while (block := await sync_to_async(read, thread_sensitive=True)()) is not None:
        yield block


class AccountExportApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "as",
                str,
                enum=["json", "zip"],
                description="json (the default): the document alone; zip: langlearn.json "
                "and every passage's audio file under audio/.",
            )
        ],
        responses={
            (200, "application/json"): OpenApiResponse(
                response=OpenApiTypes.OBJECT,
                description="Everything about you as one JSON document (see the manual's "
                "'Your data' page): profile, stories with their passages, translations, "
                "choices and decisions, words with their statuses and review history, "
                "placements, progress. Streamed as it is read.",
            ),
            (200, "application/zip"): OpenApiResponse(
                response=OpenApiTypes.BINARY,
                description="With ?as=zip: the same document as langlearn.json, and "
                "the audio files.",
            ),
            **error_responses(400, 401, 503),
        },
        summary="Take it with you: everything we hold about you",
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        assert isinstance(request.user, User)  # IsAuthenticated
        # Not ?format=, which DRF keeps for choosing a renderer.
        kind = request.query_params.get("as", "json")
        if kind not in {"json", "zip"}:
            raise InvalidInput("as must be json or zip.", code="invalid")
        if kind == "zip":
            blocks = zip_blocks(user=request.user)
            content_type = "application/zip"
        else:
            blocks = buffered(chunks(user=request.user))
            content_type = "application/json"
        response = StreamingHttpResponse(_streamed(blocks), content_type=content_type)
        name = f"langlearn-{timezone.now():%Y-%m-%d}.{kind}"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
