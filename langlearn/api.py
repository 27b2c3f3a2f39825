"""What every API of the project shares: one mapping from errors to HTTP
answers, one pagination, and the error bodies the schema
documents.

Every error under ``/api/`` is JSON ``{"detail": "...", "code": "..."}``, except
field errors, which keep DRF's ``{"field": ["message", ...]}``. Inside DRF views
``exception_handler`` makes it so; ``JsonErrorsMiddleware`` covers what happens
outside them (no URL matched, a 500, Django refusing a request).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from drf_spectacular.utils import OpenApiResponse, extend_schema_field, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from langlearn import languages
from langlearn.errors import DomainError

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
# --- Errors inside DRF views --------------------------------------------------------


def _error(detail: str, code: str, status_code: int, **kwargs: Any) -> Response:
    return Response({"detail": detail, "code": code}, status=status_code, **kwargs)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        if isinstance(exc.detail, dict):
            # Field errors keep DRF's shape: {"field": ["message", ...]}.
            return Response(exc.detail, status=exc.status_code)
        return _error(exc.detail, exc.code, exc.status_code)
    if isinstance(exc, OperationalError | InterfaceError) or (
        isinstance(exc, DatabaseError) and "connection" in str(exc).lower()
    ):
        logger.error("database unavailable: %s", exc)
        return _error(
            "The service is briefly unavailable. Please try again.",
            "unavailable",
            status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )
    if isinstance(exc, RequestDataTooBig):
        _log_refused(context["request"], exc)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return _error(
            f"The request body is larger than the {limit} bytes we accept.",
            "too_large",
            status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, SuspiciousOperation):
        _log_refused(context["request"], exc)
        return _error("Bad request.", "bad_request", status.HTTP_400_BAD_REQUEST)
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, APIException):
        return response  # None: a 500, rendered by JsonErrorsMiddleware
    if isinstance(response.data, dict) and "detail" in response.data:
        response.data.setdefault("code", getattr(exc.detail, "code", exc.default_code))
    elif isinstance(response.data, list):  # ValidationError("...") outside a serializer
        codes = exc.get_codes()
        response.data = {
            "detail": " ".join(str(message) for message in response.data),
            "code": codes[0] if isinstance(codes, list) and codes else exc.default_code,
        }
    return response


# --- Errors outside DRF views ---------------------------------------------------------

_STATUS_ERRORS = {
    400: ("Bad request.", "bad_request"),
    401: ("Authentication credentials were not provided.", "not_authenticated"),
    403: ("You do not have permission to perform this action.", "permission_denied"),
    404: ("Not found.", "not_found"),
    405: ("Method not allowed.", "method_not_allowed"),
    413: ("The request body is too large.", "too_large"),
    500: ("Something went wrong on our side. Please try again later.", "server_error"),
}


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def _log_refused(request: Any, exc: Exception) -> None:
    logger.warning("refused %s %s: %s (%s)", request.method, request.path, exc, type(exc).__name__)


class JsonErrorsMiddleware:
    """Under ``/api/`` only, every error answer is JSON ``{"detail", "code"}``:
    unknown paths (a trailing slash, an id that is not a UUID), a body over
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (413), a request Django refuses (400) and
    any uncaught exception (500, logged with its traceback), with ``DEBUG`` on
    or off. Other paths (the admin, the docs page) keep Django's HTML pages.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and _is_api(request)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            return self._render(request, response.status_code, source=response)
        return response

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if not _is_api(request):
            return None
        if isinstance(exc, RequestDataTooBig):
            _log_refused(request, exc)
            return self._render(request, 413)
        if isinstance(exc, Http404 | PermissionDenied | SuspiciousOperation | BadRequest):
            return None  # Django answers, and __call__ turns its page into JSON
        logger.error(
            "unhandled %s on %s %s", type(exc).__name__, request.method, request.path, exc_info=exc
        )
        return self._render(request, 500)

    def _render(
        self, request: HttpRequest, status_code: int, source: HttpResponse | None = None
    ) -> JsonResponse:
        detail, code = _STATUS_ERRORS.get(status_code, ("Request failed.", "error"))
        if status_code == 404 and request.path_info.endswith("/") and _resolves(request):
            detail = "Not found. API paths have no trailing slash."
        response = JsonResponse({"detail": detail, "code": code}, status=status_code)
        for header in ("Allow", "Retry-After"):
            if source is not None and source.has_header(header):
                response[header] = source[header]
        return response


def _resolves(request: HttpRequest) -> bool:
    try:
        resolve(request.path_info.rstrip("/"), getattr(request, "urlconf", None))
    except Resolver404:
        return False
    return True


# --- What the schema says about errors ---------------------------------------------


@extend_schema_serializer(component_name="Error")
class ErrorSerializer(serializers.Serializer):
    """Every error but field errors: ``detail`` for people, ``code`` for programs."""

    detail = serializers.CharField()
    code = serializers.CharField()


# 400: a body we could not read ({detail, code}) or field errors ({field: [messages]}).
_BAD_REQUEST_SCHEMA = {
    "type": "object",
    "description": "Either `detail` and `code`, or one list of messages per field "
    "(`non_field_errors` for the body as a whole).",
    "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}

_ERROR_DESCRIPTIONS = {
    400: "Bad input: a body that is not JSON, or field errors.",
    401: "No token, or a bad or expired one.",
    404: "Not found, or not yours.",
    409: "The request is valid, but the state of the resource does not allow it.",
    413: "The request body is too large.",
    415: "The body is not `application/json`.",
    429: "Throttled: try again later.",
    503: "The service is briefly unavailable: try again.",
}


def error_responses(*status_codes: int) -> dict[int, OpenApiResponse]:
    """The error answers of an operation, for ``extend_schema(responses=...)``."""
    return {
        code: OpenApiResponse(
            response=_BAD_REQUEST_SCHEMA if code == 400 else ErrorSerializer,
            description=_ERROR_DESCRIPTIONS[code],
        )
        for code in status_codes
    }


# --- Pagination -----------------------------------------------------------------------


class Pagination(PageNumberPagination):
    """``?page=N``; clients may ask for ``?page_size=`` up to 100 (more gives 100).

    A ``page_size`` that is not a whole number from 1 up is a 400 (DRF would
    quietly use the default), as the schema says.
    """

    page_size_query_param = "page_size"
    max_page_size = 100
    page_size_query_description = "Adventures per page: 1 to 100 (a larger number gives 100)."

    def get_page_size(self, request: Any) -> int | None:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if size < 1:
            raise serializers.ValidationError(
                {self.page_size_query_param: ["A whole number from 1 to 100."]}, code="invalid"
            )
        return min(size, self.max_page_size)

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        # Every page carries all four keys; next and previous are null at the ends.
        paginated = super().get_paginated_response_schema(schema)
        paginated["required"] = ["count", "next", "previous", "results"]
        return paginated

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
        return parameters


# --- Strings ---------------------------------------------------------------------------


class _StringOnly:
    """DRF's CharField also takes numbers (``0`` becomes ``"0"``); the schema
    says string, so these take JSON strings only."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            raise serializers.ValidationError("Not a valid string.", code="invalid")
        return super().to_internal_value(data)  # type: ignore[misc]


class StrictCharField(_StringOnly, serializers.CharField):
    pass


class StrictRegexField(_StringOnly, serializers.RegexField):
    pass


# --- Language codes -----------------------------------------------------------------------
# Parsed as strings, so that an unknown code gets the services' message (which
# lists the codes we do take); documented as the enums they are.


@extend_schema_field(
    serializers.ChoiceField(choices=[lang.code for lang in languages.target_languages()])
)
class TargetLanguageField(StrictCharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=8, **kwargs)


class TaughtLanguageField(TargetLanguageField):
    """A target language checked here, with the registry's message (filters;
    a service that checks a pair of languages takes ``TargetLanguageField``)."""

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if problem := languages.target_language_problem(value):
            raise serializers.ValidationError(problem)
        return value


@extend_schema_field(
    serializers.ChoiceField(choices=[lang.code for lang in languages.native_languages()])
)
class NativeLanguageField(StrictCharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=8, **kwargs)
