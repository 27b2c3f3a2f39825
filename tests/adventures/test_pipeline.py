"""The pipeline's order: the entry is started, then written, then recorded;
translate, annotate and voice start once the passage is recorded, so nothing is
asked of a provider for a passage that may not be stored."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from adventures.models import Audio, Entry, Sentence, Token
from adventures.services import entry_create

from tests.support.factories import make_adventure, make_user
from tests.support.pipeline import run_pipeline
from tests.support.processes import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def other_session() -> psycopg.Connection:
    """A second PostgreSQL session, as another process would have."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    return psycopg.connect(**params)


def calls(log: Path) -> list[str]:
    return log.read_text().split() if log.exists() else []


class Run(threading.Thread):
    """The real pipeline for one entry, in a thread of this process."""

    def __init__(self, entry: Entry) -> None:
        super().__init__(daemon=True)
        self.entry = entry
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            run_pipeline(self.entry)
        except BaseException as exc:
            self.error = exc
        finally:
            connection.close()


@contextlib.contextmanager
def refusing(table: str, message: str) -> Iterator[None]:
    """PostgreSQL refuses every insert into ``table`` meanwhile (a trigger),
    as a full disk or a read-only failover would."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN RAISE EXCEPTION '{message}'; END $$;
            CREATE TRIGGER refuse BEFORE INSERT ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION refuse();
            """
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER refuse ON {table}; DROP FUNCTION refuse();")


def run_to_its_end(entry: Entry, *, within: float) -> Run:
    """Run the pipeline and wait at most ``within`` seconds for it to end."""
    run = Run(entry)
    run.start()
    run.join(timeout=within)
    assert not run.is_alive()
    return run


@pytest.fixture
def first_entry(settings, tmp_path):
    settings.STUB_CALL_LOG = str(tmp_path / "calls.log")
    settings.LEVEL_FIT_RETRY = False
    adventure = make_adventure(make_user())
    return entry_create(adventure=adventure, position=1, is_final=False)


def test_the_steps_ask_their_providers_once_the_passage_is_recorded(settings, first_entry):
    log = Path(settings.STUB_CALL_LOG)
    run = Run(first_entry)
    with other_session() as session:
        # The record's first write is the passage's sentences: this session
        # keeps their table from taking rows (it may still be read) until it
        # lets go, so the record waits however soon the generator answers.
        session.execute("LOCK TABLE adventures_sentence IN SHARE MODE")
        run.start()
        wait_for(lambda: "generate" in calls(log), timeout=30, what="the generator to answer")
        wait_for(lambda: waiting_for_a_lock(session), timeout=30, what="the record to wait")
        assert calls(log) == ["generate"]  # no step has asked its provider yet
        held = Entry.objects.get(id=first_entry.id)
        assert held.generated_at is None  # the passage's record is still waiting
        assert not Sentence.objects.filter(entry=first_entry).exists()
        session.rollback()  # the record goes through, then the steps run
        run.join(timeout=60)
    assert run.error is None
    entry = Entry.objects.get(id=first_entry.id)
    assert entry.status == Entry.Status.COMPLETE
    assert entry.generated_at <= min(entry.translated_at, entry.annotated_at, entry.voiced_at)
    sentences = list(Sentence.objects.filter(entry=entry))
    assert sentences
    assert all(sentence.translation for sentence in sentences)
    assert all(choice.translation for choice in entry.choices.all())
    assert Token.objects.filter(entry=entry).exists()
    assert Audio.objects.filter(entry=entry).exists()
    assert calls(log).count("generate") == 1


def test_a_passage_that_cannot_be_recorded_keeps_no_step_and_stops_them(settings, first_entry):
    # The steps would take long; the record's failure must not wait for them.
    settings.STUB_LATENCY_MS = {"translate": 30_000, "voice": 30_000}
    log = Path(settings.STUB_CALL_LOG)
    with refusing("adventures_sentence", "the disk is full"):
        run = run_to_its_end(first_entry, within=25)  # well before either step's 30 s
    assert run.error is not None
    assert "the disk is full" in str(run.error)
    entry = Entry.objects.get(id=first_entry.id)
    assert entry.generated_at is None
    assert (entry.translated_at, entry.annotated_at, entry.voiced_at) == (None, None, None)
    assert not Token.objects.filter(entry=entry).exists()
    assert not Audio.objects.filter(entry=entry).exists()
    # The slow calls were cut off, not waited for (a stub logs a call once answered).
    assert "translate" not in calls(log)
    assert "voice" not in calls(log)
    # The job's retry writes the passage again and completes the entry.
    settings.STUB_LATENCY_MS = {}
    finished = run_pipeline(entry)
    assert finished.status == Entry.Status.COMPLETE
    assert calls(log).count("generate") == 2


def waiting_for_a_lock(session: psycopg.Connection) -> bool:
    """Whether another session waits for a lock that ``session`` holds
    (``pg_locks`` and ``pg_blocking_pids`` are read live; ``pg_stat_activity``
    would be a snapshot taken once per transaction). Only ``session``'s own
    locks count: other test runs share the server."""
    [(count,)] = session.execute(
        "SELECT count(*) FROM pg_locks "
        "WHERE NOT granted AND pg_backend_pid() = ANY(pg_blocking_pids(pid))"
    ).fetchall()
    return count > 0


def test_the_generator_is_asked_once_the_entry_is_generating(settings, first_entry):
    log = Path(settings.STUB_CALL_LOG)
    run = Run(first_entry)
    with other_session() as session:
        # Starting the entry (``generating``) locks the adventure's row too.
        session.execute(
            "SELECT 1 FROM adventures_adventure WHERE id = %s FOR UPDATE",
            [first_entry.adventure_id],
        )
        run.start()
        wait_for(lambda: waiting_for_a_lock(session), timeout=30, what="the start to wait")
        assert "generate" not in calls(log)
        assert Entry.objects.get(id=first_entry.id).status == Entry.Status.PENDING
        session.rollback()
        run.join(timeout=60)
    assert run.error is None
    entry = Entry.objects.get(id=first_entry.id)
    assert entry.status == Entry.Status.COMPLETE
    assert calls(log).count("generate") == 1


def test_a_start_that_fails_asks_no_provider(settings, first_entry):
    log = Path(settings.STUB_CALL_LOG)
    # Marking the entry ``generating`` writes an event: refused.
    with refusing("adventures_entryevent", "the database is read-only"):
        run = run_to_its_end(first_entry, within=25)
    assert run.error is not None
    assert "the database is read-only" in str(run.error)
    assert Entry.objects.get(id=first_entry.id).status == Entry.Status.PENDING
    assert "generate" not in calls(log)  # nothing paid for
