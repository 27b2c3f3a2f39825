from django.urls import path

from . import views

urlpatterns = [
    path("words", views.WordListCreateApi.as_view(), name="words"),
    path("words/export", views.WordExportApi.as_view(), name="words-export"),
    path("progress", views.ProgressApi.as_view(), name="progress"),
    path("placement", views.PlacementApi.as_view(), name="placement"),
    path("reviews", views.ReviewsApi.as_view(), name="reviews"),
    path("words/<uuid:word_id>", views.WordDetailApi.as_view(), name="word"),
    path(
        "adventures/<uuid:adventure_id>/entries/<uuid:entry_id>/known",
        views.EntryKnownApi.as_view(),
        name="entry-known",
    ),
]
