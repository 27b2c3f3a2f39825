from __future__ import annotations

from langlearn import languages
from outbound.errors import ProviderError
from outbound.roles import Translation
from outbound.stubs import corpus
from outbound.stubs.drills import stub_delay


class StubTranslator:
    """Translates the corpus story exactly between the languages it is written in.

    Into any other language we translate into (``langlearn.languages``), and for
    a text that is not in the corpus (from a real generator, say), the text comes
    back marked with the target language, so it is visibly not a real translation.
    """

    async def translate(
        self,
        texts: list[str],
        *,
        source_language: str,
        target_language: str,
        context: str = "",
    ) -> Translation:
        await stub_delay("translate")
        if not languages.can_translate_to(target_language):
            raise ProviderError(
                f"cannot translate into {target_language!r}",
                provider="stub-translator",
                transient=False,
            )
        out = [
            corpus.translate(text, source_language, target_language)
            or f"[{target_language}] {text}"
            for text in texts
        ]
        return Translation(texts=out, billed_characters=sum(map(len, texts)))
