"""The learner API: one view per use case; each parses, calls a service, renders."""

from __future__ import annotations

import datetime
import time

from django.conf import settings
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import Token

from accounts.models import User
from adventures import selectors, services
from langlearn import languages
from langlearn.api import (
    NativeLanguageField,
    Pagination,
    StrictCharField,
    TargetLanguageField,
    error_responses,
)
from langlearn.levels import CefrLevel
from vocabulary import selectors as vocabulary_selectors

from . import events
from .serializers import AdventureSerializer, EntrySerializer, EntrySummarySerializer


class AuthedRequest(Request):
    """What the views see: IsAuthenticated (the default) guarantees a learner."""

    user: User


class LanguageSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class LanguagesApi(APIView):
    @extend_schema_serializer(component_name="Languages")
    class OutputSerializer(serializers.Serializer):
        target_languages = LanguageSerializer(many=True)
        native_languages = LanguageSerializer(many=True)

    @extend_schema(
        responses={200: OutputSerializer, **error_responses(401, 503)},
        summary="Languages we teach and translate into",
    )
    def get(self, request: AuthedRequest) -> Response:
        data = {
            "target_languages": languages.target_languages(),
            "native_languages": languages.native_languages(),
        }
        return Response(self.OutputSerializer(data).data)


class AdventureListCreateApi(APIView):
    throttle_scope = "adventure_create"
    pagination_class = Pagination  # GET is a page of adventures (and documented as one)

    @extend_schema_serializer(component_name="AdventureCreate")
    class InputSerializer(serializers.Serializer):
        target_language = TargetLanguageField()
        native_language = NativeLanguageField(required=False)
        level = serializers.ChoiceField(choices=CefrLevel.choices, default=CefrLevel.A2)
        theme = StrictCharField(max_length=200, required=False, allow_blank=True, default="")

    def get_throttles(self):
        # Only creating an adventure costs provider money; listing is free.
        return [ScopedRateThrottle()] if self.request.method == "POST" else []

    @extend_schema(
        responses={200: AdventureSerializer(many=True), **error_responses(400, 401, 404, 503)},
        summary="Your adventures, newest first (400: a bad page_size; 404: no such page)",
    )
    def get(self, request: AuthedRequest) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            selectors.adventure_list(user=request.user), request, view=self
        )
        return paginator.get_paginated_response(AdventureSerializer(page, many=True).data)

    @extend_schema(
        request=InputSerializer,
        responses={201: AdventureSerializer, **error_responses(400, 401, 413, 415, 429, 503)},
        summary="Start an adventure; its first entry is generated in the background",
    )
    def post(self, request: AuthedRequest) -> Response:
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        adventure = services.adventure_create(user=request.user, **payload.validated_data)
        adventure = selectors.adventure_get(user=request.user, adventure_id=adventure.id)
        return Response(AdventureSerializer(adventure).data, status=status.HTTP_201_CREATED)


class AdventureDetailApi(APIView):
    @extend_schema(
        responses={200: AdventureSerializer, **error_responses(401, 404, 503)},
        summary="One adventure with its entries",
    )
    def get(self, request: AuthedRequest, adventure_id) -> Response:
        adventure = selectors.adventure_get(user=request.user, adventure_id=adventure_id)
        return Response(AdventureSerializer(adventure).data)

    @extend_schema(
        request=None,
        responses={204: None, **error_responses(401, 404, 503)},
        summary="Delete a story: its passages, translations, choices, audio and status "
        "events; your words stay (without the passage they were saved from)",
    )
    def delete(self, request: AuthedRequest, adventure_id) -> Response:
        services.adventure_delete(user=request.user, adventure_id=adventure_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EntryDetailApi(APIView):
    @extend_schema(
        responses={200: EntrySerializer, **error_responses(401, 404, 503)},
        summary="A full entry; each token with your status for its lemma "
        "(new, learning, known, ignored) and your word's id",
    )
    def get(self, request: AuthedRequest, adventure_id, entry_id) -> Response:
        entry = selectors.entry_get(user=request.user, adventure_id=adventure_id, entry_id=entry_id)
        token_words = vocabulary_selectors.entry_token_words(
            user=request.user, entry_id=entry.id, language=entry.adventure.target_language
        )
        context = {
            "request": request,
            "token_words": token_words,
            "review_lemmas": {lemma.lower() for lemma in entry.review_words},
        }
        return Response(EntrySerializer(entry, context=context).data)


class DecisionCreateApi(APIView):
    @extend_schema_serializer(component_name="DecisionCreate")
    class InputSerializer(serializers.Serializer):
        entry_id = serializers.UUIDField()
        choice_id = serializers.UUIDField()

    @extend_schema_serializer(component_name="Decision")
    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        entry_id = serializers.UUIDField()
        choice_id = serializers.UUIDField()
        next_entry = EntrySummarySerializer()

    @extend_schema(
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            **error_responses(400, 401, 404, 409, 413, 415, 503),
        },
        summary="Choose how the story goes on; the next entry is generated in the background",
        description=(
            "`next_entry` is the entry after the choice. With branches generated "
            "ahead (`PREGENERATE_BRANCHES=on`) it is often already `complete`, or "
            "`generating`; otherwise it is `pending` until a worker takes it."
        ),
    )
    def post(self, request: AuthedRequest, adventure_id) -> Response:
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        decision = services.decision_record(
            user=request.user, adventure_id=adventure_id, **payload.validated_data
        )
        return Response(self.OutputSerializer(decision).data, status=status.HTTP_201_CREATED)


class EntryRetryApi(APIView):
    @extend_schema(
        request=None,
        responses={
            202: EntrySummarySerializer,
            **error_responses(401, 404, 409, 503),
        },
        summary="Generate an entry in error again, resuming after its last finished step",
    )
    def post(self, request: AuthedRequest, adventure_id, entry_id) -> Response:
        entry = services.entry_retry(
            user=request.user, adventure_id=adventure_id, entry_id=entry_id
        )
        return Response(EntrySummarySerializer(entry).data, status=status.HTTP_202_ACCEPTED)


def _token_expiry(request: Request) -> int:
    """When the request's access token expires (seconds since the epoch); a
    request authenticated otherwise: an access token's lifetime from now."""
    expiry = request.auth.get("exp") if isinstance(request.auth, Token) else None
    if isinstance(expiry, int):
        return expiry
    return int(time.time() + jwt_settings.ACCESS_TOKEN_LIFETIME.total_seconds())


class EventTicketApi(APIView):
    """A short-lived ticket for ``GET …/events?ticket=`` (``EventSource`` sends no headers)."""

    @extend_schema_serializer(component_name="EventTicket")
    class OutputSerializer(serializers.Serializer):
        ticket = serializers.CharField(help_text="Pass it as ?ticket= to the events URL.")
        expires_in = serializers.IntegerField(
            help_text="Seconds the ticket opens a stream for (a new EventSource)."
        )
        reconnect_until = serializers.DateTimeField(
            help_text="Until when the ticket serves the reconnects of a stream it opened "
            "(EventSource's automatic ones, with Last-Event-ID): when the access token it was "
            "asked for with expires. A password change revokes it at once."
        )

    @extend_schema(
        request=None,
        responses={201: OutputSerializer, **error_responses(401, 404, 503)},
        summary="A ticket to listen to this adventure's events "
        "(for EventSource, which cannot send a token)",
    )
    def post(self, request: AuthedRequest, adventure_id) -> Response:
        adventure = selectors.adventure_get(user=request.user, adventure_id=adventure_id)
        until = _token_expiry(request)
        data = {
            "ticket": events.ticket_issue(
                user=request.user, adventure_id=adventure.id, reconnect_until=until
            ),
            "expires_in": settings.EVENTS_TICKET_SECONDS,
            "reconnect_until": datetime.datetime.fromtimestamp(until, tz=datetime.UTC),
        }
        return Response(self.OutputSerializer(data).data, status=status.HTTP_201_CREATED)
