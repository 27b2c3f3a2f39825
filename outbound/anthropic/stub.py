from __future__ import annotations

from django.conf import settings

from outbound.errors import ProviderError
from outbound.roles import DigestRequest, GeneratedPassage, GenerationRequest, WrittenDigest
from outbound.stubs import corpus
from outbound.stubs.drills import stub_delay

# The sentence that works the learner's words into a stub passage, in the
# order of corpus.LANGUAGES. Each word stands alone between commas, as given,
# so the annotator finds it with itself as the lemma.
REVIEW_SENTENCE = (
    "In your notebook you read these words: {words}.",
    "En tu cuaderno lees estas palabras: {words}.",
    "Dans ton carnet, tu lis ces mots : {words}.",
    "In deinem Heft liest du diese Wörter: {words}.",
    "Nel tuo quaderno leggi queste parole: {words}.",
    "No teu caderno lês estas palavras: {words}.",
)


class StubGenerator:
    """Tells the corpus story in the target language, deterministically.

    Each passage after the first opens with the consequence of the choice that
    led to it; the final passage concludes the story and offers no choices.
    The learner's words to review (``request.review_words``), if any, come in
    one sentence after the scene's (``REVIEW_SENTENCE``).

    Its story is the same at every level, so asking again for simpler words
    cannot help, and it says so (``follows_level_hints``) unless the off-level
    drill is on: ``STUB_OFF_LEVEL=first`` adds a sentence of rare words
    (``corpus.OFF_LEVEL``) to each passage and leaves it out when asked again
    with ``off_level_words``; ``always`` makes the re-ask worse still (both
    sentences), so the first passage is the better one.
    """

    @property
    def follows_level_hints(self) -> bool:
        return bool(settings.STUB_OFF_LEVEL)

    async def generate(self, request: GenerationRequest) -> GeneratedPassage:
        await stub_delay("generate")
        lang = request.target_language
        if lang not in corpus.LANGUAGES:
            raise ProviderError(
                f"the stub generator cannot write in {lang!r}",
                provider="stub-generator",
                transient=False,
            )
        column = corpus.LANGUAGES.index(lang)
        sentences: list[str] = []
        if request.position > 1 and request.chosen_index is not None:
            previous = corpus.scene_for(request.position - 1, is_final=False)
            if request.chosen_index < len(previous.choices):
                sentences.append(previous.choices[request.chosen_index].reaction[column])
        scene = corpus.scene_for(request.position, is_final=request.is_final)
        sentences.extend(row[column] for row in scene.sentences)
        if request.review_words:
            listed = ", ".join(request.review_words)
            sentences.append(REVIEW_SENTENCE[column].format(words=listed))
        sentences.extend(self._off_level(request, column))
        choices = [choice.text[column] for choice in scene.choices]
        words = sum(len(s.split()) for s in sentences + choices)
        return GeneratedPassage(
            sentences=sentences,
            choices=choices,
            title=corpus.TITLE[column] if request.position == 1 else None,
            input_tokens=200 + 40 * len(request.history),
            output_tokens=int(words * 1.6),
        )

    def _off_level(self, request: GenerationRequest, column: int) -> list[str]:
        drill = settings.STUB_OFF_LEVEL
        if not drill or (drill == "first" and request.off_level_words):
            return []
        rows = corpus.OFF_LEVEL if request.off_level_words else corpus.OFF_LEVEL[:1]
        return [row[column] for row in rows]


# What the stub digest writer says around the headlines, per language we teach
# (and English): an opening line, then "Item n: headline." for each item used.
DIGEST_PHRASES = {
    "en": ("Here is the news of {date}.", "News {number}: {headline}", "That is all for today."),
    "es": (
        "Estas son las noticias del {date}.",
        "Noticia {number}: {headline}",
        "Eso es todo por hoy.",
    ),
    "fr": (
        "Voici les nouvelles du {date}.",
        "Nouvelle {number} : {headline}",
        "C'est tout pour aujourd'hui.",
    ),
    "de": (
        "Hier sind die Nachrichten vom {date}.",
        "Meldung {number}: {headline}",
        "Das ist alles für heute.",
    ),
    "it": ("Ecco le notizie del {date}.", "Notizia {number}: {headline}", "Per oggi è tutto."),
    "pt": ("Estas são as notícias de {date}.", "Notícia {number}: {headline}", "É tudo por hoje."),
}
DIGEST_ITEMS = 3  # how many items the stub reading uses


class StubDigestWriter:
    """Writes a deterministic reading from the items, in any language we teach:
    an opening line, one line per item (same-language items first, as offered),
    a closing line; it cites the items it used. Its calls count as ``generate``
    for the drills (``STUB_LATENCY_MS``, ``STUB_FAULTS``, ``STUB_CALL_LOG``)."""

    async def write_digest(self, request: DigestRequest) -> WrittenDigest:
        await stub_delay("generate")
        phrases = DIGEST_PHRASES.get(request.target_language)
        if phrases is None:
            raise ProviderError(
                f"the stub digest writer cannot write in {request.target_language!r}",
                provider="stub-generator",
                transient=False,
            )
        opening, line, closing = phrases
        used = request.items[:DIGEST_ITEMS]
        sentences = [opening.format(date=request.date)]
        sentences += [
            _sentence(line.format(number=n, headline=item.headline.strip()))
            for n, item in enumerate(used, start=1)
        ]
        sentences.append(closing)
        words = sum(len(sentence.split()) for sentence in sentences)
        return WrittenDigest(
            sentences=sentences,
            cited=[item.number for item in used],
            title=opening.format(date=request.date).rstrip("."),
            input_tokens=150 + 30 * len(request.items),
            output_tokens=int(words * 1.6),
        )


def _sentence(text: str) -> str:
    return text if text[-1:] in {".", "!", "?", "…"} else text + "."
