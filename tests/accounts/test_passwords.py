"""How passwords are stored: new ones as Argon2id at OWASP's parameters; a hash
made before (PBKDF2, Django's default until now, or Argon2 with other
parameters) still signs in, and that sign-in replaces it with a current one
without revoking the learner's tokens."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from django.contrib.auth import hashers
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tokens import refresh_token_for
from langlearn import settings as project_settings

from tests.support.processes import WebServer

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-passphrase"
CURRENT = "argon2$argon2id$v=19$m=19456,t=2,p=1$"


@pytest.fixture(autouse=True)
def _the_projects_hashers(settings) -> None:
    """The real hashers, not the suite's fast one: these tests are about them."""
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS


def sign_in(password: str = PASSWORD):
    return APIClient().post(
        "/api/auth/token", {"username": "ana", "password": password}, format="json"
    )


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def test_a_new_password_is_stored_as_argon2id_at_owasps_parameters():
    response = APIClient().post(
        "/api/auth/register", {"username": "ana", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 201
    stored = User.objects.get(username="ana").password
    assert stored.startswith(CURRENT), stored
    assert sign_in().status_code == 200
    assert User.objects.get(username="ana").password == stored  # current: left as it is


@pytest.mark.parametrize(
    "old_hash",
    [
        pytest.param(lambda: hashers.make_password(PASSWORD, hasher="pbkdf2_sha256"), id="pbkdf2"),
        pytest.param(
            lambda: hashers.make_password(PASSWORD, hasher="pbkdf2_sha1"), id="pbkdf2-sha1"
        ),
        pytest.param(
            # Django's own Argon2 parameters: 100 MiB, 8 lanes.
            lambda: hashers.Argon2PasswordHasher().encode(
                PASSWORD, hashers.Argon2PasswordHasher().salt()
            ),
            id="argon2-django-parameters",
        ),
    ],
)
def test_an_old_hash_still_signs_in_and_is_replaced_by_a_current_one(old_hash):
    user = User.objects.create(username="ana", password=old_hash())
    before = user.password
    assert not before.startswith(CURRENT)
    earlier_token = str(refresh_token_for(user).access_token)

    assert sign_in("not-the-password").status_code == 401
    assert User.objects.get(pk=user.pk).password == before  # a wrong one changes nothing

    response = sign_in()
    assert response.status_code == 200
    upgraded = User.objects.get(pk=user.pk)
    assert upgraded.password.startswith(CURRENT), upgraded.password
    # Not a password change: the learner's other sessions go on.
    assert upgraded.token_version == user.token_version
    assert bearer(earlier_token).get("/api/adventures").status_code == 200
    assert bearer(response.json()["access"]).get("/api/adventures").status_code == 200
    # The new hash signs in, and is left as it is.
    assert sign_in().status_code == 200
    assert User.objects.get(pk=user.pk).password == upgraded.password


def _post(base: str, path: str, body: dict, token: str = "") -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        f"{base}{path}", data=json.dumps(body).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_web_server_hashes_passwords_with_no_database_connection_held(tmp_path):
    """The server's hasher refuses to run while the request's thread holds a
    connection (tests/support/probe_hasher.py): a 500 would say one did."""
    User.objects.create(
        username="old", password=hashers.make_password(PASSWORD, hasher="pbkdf2_sha256")
    )
    server = WebServer(tmp_path, DJANGO_SETTINGS_MODULE="tests.support.probe_hasher_settings")
    try:
        base = server.base
        assert (
            _post(base, "/api/auth/register", {"username": "ana", "password": PASSWORD})[0] == 201
        )
        status, tokens = _post(base, "/api/auth/token", {"username": "ana", "password": PASSWORD})
        assert status == 200
        # A wrong password, and a name nobody has (hashed too, for even timing).
        assert (
            _post(base, "/api/auth/token", {"username": "ana", "password": "nope-nope"})[0] == 401
        )
        assert (
            _post(base, "/api/auth/token", {"username": "nobody", "password": PASSWORD})[0] == 401
        )
        # An old hash: verified, then replaced.
        assert _post(base, "/api/auth/token", {"username": "old", "password": PASSWORD})[0] == 200
        assert User.objects.get(username="old").password.startswith(CURRENT)
        change = {"old_password": PASSWORD, "new_password": "another-long-passphrase"}
        assert _post(base, "/api/auth/password", change, tokens["access"])[0] == 200
    finally:
        server.stop()
    assert "hashed with a database connection held" not in server.output()
