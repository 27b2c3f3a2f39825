from django.urls import path

from .views import (
    LogoutApi,
    PasswordChangeApi,
    RegisterApi,
    TokenApi,
    TokenRefreshApi,
)

urlpatterns = [
    path("auth/register", RegisterApi.as_view(), name="register"),
    path("auth/token", TokenApi.as_view(), name="token"),
    path("auth/token/refresh", TokenRefreshApi.as_view(), name="token-refresh"),
    path("auth/logout", LogoutApi.as_view(), name="logout"),
    path("auth/password", PasswordChangeApi.as_view(), name="password-change"),
]
