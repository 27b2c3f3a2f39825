"""The benchmark's ``level`` section (``bench/sections/level.py``): simulated
learners' stories played through the pipeline's entry point on the test
database, with the stub, its off-level drill and the Anthropic client against
the fake Messages API; the figures are those the entries recorded."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from adventures.models import Entry
from bench.plan import Plan
from bench.sections import level

from tests.support.database import truncate_jobs


@pytest.mark.django_db(transaction=True)
def test_simulated_learners_coverage_new_words_and_reasks_per_generator_and_level():
    truncate_jobs()
    plan = Plan.make(quick=True, database="unused_bench", latencies={})
    plan = replace(plan, level_learners=1, level_passages=1, level_cost_samples=4)
    try:
        figures = level.measure(plan)
    finally:
        # The pipeline's ORM thread (thread-sensitive, shared) keeps its own connection.
        asyncio.run(sync_to_async(connections.close_all, thread_sensitive=True)())

    assert set(figures) == {*level.GENERATORS, "measure_ms"}
    for generator in level.GENERATORS:
        assert set(figures[generator]) == set(level.LEVELS)
        for name in level.LEVELS:
            row = figures[generator][name]
            assert row["passages"] == 1
            assert 0 < row["known"]["min"] <= row["known"]["p50"] <= row["known"]["max"] < 1
            # The learners' own learning words are woven in: some running words are theirs.
            assert row["learning"]["max"] > 0
            assert row["new_words"]["min"] >= 0
            assert 0 <= row["within_budget"] <= 1
    # The stub cannot write to a level and says so: it is never asked again;
    # its drill always is (a sentence of rare words in every first attempt).
    assert all(figures["stub"][name]["reask_rate"] == 0 for name in level.LEVELS)
    assert figures["stub_off_level"]["A1"]["reask_rate"] == 1
    assert sum(figures["stub_off_level"]["A1"]["reasked_for"].values()) == 1
    # A learner's vocabulary grows with the level: fewer new words in the same story.
    stub = figures["stub"]
    assert stub["A1"]["new_words"]["p50"] >= stub["B1"]["new_words"]["p50"]
    assert stub["A1"]["known"]["p50"] <= stub["B1"]["known"]["p50"]
    # Every passage was measured for its learner when it was written.
    written = Entry.objects.filter(generated_at__isnull=False)
    assert written.count() == len(level.LEVELS) * len(level.GENERATORS)
    assert not written.filter(coverage={}).exists()
    assert set(figures["measure_ms"]) == {"p50", "p95", "p99", "max"}
    assert 0 < figures["measure_ms"]["p50"] <= figures["measure_ms"]["max"]
