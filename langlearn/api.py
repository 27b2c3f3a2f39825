"""What every API of the project shares: one mapping from errors to HTTP
answers (all shaped ``{"detail": ...}``) and one pagination."""

from __future__ import annotations

import logging
from typing import Any

from django.db import DatabaseError, InterfaceError, OperationalError
from rest_framework import status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from langlearn.errors import DomainError

logger = logging.getLogger(__name__)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        if isinstance(exc.detail, dict):
            # Field errors keep DRF's shape: {"field": ["message", ...]}.
            return Response(exc.detail, status=exc.status_code)
        return Response({"detail": exc.detail, "code": exc.code}, status=exc.status_code)
    if isinstance(exc, OperationalError | InterfaceError) or (
        isinstance(exc, DatabaseError) and "connection" in str(exc).lower()
    ):
        logger.error("database unavailable: %s", exc)
        return Response(
            {
                "detail": "The service is briefly unavailable. Please try again.",
                "code": "unavailable",
            },
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )
    return drf_exception_handler(exc, context)


class Pagination(PageNumberPagination):
    """``?page=N``; clients may ask for ``?page_size=`` up to 100."""

    page_size_query_param = "page_size"
    max_page_size = 100
