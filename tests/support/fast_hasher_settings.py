"""The project's settings with a fast password hasher, for a real web server
whose test is not about the hash (tests/langlearn/test_api_schema.py:
schemathesis registers, signs in and changes passwords hundreds of times, at
tens of milliseconds of Argon2id each). The test process has the same shortcut
(tests/support/shortcuts.py)."""

from langlearn.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
