"""The ``level`` section: passages aimed at simulated learners.

Learners at A1, A2 and B1 (Spanish), each judged by the vocabulary of their
level (no placement: ``basis: "level"``) and with words of their own from the
band just past it (the shipped placement pool's real words: half saved as
``learning``, so the weave asks for them, half marked ``known``), play stories
in this process through the pipeline's entry point
(``adventures.pipeline.run_entry_pipeline``, what the worker's task calls),
one decision after another, with three story generators:

- ``stub``: the stub story, which cannot write to a level (it never re-asks);
- ``stub_off_level``: the stub's off-level drill (``STUB_OFF_LEVEL=first``):
  every first attempt carries a sentence of rare words, left out when asked
  again: the re-ask at work;
- ``anthropic_fake``: the real Anthropic client (its SDK) against the
  project's fake of the Messages API (``tests/support/fakes/anthropic.py``),
  whose canned passages weave the learner's review words as the model is
  asked to.

Per generator and level, from what the entries record: ``known`` (the share
of running words the learner knew) and ``new_words`` (content lemmas neither
known nor learning) per passage, as ``{min, p10, p50, p90, max}``; the share of
passages within the level's new-word budget; the re-ask rate and why
(``reasked_for``); the median estimate. ``measure_ms``: what measuring one
passage costs, on its annotated tokens: the learner's placement read
(``adventures.coverage.target``, with the generation request), their statuses
read (``adventures.coverage.of_tokens``: one query for their words) and the
estimate, band share and coverage computed
(``adventures.levelfit.measure_tokens``), ``{p50, p95, p99, max}``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ..plan import Plan, step
from ..stats import distribution, percentile

LANGUAGE = "es"
LEVELS = ("A1", "A2", "B1")
GENERATORS = ("stub", "stub_off_level", "anthropic_fake")
OWN_WORDS = 10  # each learner's words past their vocabulary: half learning, half known


def measure(plan: Plan) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for generator in GENERATORS:
        figures[generator] = {}
        for level in LEVELS:
            with (
                step(
                    f"level: {plan.level_learners} {level} learners, {plan.level_passages} "
                    f"passages each, {generator}"
                ),
                _generator(generator),
            ):
                entries = [
                    entry
                    for learner in range(plan.level_learners)
                    for entry in asyncio.run(
                        _play(f"{generator}-{level}-{learner}", level, plan.level_passages)
                    )
                ]
            figures[generator][level] = _figures(entries, level)
    figures["measure_ms"] = _measure_cost(plan)
    return figures


@contextmanager
def _generator(name: str) -> Iterator[None]:
    from django.test import override_settings

    from outbound import factory

    if name == "anthropic_fake":
        from tests.support.fakes import anthropic

        with (
            anthropic.fake_anthropic() as server,
            override_settings(
                STUB_GENERATION=False,
                ANTHROPIC_API_KEY=anthropic.API_KEY,
                ANTHROPIC_BASE_URL=server.url,
                ANTHROPIC_MODEL=anthropic.MODEL,
            ),
        ):
            factory.reset()
            yield
    else:
        with override_settings(STUB_OFF_LEVEL="first" if name == "stub_off_level" else ""):
            factory.reset()
            yield
    factory.reset()


def _learner(username: str, level: str):
    from accounts.models import User
    from langlearn.difficulty import vocabulary as sizes
    from vocabulary import services
    from vocabulary.placement import items

    user = User.objects.create_user(username=username, password=None, native_language="en")
    # The pool's bands are 1,000 ranks wide: the band just past the vocabulary.
    band = items.pool(LANGUAGE).bands[sizes.VOCABULARY[level] // 1000]
    for i, item in enumerate(band[:OWN_WORDS]):
        saved = services.word_save(user=user, language=LANGUAGE, lemma=item.word)
        if i % 2:
            services.word_set_status(user=user, word_id=saved.word.id, status="known")
    return user


async def _play(username: str, level: str, passages: int) -> list[Any]:
    """One learner's story, ``passages`` long (or to its end); its entries."""
    from asgiref.sync import sync_to_async

    from adventures import services
    from adventures.models import Entry
    from adventures.pipeline import run_entry_pipeline

    user = await sync_to_async(_learner)(username, level)
    adventure = await sync_to_async(services.adventure_create)(
        user=user, target_language=LANGUAGE, level=level, theme="the sea"
    )
    entry = await Entry.objects.aget(adventure=adventure)
    played = []
    for _ in range(passages):
        await run_entry_pipeline(adventure_id=adventure.id, entry_id=entry.id, user_id=user.id)
        entry = await Entry.objects.select_related("adventure").aget(id=entry.id)
        played.append(entry)
        choice = await entry.choices.order_by("index").afirst()
        if choice is None:  # the story's end
            break
        decision = await sync_to_async(services.decision_record)(
            user=user, adventure_id=adventure.id, entry_id=entry.id, choice_id=choice.id
        )
        entry = await Entry.objects.aget(id=decision.next_entry_id)
    return played


def _spread(values: Sequence[float], digits: int = 3) -> dict[str, float]:
    return {
        "min": round(min(values), digits),
        "p10": round(percentile(values, 10), digits),
        "p50": round(percentile(values, 50), digits),
        "p90": round(percentile(values, 90), digits),
        "max": round(max(values), digits),
    }


def _figures(entries: list[Any], level: str) -> dict[str, Any]:
    from langlearn.difficulty.coverage import NEW_WORDS_BUDGET

    measured = [
        entry for entry in entries if entry.coverage and entry.coverage["known"] is not None
    ]
    new_words = [len(entry.coverage["new_words"]) for entry in measured]
    reasked = [entry.level_reasked_for for entry in entries if entry.level_regenerated]
    return {
        "passages": len(entries),
        "known": _spread([entry.coverage["known"] for entry in measured]),
        "learning": _spread([entry.coverage["learning"] for entry in measured]),
        "new_words": _spread(new_words, 1),
        "new_words_budget": NEW_WORDS_BUDGET[level],
        "within_budget": round(
            sum(count <= NEW_WORDS_BUDGET[level] for count in new_words) / len(new_words), 3
        ),
        "reask_rate": round(len(reasked) / len(entries), 3),
        "reasked_for": {reason: reasked.count(reason) for reason in sorted(set(reasked))},
        "estimate_p50": round(percentile([entry.level_estimate for entry in entries], 50), 2),
    }


def _measure_cost(plan: Plan) -> dict[str, float]:
    """Each passage the section wrote measured again, timed (its tokens
    annotated first, untimed: that is the annotate step's work)."""
    from adventures import coverage, levelfit
    from adventures.models import Entry
    from outbound import factory

    annotator = factory.get_lemmatizer()
    samples = []
    entries = Entry.objects.filter(generated_at__isnull=False).select_related("adventure")
    for entry in entries.order_by("generated_at")[: plan.level_cost_samples]:
        adventure = entry.adventure
        sentences = list(entry.sentences.order_by("index").values_list("text", flat=True))
        tokens = asyncio.run(annotator.annotate(sentences, language=adventure.target_language))
        started = time.perf_counter()
        size, basis = coverage.target(
            user_id=adventure.user_id, language=adventure.target_language, level=adventure.level
        )
        covered = coverage.of_tokens(
            tokens,
            reader=coverage.Reader(adventure.user_id, size, basis),
            language=adventure.target_language,
        )
        levelfit.measure_tokens(
            tokens,
            language=adventure.target_language,
            level=adventure.level,
            exclude=set(),
            covered=covered,
        )
        samples.append((time.perf_counter() - started) * 1000)
    return distribution(samples[1:] or samples)  # the first loads the language's data
