from __future__ import annotations

from outbound import stub_corpus
from outbound.errors import ProviderError
from outbound.latency import stub_delay

from .base import Language, Translation

NAMES = {
    "en": "English",
    "es": "Spanish",
    "fr": "French",
    "de": "German",
    "it": "Italian",
    "pt": "Portuguese",
}


class StubTranslator:
    """Translates the corpus story exactly between its six languages.

    A text that is not in the corpus (from a real generator, say) comes back
    marked with the target language, so it is visibly not a real translation.
    """

    def target_languages(self) -> list[Language]:
        return [Language(code, NAMES[code]) for code in stub_corpus.LANGUAGES]

    def can_translate_to(self, code: str) -> bool:
        return code in stub_corpus.LANGUAGES

    async def translate(
        self,
        texts: list[str],
        *,
        source_language: str,
        target_language: str,
        context: str = "",
    ) -> Translation:
        await stub_delay("translate")
        if not self.can_translate_to(target_language):
            raise ProviderError(
                f"cannot translate into {target_language!r}",
                provider="stub-translator",
                transient=False,
            )
        out = [
            stub_corpus.translate(text, source_language, target_language)
            or f"[{target_language}] {text}"
            for text in texts
        ]
        return Translation(texts=out, billed_characters=sum(map(len, texts)))
