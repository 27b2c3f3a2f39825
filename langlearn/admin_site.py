"""The admin site, with its sign-in form throttled like the API's.

Every POST to the admin's login page counts against the ``admin_login`` rate
(``THROTTLE_ADMIN_LOGIN``, default the API's ``THROTTLE_LOGIN``) for the
client's address, identified as the API's throttles identify it
(``TRUSTED_PROXIES``). Counters live in the shared cache (PostgreSQL), so every
web process counts together. Over the limit the form is refused with 429.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig
from django.http import HttpRequest, HttpResponse
from django.utils.html import escape
from rest_framework.throttling import SimpleRateThrottle


class AdminLoginThrottle(SimpleRateThrottle):
    scope = "admin_login"

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class AdminSite(admin.AdminSite):
    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        if request.method == "POST":
            throttle = AdminLoginThrottle()
            # DRF's throttles read only headers and META, which a Django request has.
            if not throttle.allow_request(request, None):  # type: ignore[arg-type]
                return _refused(throttle.wait())
        return super().login(request, extra_context)


def _refused(wait: float | None) -> HttpResponse:
    seconds = max(1, round(wait or 60))
    message = f"Too many sign-in attempts. Try again in {seconds} seconds."
    response = HttpResponse(
        f"<!doctype html><title>Too many sign-in attempts</title><p>{escape(message)}</p>",
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response


class AdminConfig(DjangoAdminConfig):
    default_site = "langlearn.admin_site.AdminSite"
