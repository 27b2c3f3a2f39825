"""Which languages a learner can learn and read translations in."""

from __future__ import annotations

from dataclasses import dataclass

from outbound import factory

# Languages we can write stories in, annotate and voice, with their names.
TEACHABLE = {
    "es": "Spanish",
    "fr": "French",
    "de": "German",
    "it": "Italian",
    "pt": "Portuguese",
}


@dataclass(frozen=True)
class LanguageOption:
    code: str
    name: str


def target_languages() -> list[LanguageOption]:
    annotator, voice = factory.get_annotator(), factory.get_voice()
    return [
        LanguageOption(code, name)
        for code, name in TEACHABLE.items()
        if annotator.supports(code) and voice.supports(code)
    ]


def native_languages() -> list[LanguageOption]:
    return [
        LanguageOption(lang.code, lang.name) for lang in factory.get_translator().target_languages()
    ]


def can_teach(code: str) -> bool:
    return any(option.code == code for option in target_languages())


def can_translate_to(code: str) -> bool:
    return factory.get_translator().can_translate_to(code)
