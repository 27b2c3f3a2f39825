"""A password hasher for a real web server under test
(``tests/accounts/test_passwords.py``): the project's own, refusing to hash
while the request's thread holds a database connection."""

from __future__ import annotations

from typing import Any

from django.db import connection

from accounts.hashers import Argon2PasswordHasher


def _no_connection_held() -> None:
    if connection.connection is not None:
        raise AssertionError("a password was hashed with a database connection held")


class ConnectionFreeHasher(Argon2PasswordHasher):
    def encode(self, password: str, salt: str) -> Any:
        _no_connection_held()
        return super().encode(password, salt)

    def verify(self, password: str, encoded: str) -> bool:
        _no_connection_held()
        return super().verify(password, encoded)
