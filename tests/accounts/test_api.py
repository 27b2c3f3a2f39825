"""Registration and tokens."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from accounts.models import User

pytestmark = pytest.mark.django_db


def register(client: APIClient, **data):
    return client.post("/api/auth/register", data, format="json")


def test_register_creates_a_learner(anonymous):
    response = register(
        anonymous, username="ana", password="a-long-passphrase", native_language="fr"
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "username"}
    assert body["username"] == "ana"
    user = User.objects.get(id=body["id"])
    assert user.native_language == "fr"
    assert user.check_password("a-long-passphrase")


def test_register_defaults_native_language_to_english(anonymous):
    response = register(anonymous, username="ana", password="a-long-passphrase")
    assert User.objects.get(id=response.json()["id"]).native_language == "en"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"password": "a-long-passphrase"}, "username"),
        ({"username": "ana"}, "password"),
        ({"username": "ana", "password": "short"}, "password"),
        ({"username": "ana", "password": "password"}, "password"),
        ({"username": "ana", "password": "12345678901"}, "password"),
        ({"username": "a b", "password": "a-long-passphrase"}, "username"),
        (
            {"username": "ana", "password": "a-long-passphrase", "native_language": "xx"},
            "native_language",
        ),
    ],
)
def test_register_rejects_bad_input_per_field(anonymous, data, field):
    response = register(anonymous, **data)
    assert response.status_code == 400
    assert field in response.json()
    assert not User.objects.exists()


def test_register_rejects_a_taken_username(anonymous):
    register(anonymous, username="ana", password="a-long-passphrase")
    response = register(anonymous, username="ana", password="another-passphrase")
    assert response.status_code == 400
    assert "username" in response.json()
    assert User.objects.count() == 1


def test_register_rejects_malformed_json(anonymous):
    response = anonymous.post("/api/auth/register", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "detail" in response.json()


def test_token_then_refresh_then_use(anonymous):
    register(anonymous, username="ana", password="a-long-passphrase")
    tokens = anonymous.post(
        "/api/auth/token", {"username": "ana", "password": "a-long-passphrase"}, format="json"
    )
    assert tokens.status_code == 200
    assert set(tokens.json()) == {"access", "refresh"}
    refreshed = anonymous.post(
        "/api/auth/token/refresh", {"refresh": tokens.json()["refresh"]}, format="json"
    )
    assert refreshed.status_code == 200
    anonymous.credentials(HTTP_AUTHORIZATION=f"Bearer {refreshed.json()['access']}")
    assert anonymous.get("/api/adventures").status_code == 200


def test_wrong_password_is_401(anonymous):
    register(anonymous, username="ana", password="a-long-passphrase")
    response = anonymous.post(
        "/api/auth/token", {"username": "ana", "password": "not-the-one"}, format="json"
    )
    assert response.status_code == 401
    assert "detail" in response.json()


def test_bad_refresh_token_is_401(anonymous):
    response = anonymous.post("/api/auth/token/refresh", {"refresh": "garbage"}, format="json")
    assert response.status_code == 401


@pytest.mark.parametrize("header", [None, "Bearer garbage", "Token abc", "Bearer"])
def test_api_needs_a_valid_token(anonymous, header):
    if header:
        anonymous.credentials(HTTP_AUTHORIZATION=header)
    for path in ("/api/adventures", "/api/languages"):
        response = anonymous.get(path)
        assert response.status_code == 401
        assert "detail" in response.json()


def limit(monkeypatch, scope: str, rate: str) -> None:
    # DRF binds the rates to the throttle class when it is imported.
    rates = {**ScopedRateThrottle.THROTTLE_RATES, scope: rate}
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", rates)


def test_registration_is_throttled(anonymous, monkeypatch):
    limit(monkeypatch, "register", "2/hour")
    codes = [
        register(anonymous, username=f"u{i}", password="a-long-passphrase").status_code
        for i in range(3)
    ]
    assert codes == [201, 201, 429]
    assert User.objects.count() == 2


def test_login_is_throttled(anonymous, monkeypatch):
    limit(monkeypatch, "login", "3/minute")
    codes = [
        anonymous.post(
            "/api/auth/token", {"username": "x", "password": "y"}, format="json"
        ).status_code
        for _ in range(4)
    ]
    assert codes == [401, 401, 401, 429]
