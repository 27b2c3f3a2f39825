"""The learner's news digests: a page of them, and one with its reading."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from langlearn.api import Pagination, TaughtLanguageField, error_responses
from langlearn.levels import CefrLevel
from news import selectors
from vocabulary import selectors as vocabulary_selectors

from .serializers import DigestSerializer, DigestSummarySerializer


class AuthedRequest(Request):
    user: User


class DigestListApi(APIView):
    pagination_class = Pagination

    @extend_schema_serializer(component_name="DigestFilter")
    class FilterSerializer(serializers.Serializer):
        language = TaughtLanguageField(required=False, help_text="The digest's target language.")
        level = serializers.ChoiceField(choices=CefrLevel.choices, required=False)

    @extend_schema(
        parameters=[FilterSerializer],
        responses={200: DigestSummarySerializer(many=True), **error_responses(400, 401, 404, 503)},
        summary="The daily news digests, newest first (400: a bad filter or page_size; "
        "404: no such page)",
    )
    def get(self, request: AuthedRequest) -> Response:
        # A plain dict, so that an empty value (``?level=``) is a 400, not ignored.
        filters = self.FilterSerializer(
            data={
                name: request.query_params[name]
                for name in ("language", "level")
                if name in request.query_params
            }
        )
        filters.is_valid(raise_exception=True)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            selectors.digest_list(**filters.validated_data), request, view=self
        )
        return paginator.get_paginated_response(DigestSummarySerializer(page, many=True).data)


class DigestDetailApi(APIView):
    @extend_schema(
        responses={200: DigestSerializer, **error_responses(401, 404, 503)},
        summary="A digest's reading: text, sentences with their translation into your "
        "native language, tokens with your status for each lemma, audio, and its sources",
    )
    def get(self, request: AuthedRequest, digest_id: int) -> Response:
        digest = selectors.digest_get(digest_id=digest_id)
        lemma_words = vocabulary_selectors.lemma_words(
            user=request.user,
            language=digest.target_language,
            lemmas=[token.lemma for token in digest.tokens.all()],
        )
        context = {
            "request": request,
            "native_language": request.user.native_language,
            "lemma_words": lemma_words,
        }
        return Response(DigestSerializer(digest, context=context).data)
