"""The rules for usernames, in one place: the API, ``create_learner``, the admin
(the model field's validator) and sign-in all go through here.

A name is NFKC-normalised (fullwidth letters become plain ones), then must be
letters, digits and ``@ . + - _`` only (no emoji, spaces or invisible
characters), with all its letters from one script, so that a look-alike that
mixes alphabets (a Cyrillic a among Latin letters) is refused. Names are
unique regardless of case: the database holds a unique constraint on
``lower(username)`` and sign-in matches case-insensitively.
"""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError

MAX_LENGTH = 150
_ALLOWED = re.compile(r"^[\w.@+-]+\Z")
# Scripts that one language writes together.
_COMPATIBLE = (
    frozenset({"CJK", "HIRAGANA", "KATAKANA", "KATAKANA-HIRAGANA", "IDEOGRAPHIC"}),
    frozenset({"CJK", "HANGUL", "IDEOGRAPHIC"}),
)
CHARACTERS_MESSAGE = "Use letters, digits and @/./+/-/_ only."
SCRIPT_MESSAGE = "Use letters of one alphabet only, not a mix of look-alikes."


def normalize_username(raw: str) -> str:
    """The form a name is stored and looked up in (case is kept for display)."""
    return unicodedata.normalize("NFKC", raw)


def _scripts(name: str) -> set[str]:
    scripts = set()
    for char in name:
        if not unicodedata.category(char).startswith(("L", "M")):
            continue  # digits and punctuation belong to every script
        words = unicodedata.name(char, "UNKNOWN").split()
        if words[0] == "COMBINING":
            continue  # accents take the script of their letter
        scripts.add(words[0])
    return scripts


def validate_username(name: str) -> None:
    """Raise ``ValidationError`` unless ``name`` (already normalised) is allowed."""
    if not name:
        raise ValidationError("This field may not be blank.", code="blank")
    if len(name) > MAX_LENGTH:
        raise ValidationError(f"Use at most {MAX_LENGTH} characters.", code="max_length")
    if name != normalize_username(name) or not _ALLOWED.match(name):
        raise ValidationError(CHARACTERS_MESSAGE, code="invalid")
    scripts = _scripts(name)
    if len(scripts) > 1 and not any(scripts <= group for group in _COMPATIBLE):
        raise ValidationError(SCRIPT_MESSAGE, code="mixed_scripts")
