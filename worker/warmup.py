"""Warm workers: a worker loads the language data of the languages it serves
(``WORKER_WARM_LANGUAGES``, by default every language we teach) as it starts,
so that no learner's first passage of a language pays for it (a second or
several a language: the tagger, the lemma dictionaries, the word frequencies
that the level estimate reads).

It loads them in a thread, one language after the other, while the worker
already takes jobs: a job of a language not loaded yet loads that language
itself, and waits only for its own language (the loaders lock per language),
never for the others.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterable

from langlearn import difficulty
from outbound import factory

logger = logging.getLogger(__name__)


def warm_language(language: str) -> None:
    """Load what a passage in ``language`` reads, in this process."""
    factory.warm_annotator(language)
    difficulty.warm(language)


def warm_languages(languages: Iterable[str], stop: threading.Event | None = None) -> None:
    """Load each language's data in turn; stop between two when ``stop`` is set."""
    started = time.monotonic()
    codes = list(languages)
    for language in codes:
        if stop is not None and stop.is_set():
            return
        begun = time.monotonic()
        warm_language(language)
        logger.info("language data loaded: %s in %.1fs", language, time.monotonic() - begun)
    if codes:
        logger.info(
            "language data loaded for %s in %.1fs", ", ".join(codes), time.monotonic() - started
        )


async def warm_in_background(languages: Iterable[str]) -> None:
    """``warm_languages`` in a thread; a failure is logged (the jobs of that
    language then load it themselves, and say why if they cannot). Cancelled
    (the worker stopping), it stops after the language it is loading."""
    stop = threading.Event()
    try:
        await asyncio.to_thread(warm_languages, list(languages), stop)
    except asyncio.CancelledError:
        stop.set()
        raise
    except Exception:
        logger.exception("loading language data failed")
