"""API clients: one with a learner's token, one without."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User

from .factories import make_user


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def learner(db: None) -> User:
    return make_user()


@pytest.fixture
def api(learner: User) -> APIClient:
    return client_for(learner)


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient()
