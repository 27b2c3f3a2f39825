"""One set of username rules for the API, create_learner and sign-in
(issue 11, item 7): NFKC, case-insensitive, one script."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from accounts.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-passphrase"


def register(client, username: str):
    return client.post(
        "/api/auth/register", {"username": username, "password": PASSWORD}, format="json"
    )


def sign_in(client, username: str):
    return client.post(
        "/api/auth/token", {"username": username, "password": PASSWORD}, format="json"
    )


def test_names_differing_only_in_case_or_width_are_one_account(anonymous):
    assert register(anonymous, "ana").status_code == 201
    for same in ("ANA", "Ana", "\uff41\uff4e\uff41", "\uff21\uff2e\uff21"):  # fullwidth ana, ANA
        response = register(anonymous, same)
        assert response.status_code == 400, same
        assert response.json() == {"username": ["A user with that username already exists."]}
    assert User.objects.count() == 1


def test_sign_in_ignores_case_and_width(anonymous):
    register(anonymous, "Ana")
    for typed in ("Ana", "ana", "ANA", "\uff41\uff4e\uff41"):
        assert sign_in(anonymous, typed).status_code == 200, typed
    assert sign_in(anonymous, "anna").status_code == 401


def test_fullwidth_names_are_stored_normalised(anonymous):
    response = register(anonymous, "\uff4d\uff41\uff52\uff49\uff41")  # fullwidth "maria"
    assert response.status_code == 201
    assert response.json()["username"] == "maria"


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("\u0430na", "one alphabet"),  # Cyrillic a + Latin "na"
        ("pa\u0443pal", "one alphabet"),  # Cyrillic u inside Latin
        ("ana\U0001f600", "letters, digits"),  # emoji
        ("an\u200da", "letters, digits"),  # zero-width joiner
        ("a b", "letters, digits"),
    ],
)
def test_look_alikes_emoji_and_invisible_characters_are_refused(anonymous, username, message):
    response = register(anonymous, username)
    assert response.status_code == 400
    assert message in response.json()["username"][0]
    assert not User.objects.exists()


@pytest.mark.parametrize("username", ["José", "Ελένη", "Дмитрий", "山田たろう", "kim_2024"])
def test_names_in_one_script_are_welcome(anonymous, username):
    assert register(anonymous, username).status_code == 201


def test_create_learner_follows_the_same_rules(monkeypatch):
    monkeypatch.setenv("LEARNER_PASSWORD", PASSWORD)
    with pytest.raises(CommandError, match="letters, digits"):
        call_command("create_learner", "--username", "ana\U0001f600")
    with pytest.raises(CommandError, match="one alphabet"):
        call_command("create_learner", "--username", "\u0430na")
    call_command("create_learner", "--username", "Ana")
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_learner", "--username", "ANA")
    assert list(User.objects.values_list("username", flat=True)) == ["Ana"]


def test_the_database_refuses_a_case_variant_whatever_writes_it():
    User.objects.create_user("ana", password=PASSWORD)
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("ANA", password=PASSWORD)
