"""The project's settings with the hasher of ``tests/support/probe_hasher.py``
first, for a real web server whose test is that no password is hashed with a
database connection held."""

from langlearn.settings import *  # noqa: F403
from langlearn.settings import PASSWORD_HASHERS as _PROJECT_HASHERS

PASSWORD_HASHERS = ["tests.support.probe_hasher.ConnectionFreeHasher", *_PROJECT_HASHERS[1:]]
