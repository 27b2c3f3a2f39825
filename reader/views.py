"""The reader: the web client learners open at ``/``.

One HTML page and its static ES modules (``static/reader/``), a client of the
public REST API like any other: no view here reads or writes a learner's
data. The page carries a strict Content-Security-Policy: scripts and styles
from this origin only, no inline script or style, API calls and the events
stream to this origin only.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


def _media_sources() -> str:
    """Where the passages' audio may come from: this origin for local files
    (or MEDIA_URL's origin when it names another), any HTTPS origin for
    object storage (S3, MinIO, a CDN), whose addresses the storage decides."""
    sources = ["'self'"]
    media = urlsplit(settings.MEDIA_URL)
    if media.scheme and media.netloc:
        sources.append(f"{media.scheme}://{media.netloc}")
    if settings.STORAGE_BACKEND != "local":
        sources.append("https:")
    return " ".join(sources)


def content_security_policy() -> str:
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            f"media-src {_media_sources()}",
            "connect-src 'self'",
            "manifest-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


@never_cache
@require_safe
def index(request: HttpRequest) -> HttpResponse:
    response = render(request, "reader/index.html")
    response["Content-Security-Policy"] = content_security_policy()
    # Nothing of the page's address goes to the audio host or a news source.
    response["Referrer-Policy"] = "no-referrer"
    return response
