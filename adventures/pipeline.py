"""The entry pipeline: generate, then translate, annotate and voice side by side.

``run_entry_pipeline`` is what the worker's job calls. Each step stores its
result, with its ``Entry.*_at`` timestamp, in its own transaction before the
pipeline moves on. A run skips the steps already recorded, so a retried job
resumes where the last one stopped: the LLM is paid for once per entry however
often a later step fails. An entry already ``complete`` is left untouched, so
a duplicate job is harmless.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

import psycopg
from asgiref.sync import sync_to_async
from django.db import transaction
from django.utils import timezone
from procrastinate.contrib.django.utils import connector_params

from outbound import factory
from outbound.anthropic.base import GeneratedPassage, GenerationRequest, PastEntry
from outbound.errors import ProviderError

from .models import Adventure, Audio, Choice, Decision, Entry, Sentence, Token

logger = logging.getLogger(__name__)

LEARNER_ERROR_MESSAGE = "We could not write this part of the story. Please try again in a moment."
MIN_CHOICES, MAX_CHOICES = 2, 4


class EntryGone(Exception):
    """The entry was deleted, or does not belong to the adventure and user."""


@dataclass(frozen=True)
class Passage:
    """What the steps after generation need: the stored sentences and choices."""

    sentences: list[str]
    choice_ids: list[UUID]
    choices: list[str]


async def run_entry_pipeline(*, adventure_id: UUID, entry_id: UUID, user_id: UUID) -> None:
    async with entry_lock(entry_id) as acquired:
        if not acquired:
            # The same entry is being generated right now, by a job that was
            # re-queued while it still ran (the admin's "retry", a rescue that
            # raced a slow heartbeat). That run will finish the entry.
            logger.warning("entry %s is already being generated; skipping", entry_id)
            return
        await _run(adventure_id=adventure_id, entry_id=entry_id, user_id=user_id)


@asynccontextmanager
async def entry_lock(entry_id: UUID) -> AsyncIterator[bool]:
    """A PostgreSQL advisory lock on the entry, held on a connection of its own
    for the whole run: if the worker dies, the server drops the connection and
    the lock with it, so a lock can never outlive its holder."""
    params = await sync_to_async(connector_params)()
    key = int.from_bytes(entry_id.bytes[:8], "big", signed=True)
    async with await psycopg.AsyncConnection.connect(**params, autocommit=True) as conn:
        row = await (await conn.execute("SELECT pg_try_advisory_lock(%s)", [key])).fetchone()
        acquired = bool(row and row[0])
        try:
            yield acquired
        finally:
            if acquired and not conn.closed:
                await conn.execute("SELECT pg_advisory_unlock(%s)", [key])


async def _run(*, adventure_id: UUID, entry_id: UUID, user_id: UUID) -> None:
    entry = await _start(adventure_id=adventure_id, entry_id=entry_id, user_id=user_id)
    if entry is None:
        logger.info("entry %s is already complete; nothing to do", entry_id)
        return
    if entry.generated_at is None:
        await _generate(entry)
    passage = await _load_passage(entry)
    steps = []
    if entry.translated_at is None:
        steps.append(_translate(entry, passage))
    if entry.annotated_at is None:
        steps.append(_annotate(entry, passage))
    if entry.voiced_at is None:
        steps.append(_voice(entry, passage))
    # Each step saves its own result; a failing step does not cancel the others,
    # so whatever finished is kept for the retry.
    results = await asyncio.gather(*steps, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    await _complete(entry.id)


@sync_to_async
@transaction.atomic
def _start(*, adventure_id: UUID, entry_id: UUID, user_id: UUID) -> Entry | None:
    try:
        entry = (
            Entry.objects.select_for_update(of=("self",))
            .select_related("adventure")
            .get(id=entry_id, adventure_id=adventure_id, adventure__user_id=user_id)
        )
    except Entry.DoesNotExist:
        raise EntryGone(f"entry {entry_id} of adventure {adventure_id} does not exist") from None
    if entry.status == Entry.Status.COMPLETE:
        return None
    entry.status = Entry.Status.GENERATING
    entry.error_message = entry.error_detail = ""
    entry.save(update_fields=["status", "error_message", "error_detail", "updated_at"])
    return entry


@sync_to_async
def _generation_request(entry: Entry) -> GenerationRequest:
    adventure = entry.adventure
    earlier = list(
        Entry.objects.filter(adventure=adventure, position__lt=entry.position)
        .select_related("decision__choice")
        .order_by("position")
    )
    history = []
    for past in earlier:
        decision = getattr(past, "decision", None)
        history.append(PastEntry(text=past.text, chosen=decision.choice.text if decision else None))
    chosen_index = None
    previous_decision = Decision.objects.filter(next_entry=entry).select_related("choice").first()
    if previous_decision is not None:
        chosen_index = previous_decision.choice.index
    return GenerationRequest(
        target_language=adventure.target_language,
        level=adventure.level,
        theme=adventure.theme,
        position=entry.position,
        is_final=entry.is_final,
        history=history,
        chosen_index=chosen_index,
    )


def check_passage(passage: GeneratedPassage, *, is_final: bool) -> None:
    """Reject a passage a learner could not use; the model may do better next time."""
    problem = None
    if not [s for s in passage.sentences if s.strip()]:
        problem = "the passage is empty"
    elif is_final and passage.choices:
        problem = "the final passage must not offer choices"
    elif not is_final and not MIN_CHOICES <= len(passage.choices) <= MAX_CHOICES:
        problem = f"expected {MIN_CHOICES}-{MAX_CHOICES} choices, got {len(passage.choices)}"
    elif any(not c.strip() for c in passage.choices):
        problem = "a choice is empty"
    if problem:
        raise ProviderError(f"unusable passage: {problem}", provider="generator", transient=True)


async def _generate(entry: Entry) -> None:
    request = await _generation_request(entry)
    passage = await factory.get_generator().generate(request)
    check_passage(passage, is_final=entry.is_final)
    await _save_generation(entry, passage)
    entry.generated_at = timezone.now()


@sync_to_async
@transaction.atomic
def _save_generation(entry: Entry, passage: GeneratedPassage) -> None:
    sentences = [s.strip() for s in passage.sentences if s.strip()]
    Sentence.objects.filter(entry=entry).delete()
    Choice.objects.filter(entry=entry).delete()
    Sentence.objects.bulk_create(
        Sentence(entry=entry, index=i, text=text) for i, text in enumerate(sentences)
    )
    Choice.objects.bulk_create(
        Choice(entry=entry, index=i, text=text.strip()) for i, text in enumerate(passage.choices)
    )
    Entry.objects.filter(id=entry.id).update(
        text=" ".join(sentences),
        generated_at=timezone.now(),
        llm_input_tokens=passage.input_tokens,
        llm_output_tokens=passage.output_tokens,
        updated_at=timezone.now(),
    )
    if entry.position == 1 and passage.title:
        Adventure.objects.filter(id=entry.adventure_id).update(
            title=passage.title.strip()[:200], updated_at=timezone.now()
        )


@sync_to_async
def _load_passage(entry: Entry) -> Passage:
    choices = list(Choice.objects.filter(entry=entry).order_by("index").values_list("id", "text"))
    return Passage(
        sentences=list(
            Sentence.objects.filter(entry=entry).order_by("index").values_list("text", flat=True)
        ),
        choice_ids=[choice_id for choice_id, _ in choices],
        choices=[text for _, text in choices],
    )


async def _translate(entry: Entry, passage: Passage) -> None:
    adventure = entry.adventure
    texts = passage.sentences + passage.choices
    result = await factory.get_translator().translate(
        texts,
        source_language=adventure.target_language,
        target_language=adventure.native_language,
        context=" ".join(passage.sentences),
    )
    if len(result.texts) != len(texts):
        raise ProviderError(
            f"expected {len(texts)} translations, got {len(result.texts)}",
            provider="translator",
            transient=True,
        )
    await _save_translation(entry, passage, result.texts, result.billed_characters)


@sync_to_async
@transaction.atomic
def _save_translation(entry: Entry, passage: Passage, texts: list[str], billed: int) -> None:
    count = len(passage.sentences)
    for index, translation in enumerate(texts[:count]):
        Sentence.objects.filter(entry=entry, index=index).update(translation=translation)
    for choice_id, translation in zip(passage.choice_ids, texts[count:], strict=True):
        Choice.objects.filter(id=choice_id).update(translation=translation)
    Entry.objects.filter(id=entry.id).update(
        translated_at=timezone.now(),
        translated_characters=billed,
        updated_at=timezone.now(),
    )


async def _annotate(entry: Entry, passage: Passage) -> None:
    tokens = await factory.get_annotator().annotate(
        passage.sentences, language=entry.adventure.target_language
    )
    await _save_tokens(entry, tokens)


@sync_to_async
@transaction.atomic
def _save_tokens(entry: Entry, tokens: list) -> None:
    Token.objects.filter(entry=entry).delete()
    Token.objects.bulk_create(
        Token(
            entry=entry,
            index=i,
            sentence=token.sentence,
            text=token.text[:200],
            lemma=token.lemma[:200],
            pos=token.pos[:16],
        )
        for i, token in enumerate(tokens)
    )
    Entry.objects.filter(id=entry.id).update(annotated_at=timezone.now(), updated_at=timezone.now())


async def _voice(entry: Entry, passage: Passage) -> None:
    speech = await factory.get_voice().synthesize(
        " ".join(passage.sentences), language=entry.adventure.target_language
    )
    extension = "wav" if "wav" in speech.content_type else "bin"
    name = f"audio/{entry.adventure_id}/{entry.id}.{extension}"
    storage = factory.get_audio_storage()
    stored = await asyncio.to_thread(
        storage.save, name, speech.audio, content_type=speech.content_type
    )
    await _save_audio(entry, stored, speech.content_type, speech.duration_ms, len(speech.audio))


@sync_to_async
@transaction.atomic
def _save_audio(entry: Entry, name: str, content_type: str, duration_ms: int, size: int) -> None:
    Audio.objects.update_or_create(
        entry=entry,
        defaults={
            "file": name,
            "content_type": content_type,
            "duration_ms": duration_ms,
            "size_bytes": size,
        },
    )
    Entry.objects.filter(id=entry.id).update(
        voiced_at=timezone.now(),
        audio_seconds=Decimal(duration_ms) / 1000,
        updated_at=timezone.now(),
    )


@sync_to_async
@transaction.atomic
def _complete(entry_id: UUID) -> None:
    entry = Entry.objects.select_for_update().select_related("adventure").get(id=entry_id)
    entry.status = Entry.Status.COMPLETE
    entry.completed_at = timezone.now()
    entry.save(update_fields=["status", "completed_at", "updated_at"])
    adventure = entry.adventure
    adventure.status = Adventure.Status.COMPLETED if entry.is_final else Adventure.Status.ACTIVE
    adventure.save(update_fields=["status", "updated_at"])


@sync_to_async
@transaction.atomic
def entry_fail(*, entry_id: UUID, detail: str) -> None:
    """Record the last failure of an entry for the learner and for staff."""
    try:
        entry = Entry.objects.select_for_update().select_related("adventure").get(id=entry_id)
    except Entry.DoesNotExist:
        return
    if entry.status == Entry.Status.COMPLETE:
        return
    entry.status = Entry.Status.ERROR
    entry.error_message = LEARNER_ERROR_MESSAGE
    entry.error_detail = detail[:4000]
    entry.save(update_fields=["status", "error_message", "error_detail", "updated_at"])
    adventure = entry.adventure
    adventure.status = Adventure.Status.ERROR
    adventure.save(update_fields=["status", "updated_at"])
