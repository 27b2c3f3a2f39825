"""The account API: register, sign in, refresh a token, sign out, change the password."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer, extend_schema_view
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenObtainPairView

from accounts import services
from accounts.models import User
from accounts.services import user_register
from accounts.tokens import TokenObtainPairSerializer
from langlearn.api import (
    NativeLanguageField,
    StrictCharField,
    error_responses,
)


class RegisterApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "register"

    @extend_schema_serializer(component_name="Registration")
    class InputSerializer(serializers.Serializer):
        # The username rules (accounts/usernames.py) are checked by the service.
        username = StrictCharField(max_length=150, trim_whitespace=False)
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
    # Serializer: SIMPLE_JWT["TOKEN_OBTAIN_SERIALIZER"] (accounts/tokens.py).
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"


class TokenPairOutput(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class TokenRefreshInput(serializers.Serializer):
    refresh = StrictCharField()


class TokenRefreshApi(APIView):
    """A new access token and a new refresh token; the refresh token sent is
    spent (401 if it is used again)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    @extend_schema(
        request=TokenRefreshInput,
        responses={200: TokenPairOutput, **error_responses(400, 401, 413, 415, 429, 503)},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        payload = TokenRefreshInput(data=request.data)
        payload.is_valid(raise_exception=True)
        pair = services.tokens_refresh(**payload.validated_data)
        return Response(TokenPairOutput(pair).data)


class LogoutInput(serializers.Serializer):
    refresh = StrictCharField()


class LogoutApi(APIView):
    """Sign out: the refresh token stops working (204)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=LogoutInput,
        responses={204: None, **error_responses(400, 401, 413, 415, 503)},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        payload = LogoutInput(data=request.data)
        payload.is_valid(raise_exception=True)
        services.tokens_revoke(**payload.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeInput(serializers.Serializer):
    old_password = StrictCharField(max_length=128, trim_whitespace=False)
    new_password = StrictCharField(max_length=128, trim_whitespace=False)


class PasswordChangeApi(APIView):
    """Change the password: every token issued before stops working; the
    answer is a new pair for this client."""

    # Keyed by the user (authenticated): guesses of the current password with
    # a stolen access token are limited like sign-ins.
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    @extend_schema(
        request=PasswordChangeInput,
        responses={200: TokenPairOutput, **error_responses(400, 401, 413, 415, 429, 503)},
    )
    def post(self, request: Request) -> Response:
        payload = PasswordChangeInput(data=request.data)
        payload.is_valid(raise_exception=True)
        assert isinstance(request.user, User)  # IsAuthenticated
        pair = services.password_change(user=request.user, **payload.validated_data)
        return Response(TokenPairOutput(pair).data)
