from django.urls import path

from . import events, views

urlpatterns = [
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
    path(
        "adventures/<uuid:adventure_id>/events",
        events.adventure_events,
        name="adventure-events",
    ),
    path(
        "adventures/<uuid:adventure_id>/events/ticket",
        views.EventTicketApi.as_view(),
        name="adventure-events-ticket",
    ),
]
