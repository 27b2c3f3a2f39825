"""Tokens a learner can revoke: refresh tokens work once, sign-out revokes one,
a password change revokes every token issued before it (issue 11, item 4)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-passphrase"


def sign_in(client: APIClient, username: str = "ana", password: str = PASSWORD) -> dict:
    response = client.post(
        "/api/auth/token", {"username": username, "password": password}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def refresh(client: APIClient, token: str):
    return client.post("/api/auth/token/refresh", {"refresh": token}, format="json")


@pytest.fixture
def registered(anonymous) -> None:
    response = anonymous.post(
        "/api/auth/register", {"username": "ana", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 201


def test_a_refresh_token_works_once_and_rotates(anonymous, registered):
    first = sign_in(anonymous)
    rotated = refresh(anonymous, first["refresh"])
    assert rotated.status_code == 200
    assert set(rotated.json()) == {"access", "refresh"}
    assert rotated.json()["refresh"] != first["refresh"]

    reused = refresh(anonymous, first["refresh"])
    assert reused.status_code == 401
    assert reused.json()["code"] == "token_not_valid"
    # The new one works, once.
    assert refresh(anonymous, rotated.json()["refresh"]).status_code == 200
    assert bearer(rotated.json()["access"]).get("/api/adventures").status_code == 200


def test_logout_revokes_the_refresh_token(anonymous, registered):
    tokens = sign_in(anonymous)
    response = anonymous.post("/api/auth/logout", {"refresh": tokens["refresh"]}, format="json")
    assert response.status_code == 204
    assert refresh(anonymous, tokens["refresh"]).status_code == 401
    assert anonymous.post("/api/auth/logout", {}, format="json").status_code == 400
    garbage = anonymous.post("/api/auth/logout", {"refresh": "garbage"}, format="json")
    assert garbage.status_code == 401
    assert "detail" in garbage.json()


def test_a_password_change_revokes_every_earlier_token(anonymous, registered):
    laptop, phone = sign_in(anonymous), sign_in(anonymous)
    response = bearer(phone["access"]).post(
        "/api/auth/password",
        {"old_password": PASSWORD, "new_password": "another-long-passphrase"},
        format="json",
    )
    assert response.status_code == 200, response.content
    fresh = response.json()
    assert set(fresh) == {"access", "refresh"}

    for old in (laptop, phone):
        denied = bearer(old["access"]).get("/api/adventures")
        assert denied.status_code == 401
        assert denied.json()["code"] == "token_revoked"
        assert refresh(anonymous, old["refresh"]).status_code == 401

    # The pair the change answered with, and a new sign-in, work.
    assert bearer(fresh["access"]).get("/api/adventures").status_code == 200
    assert refresh(anonymous, fresh["refresh"]).status_code == 200
    assert (
        anonymous.post(
            "/api/auth/token", {"username": "ana", "password": PASSWORD}, format="json"
        ).status_code
        == 401
    )
    new = sign_in(anonymous, password="another-long-passphrase")
    assert bearer(new["access"]).get("/api/adventures").status_code == 200


def test_a_password_change_needs_the_current_password_and_a_good_new_one(anonymous, registered):
    client = bearer(sign_in(anonymous)["access"])
    wrong = client.post(
        "/api/auth/password",
        {"old_password": "not-it", "new_password": "another-long-passphrase"},
        format="json",
    )
    assert wrong.status_code == 400
    assert "old_password" in wrong.json()
    weak = client.post(
        "/api/auth/password", {"old_password": PASSWORD, "new_password": "123"}, format="json"
    )
    assert weak.status_code == 400
    assert "new_password" in weak.json()
    # Nothing changed: the token still works.
    assert client.get("/api/adventures").status_code == 200
    unauthenticated = anonymous.post(
        "/api/auth/password",
        {"old_password": PASSWORD, "new_password": "another-long-passphrase"},
        format="json",
    )
    assert unauthenticated.status_code == 401


def test_a_password_changed_by_an_operator_revokes_tokens_too(anonymous, registered, monkeypatch):
    tokens = sign_in(anonymous)
    monkeypatch.setattr("getpass.getpass", lambda *a, **k: "an-operator-passphrase")
    call_command("changepassword", "ana")
    assert bearer(tokens["access"]).get("/api/adventures").status_code == 401
    assert refresh(anonymous, tokens["refresh"]).status_code == 401


def test_the_schema_documents_logout_and_password_change(anonymous):
    schema = anonymous.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    assert "post" in paths["/api/auth/logout"]
    assert "post" in paths["/api/auth/password"]
    components = schema["components"]["schemas"]
    assert {"LogoutInputRequest", "PasswordChangeInputRequest", "TokenPairOutput"} <= set(
        components
    )
