"""Throttles can't be dodged (issue 11, items 1 and 3): a client that sends a new
X-Forwarded-For each time is still one client, and the admin's sign-in form is
throttled like the API's."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle

from accounts.models import User
from langlearn.admin_site import AdminLoginThrottle

pytestmark = pytest.mark.django_db


def limit(monkeypatch, throttle: type[SimpleRateThrottle], scope: str, rate: str) -> None:
    # DRF binds the rates to the throttle class when it is imported.
    monkeypatch.setattr(throttle, "THROTTLE_RATES", {**throttle.THROTTLE_RATES, scope: rate})


def spoofed(n: int, behind_proxy: bool) -> dict[str, str]:
    """Headers of request n from one client at 203.0.113.7 that forges a new
    X-Forwarded-For each time. Behind a proxy, the proxy connects from 10.0.0.2
    and appends the address it saw."""
    forged = f"198.51.100.{n}"
    if behind_proxy:
        return {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": f"{forged}, 203.0.113.7"}
    return {"REMOTE_ADDR": "203.0.113.7", "HTTP_X_FORWARDED_FOR": forged}


@pytest.fixture(params=[0, 1], ids=["exposed-by-default", "behind-one-proxy"])
def proxies(request, settings) -> int:
    if request.param:  # TRUSTED_PROXIES=1, as the production compose stack sets it
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": request.param}
    return request.param


def test_the_default_trusts_no_proxy(settings):
    assert settings.TRUSTED_PROXIES == 0
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == 0


def test_a_forged_forwarded_for_does_not_reset_the_login_count(anonymous, monkeypatch, proxies):
    limit(monkeypatch, ScopedRateThrottle, "login", "3/minute")
    codes = [
        anonymous.post(
            "/api/auth/token",
            {"username": "x", "password": "y"},
            format="json",
            **spoofed(n, bool(proxies)),
        ).status_code
        for n in range(5)
    ]
    assert codes == [401, 401, 401, 429, 429]


def test_a_forged_forwarded_for_does_not_reset_the_registration_count(
    anonymous, monkeypatch, proxies
):
    limit(monkeypatch, ScopedRateThrottle, "register", "2/hour")
    codes = [
        anonymous.post(
            "/api/auth/register",
            {"username": f"u{n}", "password": "a-long-passphrase"},
            format="json",
            **spoofed(n, bool(proxies)),
        ).status_code
        for n in range(4)
    ]
    assert codes == [201, 201, 429, 429]
    assert User.objects.count() == 2


def test_behind_a_proxy_clients_are_told_apart_by_the_address_it_appends(
    anonymous, monkeypatch, settings
):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    limit(monkeypatch, ScopedRateThrottle, "login", "1/minute")

    def sign_in(client_address: str) -> int:
        return anonymous.post(
            "/api/auth/token",
            {"username": "x", "password": "y"},
            format="json",
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=client_address,
        ).status_code

    assert [sign_in("203.0.113.7"), sign_in("203.0.113.7")] == [401, 429]
    assert sign_in("203.0.113.8") == 401  # another learner behind the same proxy


def test_wrong_staff_passwords_are_refused_after_the_limit(settings, monkeypatch):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    User.objects.create_superuser("staff", password="staff-passphrase-1")
    limit(monkeypatch, AdminLoginThrottle, "admin_login", "5/minute")
    client = Client()

    def attempt(password: str, n: int):
        return client.post(
            "/admin/login/?next=/admin/",
            {"username": "staff", "password": password},
            **spoofed(n, behind_proxy=False),
        )

    codes = [attempt("wrong", n).status_code for n in range(5)]
    assert codes == [200] * 5  # the form again, with "Please enter the correct…"
    refused = attempt("wrong", 5)
    assert refused.status_code == 429
    assert "Too many sign-in attempts" in refused.content.decode()
    assert int(refused["Retry-After"]) > 0
    # Over the limit even the right password is refused: guessing stops here.
    assert attempt("staff-passphrase-1", 6).status_code == 429
    assert "_auth_user_id" not in client.session
    # The page itself still shows.
    assert client.get("/admin/login/").status_code == 200


def test_the_admin_sign_in_still_works_under_the_limit(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    User.objects.create_superuser("Staff", password="staff-passphrase-1")
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "STAFF", "password": "staff-passphrase-1"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
