"""The digest pipeline: write, then translate, annotate and voice side by side.

The same shape and the same provider roles as an entry's (``worker.providers``).
Each step records its result with its ``Digest.*_at`` timestamp before the
pipeline moves on, and a run skips the recorded steps: the LLM is paid once per
digest however often a later step fails. A complete digest is left untouched,
and an advisory lock keeps a digest out of two runs at once (a worker's job and
``build_digest``).
"""

from __future__ import annotations

import logging

from langlearn import metrics
from outbound import factory
from outbound.errors import ProviderError
from outbound.roles import digest_problem
from worker.locks import advisory_lock
from worker.orm import db
from worker.providers import annotate_sentences, call_provider, speak, translate_texts
from worker.steps import side_by_side

from . import digests
from .models import Digest

logger = logging.getLogger(__name__)

# The first number of the digests' two-number lock keys; entries' locks take
# one number, a key space of their own.
LOCK_SPACE = 12


async def run_digest_pipeline(*, digest_id: int) -> bool:
    """Build the digest; False when another process is building it right now
    (a worker's job, ``build_digest``): that run finishes it."""
    async with advisory_lock(LOCK_SPACE, digest_id) as acquired:
        if not acquired:
            logger.warning("digest %s is already being built; skipping", digest_id)
            return False
        await _run(digest_id)
        return True


async def _run(digest_id: int) -> None:
    digest = await db(digests.digest_start)(digest_id=digest_id)
    if digest is None:
        logger.info("digest %s is complete or gone; nothing to do", digest_id)
        return
    if digest.generated_at is None:
        await write(digest)
    sentences = await db(digests.digest_sentences)(digest_id=digest.id)
    await side_by_side(
        *(
            step(digest, sentences)
            for step, done in (
                (translate, digest.translated_at),
                (annotate, digest.annotated_at),
                (voice, digest.voiced_at),
            )
            if done is None
        )
    )
    await db(digests.digest_complete)(digest_id=digest.id)


async def write(digest: Digest) -> None:
    request, item_ids = await db(digests.digest_request)(digest=digest)
    if not request.items:
        raise ProviderError(f"no news items for {digest.date}", provider="digest", transient=False)

    async def usable_digest():
        written = await factory.get_digest_writer().write_digest(request)
        problem = digest_problem(written.sentences, written.cited, items=len(request.items))
        if problem:
            raise ProviderError(f"unusable digest: {problem}", provider="writer", transient=True)
        return written

    written = await call_provider("generate", usable_digest)
    metrics.LLM_TOKENS.labels("input").inc(written.input_tokens)
    metrics.LLM_TOKENS.labels("output").inc(written.output_tokens)
    await db(digests.digest_record_generation)(
        digest_id=digest.id, written=written, item_ids=item_ids
    )


async def translate(digest: Digest, sentences: list[str]) -> None:
    """Into each native language not translated yet (see ``news.digests``)."""
    wanted = await db(digests.native_languages)(target_language=digest.target_language)
    done = await db(digests.digest_translated_languages)(digest_id=digest.id)
    for language in wanted:
        if language in done:
            continue
        result = await translate_texts(
            sentences,
            source_language=digest.target_language,
            target_language=language,
            context=" ".join(sentences),
        )
        await db(digests.digest_record_translation)(
            digest_id=digest.id,
            language=language,
            texts=result.texts,
            billed_characters=result.billed_characters,
        )
    await db(digests.digest_record_translated)(digest_id=digest.id)


async def annotate(digest: Digest, sentences: list[str]) -> None:
    tokens = await annotate_sentences(sentences, language=digest.target_language)
    await db(digests.digest_record_tokens)(digest_id=digest.id, tokens=tokens)


async def voice(digest: Digest, sentences: list[str]) -> None:
    stored = await speak(
        sentences,
        language=digest.target_language,
        name=f"audio/digests/{digest.date}/{digest.target_language}-{digest.level}-{digest.id}",
    )
    await db(digests.digest_record_audio)(
        digest_id=digest.id,
        name=stored.name,
        content_type=stored.content_type,
        duration_ms=stored.duration_ms,
        size_bytes=stored.size_bytes,
        sentence_offsets=stored.offsets,
    )
