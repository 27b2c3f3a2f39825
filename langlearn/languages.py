"""The language registry: every language we know, and what we can do with it.

This is the one place that knows a language's names and capabilities. The API
(``/api/languages``, request validation), the providers and their stubs read
it; none keeps a list of its own. Request-time checks read only this module:
no provider is asked over the network while a request is served.

Adding a language is one entry below (plus, for the stub providers, a column
of story text in ``outbound/stubs/corpus.py`` if stubs should tell the story in it).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    code: str  # ISO 639-1, lower case: what our API speaks
    name: str  # in English
    native_name: str  # in the language itself
    # We write stories in it: the generator can write it and we teach it.
    teach: bool = False
    # DeepL translates into it, so learners can read translations in it.
    translate_into: bool = False
    # The Gemini prebuilt voice that reads it aloud by default (GEMINI_VOICES
    # overrides per language); None: we do not voice it.
    voice: str | None = None
    # We lemmatise it (simplemma dictionaries; outbound/spacy/lemmas.py).
    lemmatize: bool = False

    @property
    def can_voice(self) -> bool:
        return self.voice is not None

    @property
    def teachable(self) -> bool:
        """A learner can pick it as the language they learn."""
        return self.teach and self.can_voice and self.lemmatize


_TAUGHT = dict(teach=True, translate_into=True, lemmatize=True)

# DeepL's target languages (https://developers.deepl.com/docs/getting-started/supported-languages)
# are what learners can read translations in.
REGISTRY: dict[str, Language] = {
    language.code: language
    for language in (
        Language("es", "Spanish", "español", voice="Kore", **_TAUGHT),
        Language("fr", "French", "français", voice="Leda", **_TAUGHT),
        Language("de", "German", "Deutsch", voice="Charon", **_TAUGHT),
        Language("it", "Italian", "italiano", voice="Puck", **_TAUGHT),
        Language("pt", "Portuguese", "português", voice="Aoede", **_TAUGHT),
        Language("en", "English", "English", translate_into=True, voice="Kore"),
        Language("bg", "Bulgarian", "български", translate_into=True),
        Language("cs", "Czech", "čeština", translate_into=True),
        Language("da", "Danish", "dansk", translate_into=True),
        Language("el", "Greek", "ελληνικά", translate_into=True),
        Language("et", "Estonian", "eesti", translate_into=True),
        Language("fi", "Finnish", "suomi", translate_into=True),
        Language("hu", "Hungarian", "magyar", translate_into=True),
        Language("id", "Indonesian", "Bahasa Indonesia", translate_into=True),
        Language("ja", "Japanese", "日本語", translate_into=True),
        Language("ko", "Korean", "한국어", translate_into=True),
        Language("lt", "Lithuanian", "lietuvių", translate_into=True),
        Language("lv", "Latvian", "latviešu", translate_into=True),
        Language("nb", "Norwegian", "norsk bokmål", translate_into=True),
        Language("nl", "Dutch", "Nederlands", translate_into=True),
        Language("pl", "Polish", "polski", translate_into=True),
        Language("ro", "Romanian", "română", translate_into=True),
        Language("ru", "Russian", "русский", translate_into=True),
        Language("sk", "Slovak", "slovenčina", translate_into=True),
        Language("sl", "Slovenian", "slovenščina", translate_into=True),
        Language("sv", "Swedish", "svenska", translate_into=True),
        Language("tr", "Turkish", "Türkçe", translate_into=True),
        Language("uk", "Ukrainian", "українська", translate_into=True),
        Language("zh", "Chinese", "中文", translate_into=True),
    )
}


def get(code: str) -> Language | None:
    return REGISTRY.get(code)


def name(code: str) -> str:
    """The English name of ``code``, or the code itself when we do not know it."""
    language = REGISTRY.get(code)
    return language.name if language else code


def target_languages() -> list[Language]:
    """Languages a learner can learn, in registry order."""
    return [language for language in REGISTRY.values() if language.teachable]


def native_languages() -> list[Language]:
    """Languages a learner can read translations in, by code."""
    return sorted(
        (language for language in REGISTRY.values() if language.translate_into),
        key=lambda language: language.code,
    )


def can_teach(code: str) -> bool:
    language = REGISTRY.get(code)
    return language is not None and language.teachable


def can_translate_to(code: str) -> bool:
    language = REGISTRY.get(code)
    return language is not None and language.translate_into


def default_voices() -> dict[str, str]:
    """``{code: voice}`` for every language we voice (before ``GEMINI_VOICES``)."""
    return {code: lang.voice for code, lang in REGISTRY.items() if lang.voice is not None}


def lemmatized() -> frozenset[str]:
    return frozenset(code for code, language in REGISTRY.items() if language.lemmatize)


def _codes(languages: list[Language]) -> str:
    return ", ".join(language.code for language in languages)


def target_language_problem(code: str) -> str | None:
    """Why ``code`` cannot be learnt, in words a learner reads; None if it can."""
    if can_teach(code):
        return None
    return f"We cannot teach {code!r} yet. Choose one of: {_codes(target_languages())}."


def native_language_problem(code: str) -> str | None:
    """Why ``code`` cannot be read translations in; None if it can."""
    if can_translate_to(code):
        return None
    return f"We cannot translate into {code!r}. Choose one of: {_codes(native_languages())}."
