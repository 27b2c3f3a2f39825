from django.urls import path

from accounts.api import RegisterApi, TokenApi, TokenRefreshApi

from . import views

urlpatterns = [
    path("auth/register", RegisterApi.as_view(), name="register"),
    path("auth/token", TokenApi.as_view(), name="token"),
    path("auth/token/refresh", TokenRefreshApi.as_view(), name="token-refresh"),
    path("languages", views.LanguagesApi.as_view(), name="languages"),
    path("adventures", views.AdventureListCreateApi.as_view(), name="adventures"),
    path(
        "adventures/<uuid:adventure_id>",
        views.AdventureDetailApi.as_view(),
        name="adventure",
    ),
    path(
        "adventures/<uuid:adventure_id>/entries/<uuid:entry_id>",
        views.EntryDetailApi.as_view(),
        name="entry",
    ),
    path(
        "adventures/<uuid:adventure_id>/entries/<uuid:entry_id>/retry",
        views.EntryRetryApi.as_view(),
        name="entry-retry",
    ),
    path(
        "adventures/<uuid:adventure_id>/decisions",
        views.DecisionCreateApi.as_view(),
        name="decisions",
    ),
]
