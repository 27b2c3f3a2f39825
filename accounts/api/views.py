"""The account API: register, sign in, refresh a token."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer, extend_schema_view
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer, TokenRefreshSerializer
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from accounts.services import user_register
from langlearn.api import (
    NativeLanguageField,
    StrictCharField,
    StrictRegexField,
    error_responses,
)


class RegisterApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "register"

    @extend_schema_serializer(component_name="Registration")
    class InputSerializer(serializers.Serializer):
        username = StrictRegexField(
            r"^[\w.@+-]+\Z",
            max_length=150,
            error_messages={"invalid": "Use letters, digits and @/./+/-/_ only."},
        )
        password = StrictCharField(max_length=128, write_only=True, trim_whitespace=False)
        native_language = NativeLanguageField(default="en")

    @extend_schema_serializer(component_name="RegisteredUser")
    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        username = serializers.CharField()

    @extend_schema(
        request=InputSerializer,
        responses={201: OutputSerializer, **error_responses(400, 413, 415, 429, 503)},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        user = user_register(**payload.validated_data)
        return Response(self.OutputSerializer(user).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    post=extend_schema(
        responses={
            200: TokenObtainPairSerializer,
            **error_responses(400, 401, 413, 415, 429, 503),
        }
    )
)
class TokenApi(TokenObtainPairView):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"


@extend_schema_view(
    post=extend_schema(
        responses={
            200: TokenRefreshSerializer,
            **error_responses(400, 401, 413, 415, 429, 503),
        }
    )
)
class TokenRefreshApi(TokenRefreshView):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"
