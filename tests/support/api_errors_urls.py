"""The project's URLs plus two views under /api/ that fail, for the tests of
500 answers (tests/langlearn/test_api_errors.py): a DRF view and a plain Django view."""

from django.urls import include, path
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView


class Broken(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request):
        raise RuntimeError("the DRF view broke")


def broken(request):
    raise RuntimeError("the plain view broke")


urlpatterns = [
    path("api/broken/drf", Broken.as_view()),
    path("api/broken/plain", broken),
    path("", include("langlearn.urls")),
]
