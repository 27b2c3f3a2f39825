"""Live status (issue 14): ``GET /api/adventures/{id}/events`` and its ticket.

The stream is read in-process through Django's ASGI request handling
(``AsyncClient``), with status changes committed for real by the lifecycle
services meanwhile: events travel through PostgreSQL ``NOTIFY`` to the
process's one listening connection. The tests are transactional (NOTIFY is only
delivered on commit), and every read waits with a deadline, never a sleep.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.core import signing
from django.db import connection, transaction
from django.test import AsyncClient
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from accounts.tokens import refresh_token_for
from adventures import live
from adventures.api.events import TICKET_SALT
from adventures.models import Adventure, Entry, EntryEvent
from adventures.services import lifecycle

from tests.support.api import client_for
from tests.support.factories import make_adventure, make_user

pytestmark = pytest.mark.django_db(transaction=True)

READ_TIMEOUT = 10.0


@dataclass
class Block:
    """One Server-Sent Events block: an event, a comment or a retry hint."""

    id: str | None = None
    event: str = "message"
    data: Any = None
    comments: list[str] = field(default_factory=list)
    retry: int | None = None


def parse_block(text: str) -> Block:
    block = Block()
    for line in text.split("\n"):
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "":
            block.comments.append(value)
        elif name == "id":
            block.id = value
        elif name == "event":
            block.event = value
        elif name == "data":
            block.data = json.loads(value)
        elif name == "retry":
            block.retry = int(value)
    return block


class Stream:
    def __init__(self, response: Any) -> None:
        self.response = response
        self.chunks: AsyncIterator[bytes] = aiter(response.streaming_content)
        self.buffer = ""
        self.ended = False

    async def next(self) -> Block:
        """The next block; fails after READ_TIMEOUT, or if the stream ended."""
        while "\n\n" not in self.buffer:
            try:
                chunk = await asyncio.wait_for(anext(self.chunks), READ_TIMEOUT)
            except StopAsyncIteration:
                self.ended = True
                raise AssertionError(f"the stream ended; left: {self.buffer!r}") from None
            self.buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        text, self.buffer = self.buffer.split("\n\n", 1)
        return parse_block(text)

    async def events(self, count: int) -> list[Block]:
        """The next ``count`` events (heartbeats skipped)."""
        found: list[Block] = []
        while len(found) < count:
            block = await self.next()
            if not block.comments and block.retry is None:
                found.append(block)
        return found

    async def assert_ends(self) -> None:
        try:
            chunk = await asyncio.wait_for(anext(self.chunks), READ_TIMEOUT)
        except StopAsyncIteration:
            return
        raise AssertionError(f"the stream went on: {chunk!r}")

    async def close(self) -> None:
        await self.chunks.aclose()  # type: ignore[attr-defined]


def token_for(user: User) -> str:
    return str(refresh_token_for(user).access_token)


async def open_stream(
    adventure_id: Any, *, token: str | None = None, query: str = "", **headers: str
) -> Any:
    if token:
        headers["Authorization"] = f"Bearer {token}"
    path = f"/api/adventures/{adventure_id}/events{query}"
    return await AsyncClient().get(path, headers=headers)


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    """Run ``scenario`` on an event loop of its own, as a web process would."""

    async def scenario_then_close() -> None:
        try:
            await scenario()
        finally:
            await live.hub().aclose()

    async_to_sync(scenario_then_close)()


def status_event(block: Block) -> tuple[int, str]:
    return block.data["position"], block.data["status"]


@pytest.fixture
def owner() -> User:
    return make_user("ana")


@pytest.fixture
def adventure(owner: User) -> Adventure:
    return make_adventure(owner)


@pytest.fixture
def token(owner: User) -> str:
    return token_for(owner)


def start(entry: Entry) -> None:
    lifecycle.entry_start(
        adventure_id=entry.adventure_id, entry_id=entry.id, user_id=entry.adventure.user_id
    )


# --- the stream ------------------------------------------------------------------------


def test_the_stream_sends_each_status_change_in_order_and_ends_when_the_story_does(
    owner, adventure, token
):
    async def scenario() -> None:
        response = await open_stream(adventure.id, token=token)
        assert response.status_code == 200
        assert response["Content-Type"] == "text/event-stream"
        assert response["Cache-Control"] == "no-cache"
        stream = Stream(response)
        assert (await stream.next()).retry == 2000

        entry = await sync_to_async(lifecycle.entry_create)(
            adventure=adventure, position=1, is_final=False
        )
        await sync_to_async(start)(entry)
        await sync_to_async(lifecycle.entry_complete)(entry_id=entry.id)
        first = await stream.events(3)
        assert [status_event(block) for block in first] == [
            (1, "pending"),
            (1, "generating"),
            (1, "complete"),
        ]
        assert {block.data["id"] for block in first} == {str(entry.id)}
        ids = [int(block.id or 0) for block in first]
        assert ids == sorted(set(ids))
        assert len(ids) == 3
        assert first[-1].data["adventure_status"] == "active"

        await sync_to_async(adventure.refresh_from_db)()
        final = await sync_to_async(lifecycle.entry_create)(
            adventure=adventure, position=2, is_final=True
        )
        await sync_to_async(start)(final)
        await sync_to_async(lifecycle.entry_complete)(entry_id=final.id)
        second = await stream.events(4)
        assert [status_event(block) for block in second[:3]] == [
            (2, "pending"),
            (2, "generating"),
            (2, "complete"),
        ]
        assert second[2].data["adventure_status"] == "completed"
        assert second[3].event == "end"
        assert second[3].data == {"adventure_status": "completed"}
        await stream.assert_ends()

    run(scenario)


def test_an_idle_stream_sends_a_comment_heartbeat(owner, adventure, token, settings):
    settings.EVENTS_HEARTBEAT_SECONDS = 0.05

    async def scenario() -> None:
        stream = Stream(await open_stream(adventure.id, token=token))
        await stream.next()  # retry
        beat = await stream.next()
        assert (beat.comments, beat.data) == (["heartbeat"], None)
        assert (await stream.next()).comments == ["heartbeat"]
        # ... and events still arrive between heartbeats.
        entry = await sync_to_async(lifecycle.entry_create)(
            adventure=adventure, position=1, is_final=False
        )
        (event,) = await stream.events(1)
        assert event.data["id"] == str(entry.id)
        await stream.close()

    run(scenario)


def test_a_client_resuming_with_last_event_id_gets_the_events_it_missed(owner, adventure, token):
    entry = lifecycle.entry_create(adventure=adventure, position=1, is_final=False)
    start(entry)
    seen, missed = EntryEvent.objects.filter(adventure=adventure).order_by("id")

    async def scenario() -> None:
        stream = Stream(
            await open_stream(adventure.id, token=token, **{"Last-Event-ID": str(seen.id)})
        )
        (replayed,) = await stream.events(1)
        assert (int(replayed.id or 0), status_event(replayed)) == (missed.id, (1, "generating"))
        await sync_to_async(lifecycle.entry_complete)(entry_id=entry.id)
        (live,) = await stream.events(1)
        assert status_event(live) == (1, "complete")
        assert int(live.id or 0) > missed.id
        await stream.close()

        # EventSource cannot set the header on a new connection: ?last_event_id= does too.
        again = Stream(
            await open_stream(adventure.id, token=token, query=f"?last_event_id={missed.id}")
        )
        (only,) = await again.events(1)
        assert only.id == live.id
        await again.close()

    run(scenario)


def test_an_adventure_already_over_replays_then_ends_at_once(owner, adventure, token):
    entry = lifecycle.entry_create(adventure=adventure, position=1, is_final=True)
    start(entry)
    lifecycle.entry_fail(entry_id=entry.id, detail="provider down")

    async def scenario() -> None:
        stream = Stream(await open_stream(adventure.id, token=token))
        blocks = await stream.events(4)
        assert [b.data.get("status") for b in blocks[:3]] == ["pending", "generating", "error"]
        assert (blocks[3].event, blocks[3].data) == ("end", {"adventure_status": "error"})
        await stream.assert_ends()

        last = blocks[2].id or ""
        resumed = Stream(await open_stream(adventure.id, token=token, **{"Last-Event-ID": last}))
        (end,) = await resumed.events(1)
        assert end.event == "end"
        await resumed.assert_ends()

    run(scenario)


def test_a_status_change_rolled_back_sends_no_event(owner, adventure, token):
    entry = lifecycle.entry_create(adventure=adventure, position=1, is_final=False)

    class Abandon(Exception):
        pass

    def start_then_roll_back() -> None:
        try:
            with transaction.atomic():
                start(entry)
                raise Abandon
        except Abandon:
            pass

    async def scenario() -> None:
        stream = Stream(await open_stream(adventure.id, token=token, **{"Last-Event-ID": "0"}))
        (created,) = await stream.events(1)
        await sync_to_async(start_then_roll_back)()
        await sync_to_async(lifecycle.entry_fail)(entry_id=entry.id, detail="gave up")
        # The next event is the committed failure: the rolled-back start never came.
        (event,) = await stream.events(1)
        assert status_event(event) == (1, "error")
        assert int(event.id or 0) > int(created.id or 0)
        await stream.close()

    run(scenario)
    assert list(
        EntryEvent.objects.filter(adventure=adventure).values_list("status", flat=True)
    ) == [
        "pending",
        "error",
    ]


def test_notify_is_sent_on_commit_only(owner, adventure, token):
    """At the PostgreSQL level: a listener hears the committed change, not the
    rolled-back one, and only once the transaction commits."""
    params = {
        key: value
        for key, value in connection.get_connection_params().items()
        if key not in {"context", "cursor_factory", "prepare_threshold"}
    }
    with psycopg.connect(autocommit=True, **params) as listener:
        listener.execute(f"LISTEN {lifecycle.EVENTS_CHANNEL}")
        with transaction.atomic():
            entry = lifecycle.entry_create(adventure=adventure, position=1, is_final=False)
            assert list(listener.notifies(timeout=0.2)) == []  # not before the commit
        try:
            with transaction.atomic():
                start(entry)
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        lifecycle.entry_fail(entry_id=entry.id, detail="gave up")
        heard = [json.loads(n.payload) for n in listener.notifies(timeout=5, stop_after=2)]
    assert [(n["status"], n["id"]) for n in heard] == [
        ("pending", str(entry.id)),
        ("error", str(entry.id)),
    ]
    assert heard[0]["adventure_id"] == str(adventure.id)
    assert heard[0]["position"] == 1
    assert heard[0]["event_id"] < heard[1]["event_id"]


# --- who may listen -----------------------------------------------------------------


def test_a_ticket_lets_an_event_source_listen_without_a_token_in_the_url(owner, adventure, token):
    response = client_for(owner).post(f"/api/adventures/{adventure.id}/events/ticket")
    assert response.status_code == 201
    ticket, expires_in = response.json()["ticket"], response.json()["expires_in"]
    assert expires_in == 60
    assert token_for(owner) not in ticket

    async def scenario() -> None:
        stream = Stream(await open_stream(adventure.id, query=f"?ticket={ticket}"))
        await stream.next()  # retry
        entry = await sync_to_async(lifecycle.entry_create)(
            adventure=adventure, position=1, is_final=False
        )
        (event,) = await stream.events(1)
        assert event.data["id"] == str(entry.id)
        await stream.close()

    run(scenario)


def error_of(response: Any) -> tuple[int, str]:
    return response.status_code, json.loads(response.content)["code"]


def test_the_stream_refuses_missing_bad_expired_and_foreign_credentials(owner, adventure, token):
    other_user = make_user("bea")
    others_adventure = make_adventure(other_user)
    my_second = make_adventure(owner)

    def ticket(user: User, adventure_id: Any) -> str:
        return (
            client_for(user).post(f"/api/adventures/{adventure_id}/events/ticket").json()["ticket"]
        )

    class PastSigner(signing.TimestampSigner):
        def timestamp(self) -> str:
            return signing.b62_encode(int(time.time()) - 61)

    expired = PastSigner(salt=TICKET_SALT).sign_object(
        {"u": str(owner.id), "a": str(adventure.id), "v": owner.token_version}
    )
    for_second = ticket(owner, my_second.id)
    others = ticket(other_user, others_adventure.id)
    before_password_change = ticket(owner, adventure.id)
    old_token = token_for(owner)
    refresh = str(RefreshToken.for_user(owner))  # not an access token

    async def scenario() -> None:
        assert error_of(await open_stream(adventure.id)) == (401, "not_authenticated")
        assert error_of(await open_stream(adventure.id, token="nonsense")) == (
            401,
            "token_not_valid",
        )
        assert error_of(await open_stream(adventure.id, token=refresh))[0] == 401
        assert error_of(await open_stream(adventure.id, query=f"?ticket={expired}")) == (
            401,
            "ticket_expired",
        )
        assert error_of(await open_stream(adventure.id, query="?ticket=forged:abc:def")) == (
            401,
            "ticket_invalid",
        )
        # A ticket is for one adventure and one learner.
        assert error_of(await open_stream(adventure.id, query=f"?ticket={for_second}")) == (
            401,
            "ticket_invalid",
        )
        assert error_of(await open_stream(adventure.id, query=f"?ticket={others}")) == (
            401,
            "ticket_invalid",
        )
        assert error_of(
            await open_stream(adventure.id, query="?last_event_id=x", token=old_token)
        ) == (
            400,
            "invalid",
        )

    run(scenario)

    # A password change revokes tokens and tickets issued before it.
    owner.set_password("another-long-passphrase")
    owner.save()

    async def after_password_change() -> None:
        assert error_of(await open_stream(adventure.id, token=old_token)) == (401, "token_revoked")
        assert error_of(
            await open_stream(adventure.id, query=f"?ticket={before_password_change}")
        ) == (401, "token_revoked")

    run(after_password_change)


def test_only_the_owner_gets_events_or_tickets_others_get_404(owner, adventure, token):
    other = make_user("bea")
    other_token = token_for(other)
    response = client_for(other).post(f"/api/adventures/{adventure.id}/events/ticket")
    assert response.status_code == 404
    assert (
        client_for(other).post(f"/api/adventures/{uuid.uuid4()}/events/ticket").status_code == 404
    )
    assert client_for(owner).get(f"/api/adventures/{adventure.id}/events/ticket").status_code == 405

    async def scenario() -> None:
        assert error_of(await open_stream(adventure.id, token=other_token)) == (
            404,
            "not_found",
        )
        assert error_of(await open_stream(uuid.uuid4(), token=token)) == (
            404,
            "not_found",
        )
        refused = await AsyncClient().post(
            f"/api/adventures/{adventure.id}/events",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert refused.status_code == 405

    run(scenario)


def test_many_streams_share_one_listening_connection(owner, adventure, token):
    """Twenty streams of one process: the database sees one LISTEN connection
    (and one for the streams' reads), not one per stream."""

    def backends() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
            return cursor.fetchone()[0]

    before = backends()

    async def scenario() -> None:
        streams = [Stream(await open_stream(adventure.id, token=token)) for _ in range(20)]
        for stream in streams:
            await stream.next()  # retry
        assert await sync_to_async(backends)() - before <= 2
        await sync_to_async(lifecycle.entry_create)(adventure=adventure, position=1, is_final=False)
        for stream in streams:
            (event,) = await stream.events(1)
            assert status_event(event) == (1, "pending")
            await stream.close()

    run(scenario)


def test_a_stream_closes_after_events_stream_seconds_without_end(owner, adventure, token, settings):
    """EventSource then reconnects and resumes (Last-Event-ID)."""
    settings.EVENTS_STREAM_SECONDS = 0.3
    settings.EVENTS_HEARTBEAT_SECONDS = 0.1

    async def scenario() -> None:
        stream = Stream(await open_stream(adventure.id, token=token))
        assert (await stream.next()).retry == 2000
        while "\n\n" in stream.buffer or not stream.ended:
            try:
                block = await stream.next()
            except AssertionError:
                break
            assert block.comments == ["heartbeat"]  # no event, and no end
        assert stream.ended

    run(scenario)


# --- reconnects: a ticket past its first minute ---------------------------------------


class PastSigner(signing.TimestampSigner):
    """Signs as if it were ``ago`` seconds ago."""

    ago = 61

    def timestamp(self) -> str:
        return signing.b62_encode(int(time.time()) - self.ago)


def old_ticket(user: User, adventure: Adventure, **claims: Any) -> str:
    """A ticket issued 61 s ago (past EVENTS_TICKET_SECONDS)."""
    return PastSigner(salt=TICKET_SALT).sign_object(
        {"u": str(user.id), "a": str(adventure.id), "v": user.token_version, **claims}
    )


def test_a_ticket_serves_its_streams_reconnects_until_the_access_token_expires(owner, adventure):
    access = refresh_token_for(owner).access_token
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    answer = client.post(f"/api/adventures/{adventure.id}/events/ticket").json()
    assert answer["expires_in"] == 60
    until = datetime.datetime.fromisoformat(answer["reconnect_until"].replace("Z", "+00:00"))
    assert until.timestamp() == access["exp"]
    assert signing.loads(answer["ticket"], salt=TICKET_SALT)["r"] == access["exp"]

    entry = lifecycle.entry_create(adventure=adventure, position=1, is_final=False)
    start(entry)
    first, second = EntryEvent.objects.filter(adventure=adventure).order_by("id")
    ticket = old_ticket(owner, adventure, r=access["exp"])

    async def scenario() -> None:
        # A new EventSource (no Last-Event-ID) needs a ticket of the last minute...
        fresh = await open_stream(adventure.id, query=f"?ticket={ticket}")
        assert error_of(fresh) == (401, "ticket_expired")
        # ...its reconnects do not: they resume where they were.
        resumed = Stream(
            await open_stream(
                adventure.id, query=f"?ticket={ticket}", **{"Last-Event-ID": str(first.id)}
            )
        )
        (missed,) = await resumed.events(1)
        assert int(missed.id or 0) == second.id
        await sync_to_async(lifecycle.entry_complete)(entry_id=entry.id)
        (live_event,) = await resumed.events(1)
        assert status_event(live_event) == (1, "complete")
        await resumed.close()

    run(scenario)


def test_a_reconnect_is_refused_past_the_token_lifetime_or_after_a_password_change(
    owner, adventure
):
    lapsed = old_ticket(owner, adventure, r=int(time.time()) - 1)
    without = old_ticket(owner, adventure)  # issued before reconnects were served
    good = old_ticket(owner, adventure, r=int(time.time()) + 600)
    other = make_adventure(owner)
    resume = {"Last-Event-ID": "1"}

    async def scenario() -> None:
        for ticket in (lapsed, without):
            refused = await open_stream(adventure.id, query=f"?ticket={ticket}", **resume)
            assert error_of(refused) == (401, "ticket_expired")
        forged = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
        assert error_of(await open_stream(adventure.id, query=f"?ticket={forged}", **resume)) == (
            401,
            "ticket_invalid",
        )
        assert error_of(await open_stream(other.id, query=f"?ticket={good}", **resume)) == (
            401,
            "ticket_invalid",
        )
        ok = await open_stream(adventure.id, query=f"?ticket={good}", **resume)
        assert ok.status_code == 200
        await Stream(ok).close()

    run(scenario)
    owner.set_password("another-long-passphrase")
    owner.save()

    async def after_password_change() -> None:
        revoked = await open_stream(adventure.id, query=f"?ticket={good}", **resume)
        assert error_of(revoked) == (401, "token_revoked")

    run(after_password_change)


def test_a_stream_resumed_from_an_id_hands_it_back_at_once(owner, adventure, token):
    # So that EventSource sends Last-Event-ID when it reconnects before the next event.
    async def scenario() -> None:
        stream = Stream(await open_stream(adventure.id, token=token, query="?last_event_id=7"))
        first = await stream.next()
        assert (first.retry, first.id, first.data) == (2000, "7", None)
        await stream.close()
        fresh = Stream(await open_stream(adventure.id, token=token))
        assert (await fresh.next()).id is None
        await fresh.close()

    run(scenario)
