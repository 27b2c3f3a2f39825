from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from langlearn.health import healthz
from operations.metrics import metrics
from operations.overview import overview

urlpatterns = [
    # Operations: health endpoint and the staff overview page.
    path("healthz", healthz, name="healthz"),
    # Prometheus metrics, behind METRICS_TOKEN (operations/metrics.py).
    path("metrics", metrics, name="metrics"),
    path("admin/overview/", admin.site.admin_view(overview), name="admin-overview"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/", include("accounts.api.urls")),
    path("api/", include("adventures.api.urls")),
    path("api/", include("vocabulary.api.urls")),
    path("api/", include("news.api.urls")),
    path("api/", include("operations.learner_data.urls")),
    # The reader, a client of the API above: one page and its static files.
    path("", include("reader.urls")),
]

if settings.SERVE_MEDIA:
    # Local audio files, served by Django itself: fine for development and a
    # single machine. S3/MinIO and Bunny serve their own files.
    def media(request, path):
        return serve(request, path, document_root=settings.MEDIA_ROOT)

    prefix = settings.MEDIA_URL.lstrip("/")
    urlpatterns.append(re_path(rf"^{prefix}(?P<path>.*)$", media, name="media"))
