"""How passwords are stored: Argon2id at the parameters OWASP recommends.

Django's own Argon2 hasher asks for 100 MiB and 8 lanes per hash (RFC 9106's
second choice): about as much CPU per sign-in as PBKDF2, and 100 MiB of
memory. OWASP's first configuration (19 MiB, 2 passes, 1 lane) costs about a
tenth of that CPU: a classroom signing up at once is hashed in seconds. Hashes
made with other parameters or another hasher (PBKDF2, Django's default before)
still verify, and are replaced by one of this hasher at the next sign-in
(``User.check_password``).
docs/decisions/0015-argon2id-passwords.md has the figures and the reasons.
"""

from __future__ import annotations

from django.contrib.auth import hashers


class Argon2PasswordHasher(hashers.Argon2PasswordHasher):
    """Argon2id, 19 MiB (in KiB below), 2 passes, 1 lane. The algorithm's name
    stays Django's ``argon2``: hashes of Django's hasher are this one's with
    other parameters, which ``must_update`` sees."""

    time_cost = 2
    memory_cost = 19 * 1024
    parallelism = 1
