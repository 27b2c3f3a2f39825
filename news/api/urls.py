from django.urls import path

from . import views

urlpatterns = [
    path("digests", views.DigestListApi.as_view(), name="digests"),
    path("digests/<int:digest_id>", views.DigestDetailApi.as_view(), name="digest"),
]
