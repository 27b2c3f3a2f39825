from __future__ import annotations

from outbound.roles import AnnotatedToken, Annotator
from outbound.stubs.drills import stub_delay


class DrilledAnnotator:
    """The real (offline) annotator behind the stub drills: it waits, records
    the call and fails as ``STUB_LATENCY_MS``/``STUB_FAULTS`` say, then
    annotates for real. The factory uses it only when a drill is set."""

    def __init__(self, annotator: Annotator) -> None:
        self._annotator = annotator

    def supports(self, language: str) -> bool:
        return self._annotator.supports(language)

    async def annotate(self, sentences: list[str], *, language: str) -> list[AnnotatedToken]:
        await stub_delay("annotate")
        return await self._annotator.annotate(sentences, language=language)
