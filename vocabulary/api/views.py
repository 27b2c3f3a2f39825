"""The vocabulary API: one view per use case; each parses, calls a service, renders."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from langlearn.api import (
    Pagination,
    StrictCharField,
    TargetLanguageField,
    TaughtLanguageField,
    error_responses,
)
from vocabulary import export, progress, selectors, services
from vocabulary.models import LEMMA_MAX_LENGTH, Placement, Word
from vocabulary.placement.items import SECONDS_PER_ITEM
from vocabulary.scheduling import RATINGS

from .serializers import (
    DueReviewSerializer,
    PlacementResultSerializer,
    PlacementSerializer,
    ProgressSerializer,
    ReviewResultSerializer,
    WordSerializer,
)

BIGINT_MAX = 2**63 - 1


_STATUS = f"({'|'.join(Word.Status.values)})"


@extend_schema_field(
    {
        "type": "string",
        "pattern": f"^ *{_STATUS} *(, *{_STATUS} *)*$",
        "example": "learning,known",
    }
)
class StatusListField(serializers.Field):
    """Word statuses separated by commas, as a sorted list without repeats."""

    def to_internal_value(self, data: Any) -> list[str]:
        if not isinstance(data, str) or not data.strip():
            raise serializers.ValidationError("Give some of the statuses, separated by commas.")
        statuses = [part.strip() for part in data.split(",")]
        unknown = [part for part in statuses if part not in Word.Status.values]
        if unknown:
            raise serializers.ValidationError(
                f"Unknown status {', '.join(map(repr, unknown))}: give some of "
                f"{', '.join(Word.Status.values)}, separated by commas."
            )
        return sorted(set(statuses))

    def to_representation(self, value: list[str]) -> str:
        return ",".join(value)


class AuthedRequest(Request):
    user: User


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only: DRF's also takes ``"5"``, ``5.0`` and ``true``."""

    def to_internal_value(self, data: Any) -> int:
        if not isinstance(data, int) or isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


class WordListCreateApi(APIView):
    pagination_class = Pagination

    @extend_schema_serializer(component_name="WordFilter")
    class FilterSerializer(serializers.Serializer):
        language = TaughtLanguageField(required=False)
        status = serializers.ChoiceField(choices=Word.Status.choices, required=False)
        due = serializers.BooleanField(
            required=False,
            help_text="true: only the words due for review now (learning, card due); "
            "false: only the others.",
        )

    @extend_schema_serializer(component_name="WordCreate")
    class InputSerializer(serializers.Serializer):
        token_id = StrictIntegerField(
            required=False,
            min_value=1,
            max_value=BIGINT_MAX,
            help_text="A token of one of your entries (its `id` in the entry's `tokens`): "
            "its lemma is saved with its sentence and translation. Or give `language` "
            "and `lemma` instead.",
        )
        language = TargetLanguageField(required=False)
        lemma = StrictCharField(max_length=LEMMA_MAX_LENGTH, required=False)

        def validate(self, data: dict[str, Any]) -> dict[str, Any]:
            by_token = "token_id" in data
            by_lemma = "language" in data or "lemma" in data
            if by_token == by_lemma:
                raise serializers.ValidationError(
                    "Give either token_id, or language and lemma.", code="invalid"
                )
            if by_lemma:
                missing = {"language", "lemma"} - set(data)
                if missing:
                    raise serializers.ValidationError(
                        {field: ["This field is required."] for field in sorted(missing)}
                    )
            return data

    @extend_schema(
        parameters=[FilterSerializer],
        responses={200: WordSerializer(many=True), **error_responses(400, 401, 404, 503)},
        summary="Your words, newest first (400: a bad filter or page_size; 404: no such page)",
    )
    def get(self, request: AuthedRequest) -> Response:
        # A plain dict, so that an empty value (``?status=``) is a 400, not ignored.
        filters = self.FilterSerializer(
            data={
                name: request.query_params[name]
                for name in ("language", "status", "due")
                if name in request.query_params
            }
        )
        filters.is_valid(raise_exception=True)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            selectors.word_list(user=request.user, **filters.validated_data), request, view=self
        )
        return paginator.get_paginated_response(WordSerializer(page, many=True).data)

    @extend_schema(
        request=InputSerializer,
        responses={
            201: WordSerializer,
            200: WordSerializer,
            **error_responses(400, 401, 404, 413, 415, 503),
        },
        summary="Save a word as learning: 201 when new; 200 with your existing word, "
        "unchanged, when you have it already (in any case, in any status); "
        "404: a token that is not in one of your entries",
    )
    def post(self, request: AuthedRequest) -> Response:
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        if "token_id" in data:
            saved = services.word_save_from_token(user=request.user, token_id=data["token_id"])
        else:
            saved = services.word_save(
                user=request.user, language=data["language"], lemma=data["lemma"]
            )
        return Response(
            WordSerializer(saved.word).data,
            status=status.HTTP_201_CREATED if saved.created else status.HTTP_200_OK,
        )


class WordDetailApi(APIView):
    @extend_schema_serializer(component_name="WordUpdate")
    class InputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=Word.Status.choices, required=False)

    @extend_schema(
        responses={200: WordSerializer, **error_responses(401, 404, 503)},
        summary="One of your words",
    )
    def get(self, request: AuthedRequest, word_id) -> Response:
        return Response(WordSerializer(selectors.word_get(user=request.user, word_id=word_id)).data)

    @extend_schema(
        request=InputSerializer,
        responses={200: WordSerializer, **error_responses(400, 401, 404, 413, 415, 503)},
        summary="Change a word's status (a body without one changes nothing)",
    )
    def patch(self, request: AuthedRequest, word_id) -> Response:
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        if "status" in payload.validated_data:
            word = services.word_set_status(
                user=request.user, word_id=word_id, status=payload.validated_data["status"]
            )
        else:
            word = selectors.word_get(user=request.user, word_id=word_id)
        return Response(WordSerializer(word).data)

    @extend_schema(
        responses={204: None, **error_responses(401, 404, 503)},
        summary="Forget a word: its lemma is new again",
    )
    def delete(self, request: AuthedRequest, word_id) -> Response:
        services.word_delete(user=request.user, word_id=word_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EntryKnownApi(APIView):
    @extend_schema_serializer(component_name="PageKnown")
    class OutputSerializer(serializers.Serializer):
        words = serializers.IntegerField(help_text="Distinct words (lemmas) in the passage.")
        marked_known = serializers.IntegerField(help_text="Of them, new until now: now known.")
        already_saved = serializers.IntegerField(
            help_text="Of them, already yours (learning, known or ignored): unchanged."
        )

    @extend_schema(
        request=None,
        responses={200: OutputSerializer, **error_responses(401, 404, 409, 503)},
        summary="Page to known: every word of the passage you have not saved becomes known "
        "(409: the entry is not complete)",
    )
    def post(self, request: AuthedRequest, adventure_id, entry_id) -> Response:
        result = services.entry_mark_known(
            user=request.user, adventure_id=adventure_id, entry_id=entry_id
        )
        return Response(self.OutputSerializer(result._asdict()).data)


class StrictUUIDField(serializers.UUIDField):
    """A UUID in a JSON string only: DRF's also takes an integer."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ReviewsApi(APIView):
    @extend_schema_serializer(component_name="ReviewsDueFilter")
    class FilterSerializer(serializers.Serializer):
        language = TaughtLanguageField(help_text="The language of the words to review.")
        limit = serializers.IntegerField(
            required=False, default=20, min_value=1, max_value=100, help_text="1 to 100."
        )

    @extend_schema_serializer(component_name="ReviewCreate")
    class InputSerializer(serializers.Serializer):
        word_id = StrictUUIDField(help_text="A word of yours you are learning.")
        rating = serializers.ChoiceField(choices=list(RATINGS))
        review_id = StrictUUIDField(
            help_text="Chosen by the client (a new UUID per review): a review sent again "
            "with the same review_id counts once."
        )

    @extend_schema(
        parameters=[FilterSerializer],
        responses={200: DueReviewSerializer(many=True), **error_responses(400, 401, 503)},
        summary="Your words due for review now, due soonest first (400: a bad language or limit)",
    )
    def get(self, request: AuthedRequest) -> Response:
        filters = self.FilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        cards = selectors.reviews_due(user=request.user, **filters.validated_data)
        return Response(DueReviewSerializer(cards, many=True).data)

    @extend_schema(
        request=InputSerializer,
        responses={
            201: ReviewResultSerializer,
            200: ReviewResultSerializer,
            **error_responses(400, 401, 404, 409, 413, 415, 503),
        },
        summary="Rate a word you are learning; FSRS schedules its next review. 201 when "
        "applied; 200 with the first result when this review_id was sent before (not applied "
        "again); 404: not a word of yours; 409: the word is not being learnt, or the "
        "review_id was used for another word or rating",
    )
    def post(self, request: AuthedRequest) -> Response:
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        reviewed = services.review_submit(user=request.user, **payload.validated_data)
        return Response(
            ReviewResultSerializer(reviewed.review).data,
            status=status.HTTP_201_CREATED if reviewed.created else status.HTTP_200_OK,
        )


def time_zone(name: str) -> ZoneInfo:
    """An IANA time zone name (``Europe/Madrid``) as a ``ZoneInfo``, or a 400."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise serializers.ValidationError(
            "Not a time zone: give an IANA name like Europe/Madrid.", code="invalid"
        ) from None


class ProgressApi(APIView):
    @extend_schema_serializer(component_name="ProgressFilter")
    class FilterSerializer(serializers.Serializer):
        language = TaughtLanguageField(help_text="The language you learn.")
        tz = StrictCharField(
            max_length=64,
            required=False,
            help_text="Your time zone (IANA name, e.g. Europe/Madrid): what 'today' and "
            "'days in a row' mean. UTC unless given.",
        )

        def validate_tz(self, value: str) -> ZoneInfo:
            return time_zone(value)

    @extend_schema(
        parameters=[FilterSerializer],
        responses={200: ProgressSerializer, **error_responses(400, 401, 503)},
        summary="Your progress in a language: words by status, reviews, days in a row, "
        "passages read, minutes of audio (400: a bad language or time zone)",
    )
    def get(self, request: AuthedRequest) -> Response:
        filters = self.FilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        result = progress.progress(
            user=request.user, language=data["language"], zone=data.get("tz", ZoneInfo("UTC"))
        )
        return Response(ProgressSerializer(result).data)


class JSONOnlyNegotiation(DefaultContentNegotiation):
    """Errors in JSON whatever ``?format=`` and ``Accept`` say: the export's
    ``format`` names the file's format, not a DRF renderer."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


APKG_TYPE = "application/apkg"
CSV_TYPE = "text/csv"
# Listed first in the schema: generated clients read a body of this type as
# bytes (openapi-python-client treats any text/* as text, and does not know
# application/apkg). Sent when the request's Accept asks for it.
BYTES_TYPE = "application/octet-stream"
EXPORT_ANSWER = (
    "A file to save (Content-Disposition: attachment): for format=apkg an Anki deck "
    "(a zip holding a SQLite collection), for format=csv UTF-8 CSV with a header row. "
    "Its type is application/apkg or text/csv, or application/octet-stream for either "
    "when Accept names application/octet-stream and not the format's own type."
)


def _wants_bytes(request: Request, own_type: str) -> bool:
    """Accept names application/octet-stream and not ``own_type``."""
    named = {
        part.split(";")[0].strip().lower() for part in request.headers.get("Accept", "").split(",")
    }
    return BYTES_TYPE in named and own_type not in named


class WordExportApi(APIView):
    content_negotiation_class = JSONOnlyNegotiation

    @extend_schema_serializer(component_name="WordExportFilter")
    class FilterSerializer(serializers.Serializer):
        language = TaughtLanguageField(help_text="The language of the words to export.")
        format = serializers.ChoiceField(
            choices=["apkg", "csv"],
            help_text="apkg: an Anki deck (a note per word: lemma, the sentence you met it in, "
            "its translation); csv: lemma, status, sentence, translation, saved_at.",
        )
        status = StatusListField(
            required=False,
            help_text="Comma-separated statuses of the words to export, e.g. "
            "`learning,known`; one of learning, known, ignored each. Default: `learning` "
            "only (the words you are learning; known and ignored words only when asked for).",
        )

    @extend_schema(
        parameters=[FilterSerializer],
        responses={
            (200, BYTES_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description=EXPORT_ANSWER),
            (200, APKG_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description=EXPORT_ANSWER),
            (200, CSV_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description=EXPORT_ANSWER),
            **error_responses(400, 401, 503),
        },
        summary="Download your words as an Anki deck or CSV (400: a bad language, format "
        "or status)",
        description="The Anki deck is made to be imported again and again. Each note's "
        "modification time is its word's last change here (its status, sentence or "
        "translation), not the time of the export, and Anki updates a note it has only when "
        "the imported one is newer: a word unchanged since your last import keeps the edits "
        "you made to its note in Anki; a word changed since updates the note (fields and "
        "status tag). Notes are matched by an id from the word, so none is added twice. "
        "Scheduling and review history are never in the file: Anki keeps its own. Words you "
        "deleted here stay in Anki.",
    )
    def get(self, request: AuthedRequest) -> HttpResponse:
        filters = self.FilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        language = data["language"]
        words = selectors.word_list(
            user=request.user,
            language=language,
            statuses=data.get("status", [Word.Status.LEARNING]),
        ).order_by("created_at", "id")
        if data["format"] == "apkg":
            body: bytes | str = export.apkg(words, user_id=request.user.id, language=language)
            content_type = APKG_TYPE
        else:
            body, content_type = export.csv_text(words), f"{CSV_TYPE}; charset=utf-8"
        if _wants_bytes(request, content_type.partition(";")[0]):
            content_type = BYTES_TYPE
        response = HttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = (
            f'attachment; filename="{export.filename(language, data["format"])}"'
        )
        return response


class StrictBooleanField(serializers.BooleanField):
    """A JSON true or false only: DRF's also takes ``"yes"``, ``1`` and ``"0"``."""

    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


@extend_schema_serializer(component_name="PlacementAnswer")
class PlacementAnswerSerializer(serializers.Serializer):
    id = StrictCharField(max_length=64, help_text="An item's `id` from GET /api/placement.")
    known = StrictBooleanField(help_text="true: you know this word.")


class PlacementApi(APIView):
    @extend_schema_serializer(component_name="PlacementFilter")
    class FilterSerializer(serializers.Serializer):
        language = TaughtLanguageField(help_text="The language you learn.")

    @extend_schema_serializer(component_name="PlacementAnswers")
    class InputSerializer(serializers.Serializer):
        answers: serializers.ListSerializer[Any] = serializers.ListSerializer(
            child=PlacementAnswerSerializer(),
            allow_empty=False,
            max_length=200,
            help_text="One answer for every item of your test, in any order.",
        )

    @extend_schema(
        parameters=[FilterSerializer],
        responses={200: PlacementSerializer, **error_responses(400, 401, 503)},
        summary="Your placement check in a language: a yes/no vocabulary test (about 50 items, "
        "under two minutes) and your last result (400: a bad language)",
    )
    def get(self, request: AuthedRequest) -> Response:
        filters = self.FilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        test = services.placement_test(user=request.user, **filters.validated_data)
        return Response(
            PlacementSerializer(
                {
                    "language": test.language,
                    "items": test.items,
                    "estimated_seconds": len(test.items) * SECONDS_PER_ITEM,
                    "result": _placement_result(test.result),
                }
            ).data
        )

    @extend_schema(
        parameters=[FilterSerializer],
        request=InputSerializer,
        responses={
            201: PlacementResultSerializer,
            200: PlacementResultSerializer,
            **error_responses(400, 401, 413, 415, 503),
        },
        summary="Answer your placement check: every item, known or not. 201 with the new "
        "result (it replaces the one you had); 200 with your result unchanged when these "
        "were already your answers (400: a bad language, an id not in your test or given "
        "twice, an item left out, a known that is not true or false)",
    )
    def post(self, request: AuthedRequest) -> Response:
        filters = self.FilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        payload = self.InputSerializer(data=request.data)
        if not payload.is_valid():
            raise serializers.ValidationError(_flat_errors(payload.errors))
        placed = services.placement_submit(
            user=request.user,
            language=filters.validated_data["language"],
            answers=[
                (answer["id"], answer["known"]) for answer in payload.validated_data["answers"]
            ],
        )
        return Response(
            _placement_result(placed.placement),
            status=status.HTTP_201_CREATED if placed.created else status.HTTP_200_OK,
        )


NON_FIELD = "non_field_errors"


def _path(path: str, name: str | int) -> str:
    if name == NON_FIELD:
        return path
    return f"{path}[{name}]" if isinstance(name, int) else f"{path}.{name}"


def _flat_errors(errors: dict[str, Any]) -> dict[str, list[str]]:
    """DRF's errors with those of list items (``{"answers": [{}, {"known": [...]}]}``)
    as messages naming the item (``answers[1].known: ...``): every 400 body is
    ``{field: [message, ...]}``, as the schema says."""
    return {name: _messages(value, name) for name, value in errors.items()}


def _messages(errors: Any, path: str) -> list[str]:
    if isinstance(errors, dict):
        return [
            message
            for name, value in errors.items()
            for message in _messages(value, _path(path, name))
        ]
    if isinstance(errors, list) and any(isinstance(e, dict | list) for e in errors):
        return [
            message
            for index, value in enumerate(errors)
            for message in _messages(value, f"{path}[{index}]")
        ]
    depth = path.count(".") + path.count("[")
    return [f"{path}: {message}" if depth else str(message) for message in errors]


def _placement_result(placement: Placement | None) -> dict[str, Any] | None:
    if placement is None:
        return None
    return PlacementResultSerializer(placement).data
