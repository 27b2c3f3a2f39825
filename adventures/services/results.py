"""What the pipeline's steps found, stored on the entry.

One function per step, each in its own transaction: it writes the step's rows
and its ``Entry.*_at`` timestamp together, so a step is either recorded whole
or not at all, and a retried job skips exactly the recorded steps. Step results
never change an entry's status; ``lifecycle`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from django.db import connection, transaction
from django.db.models import Case, Value, When
from django.utils import timezone

from langlearn import levels
from outbound.roles import AnnotatedToken, GeneratedPassage

from .. import weaving
from ..models import Adventure, Choice, Entry, Sentence, Token
from ..selectors import Passage

if TYPE_CHECKING:
    from ..levelfit import Measured

TITLE_LENGTH = 200


def _to_store(passage: GeneratedPassage) -> Passage:
    """What ``entry_record_generation`` stores of ``passage``."""
    return Passage(
        sentences=[s.strip() for s in passage.sentences if s.strip()],
        choice_ids=[uuid4() for _ in passage.choices],
        choices=[text.strip() for text in passage.choices],
    )


@transaction.atomic
def entry_record_generation(
    *,
    entry: Entry,
    passage: GeneratedPassage,
    review_words: list[str] | None = None,
    level: Measured | None = None,
    regenerated: bool = False,
    reasked_for: str = "",
) -> Passage:
    """The passage, its choices and what the LLM billed; the story's title
    with the first passage; the learner's words it was asked to use; how well
    it fits the level and how much of it the learner knows, when measured
    (``levelfit``), and why it was asked for once more if it was. Returns what was stored (what
    ``selectors.entry_passage`` would read back), so the next steps need not
    read it again."""
    stored = _to_store(passage)
    sentences = stored.sentences
    # Recorded once: the rows below and ``generated_at`` commit together, and a
    # run never generates an entry whose ``generated_at`` is set.
    Sentence.objects.bulk_create(
        Sentence(entry=entry, index=i, text=text) for i, text in enumerate(sentences)
    )
    Choice.objects.bulk_create(
        Choice(id=choice_id, entry=entry, index=i, text=text)
        for i, (choice_id, text) in enumerate(zip(stored.choice_ids, stored.choices, strict=True))
    )
    now = timezone.now()
    Entry.objects.filter(id=entry.id).update(
        text=" ".join(sentences),
        generated_at=now,
        llm_input_tokens=passage.input_tokens,
        llm_output_tokens=passage.output_tokens,
        review_words=list(review_words or []),
        review_words_used=[],
        updated_at=now,
        **_level_fields(level, regenerated, reasked_for),
    )
    if entry.position == 1 and passage.title:
        Adventure.objects.filter(id=entry.adventure_id).update(
            title=passage.title.strip()[:TITLE_LENGTH], updated_at=now
        )
    return stored


def _level_fields(measured: Measured | None, regenerated: bool, reasked_for: str) -> dict:
    if measured is None:
        return {}
    return {
        "coverage": measured.coverage.as_dict() if measured.coverage else {},
        "level_reasked_for": reasked_for,
        "level_fit": measured.fit.share,
        "level_content_lemmas": measured.fit.content_lemmas,
        "level_words_above": measured.estimate.words_above(measured.level),
        "level_regenerated": regenerated,
        "level_estimate": measured.estimate.value,
        "level_reasons": measured.estimate.reasons(measured.level),
    }


@transaction.atomic
def entry_record_translation(
    *,
    entry_id: UUID,
    sentences: list[str],
    choices: dict[UUID, str],
    billed_characters: int,
) -> None:
    """One translation per sentence (in order) and per choice (by id)."""
    # One UPDATE per table (the worker's one database thread serves every job).
    if sentences:
        Sentence.objects.filter(entry_id=entry_id, index__lt=len(sentences)).update(
            translation=Case(*(When(index=i, then=Value(t)) for i, t in enumerate(sentences)))
        )
    if choices:
        Choice.objects.filter(entry_id=entry_id, id__in=choices).update(
            translation=Case(*(When(id=id_, then=Value(t)) for id_, t in choices.items()))
        )
    now = timezone.now()
    Entry.objects.filter(id=entry_id).update(
        translated_at=now, translated_characters=billed_characters, updated_at=now
    )


def entry_record_tokens(*, entry_id: UUID, tokens: list[AnnotatedToken]) -> None:
    """The passage's tokens with their lemmas, parts of speech and, for
    content words, the frequency band of the lemma (``langlearn.levels``;
    looked up before the transaction: the first lookup of a language loads
    its frequencies, a second or two), and which of the words the passage was
    asked to use it does use."""
    language = Entry.objects.values_list("adventure__target_language", flat=True).get(id=entry_id)
    bands = levels.content_bands(
        [levels.Word(t.text, t.lemma, t.pos, t.sentence) for t in tokens], language=language
    )
    with transaction.atomic():
        Token.objects.filter(entry_id=entry_id).delete()
        Token.objects.bulk_create(
            Token(
                entry_id=entry_id,
                index=i,
                sentence=token.sentence,
                text=token.text[:200],
                lemma=token.lemma[:200],
                pos=token.pos[:16],
                band=band,
            )
            for i, (token, band) in enumerate(zip(tokens, bands, strict=True))
        )
        requested = Entry.objects.filter(id=entry_id).values_list("review_words", flat=True).first()
        used = weaving.used_review_words(requested or [], (token.lemma for token in tokens))
        now = timezone.now()
        Entry.objects.filter(id=entry_id).update(
            annotated_at=now, review_words_used=used, updated_at=now
        )


# The audio's record in one statement: it is the last step on the critical
# path of an entry a learner waits for, and the ORM's three (a CASE per
# column for the sentences' places, an upsert, the entry's update) cost about
# 1.5 ms more to build than to run. The sentences' places by index; the audio
# row inserted, or replaced when a retried step voiced the passage again
# (``created_at`` kept); ``voiced_at`` with them.
_AUDIO_RECORD_SQL = """
WITH places AS (
    UPDATE adventures_sentence AS sentence
    SET start_ms = place.start_ms, end_ms = place.end_ms
    FROM unnest(%(indexes)s::integer[], %(starts)s::integer[], %(ends)s::integer[])
        AS place("index", start_ms, end_ms)
    WHERE sentence.entry_id = %(entry_id)s AND sentence."index" = place."index"
), audio AS (
    INSERT INTO adventures_audio
        (entry_id, file, content_type, duration_ms, size_bytes, created_at)
    VALUES (%(entry_id)s, %(file)s, %(content_type)s, %(duration_ms)s, %(size_bytes)s, %(now)s)
    ON CONFLICT (entry_id) DO UPDATE SET
        file = EXCLUDED.file,
        content_type = EXCLUDED.content_type,
        duration_ms = EXCLUDED.duration_ms,
        size_bytes = EXCLUDED.size_bytes
)
UPDATE adventures_entry
SET voiced_at = %(now)s, audio_seconds = %(seconds)s, updated_at = %(now)s
WHERE id = %(entry_id)s
"""


@transaction.atomic
def entry_record_audio(
    *,
    entry_id: UUID,
    name: str,
    content_type: str,
    duration_ms: int,
    size_bytes: int,
    sentence_offsets: Sequence[tuple[int, int]] = (),
) -> None:
    """The stored audio file of the passage, how long it plays, and where in it
    each sentence is read (``(start_ms, end_ms)`` by sentence index)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _AUDIO_RECORD_SQL,
            {
                "entry_id": entry_id,
                "indexes": list(range(len(sentence_offsets))),
                "starts": [start for start, _ in sentence_offsets],
                "ends": [end for _, end in sentence_offsets],
                "file": name,
                "content_type": content_type,
                "duration_ms": duration_ms,
                "size_bytes": size_bytes,
                "seconds": Decimal(duration_ms) / 1000,
                "now": timezone.now(),
            },
        )
