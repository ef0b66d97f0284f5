"""The transactional outbox against a real nats-server and real databases."""

from __future__ import annotations

import asyncio

import nats
import pytest
import sqlalchemy as sa
from nats.aio.client import Client as NATS

from pangolin_core.contracts.envelope import CloudEvent
from pangolin_core.db import Database
from pangolin_core.messaging.outbox import OutboxRelay, enqueue, enqueue_many
from pangolin_core.messaging.tables import outbox
from pangolin_core.natsserver import NatsServer
from pangolin_core.telemetry import Telemetry
from pangolin_core.testing import eventually

SUBJECT = "species.listing.changed"


def listing_changed(taxon: str = "Python regius") -> CloudEvent:
    return CloudEvent(source="/test", type=SUBJECT, subject=taxon, data={"taxon": taxon})


async def stream_messages(nats_url: str) -> int:
    client = await nats.connect(nats_url)
    try:
        info = await client.jetstream().stream_info("SPECIES")
        return int(info.state.messages)
    finally:
        await client.close()


async def unpublished(db: Database) -> int:
    async with db.session(write=False) as session:
        count = await session.scalar(
            sa.select(sa.func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
        )
    return int(count or 0)


async def test_a_committed_event_is_published_and_marked(
    db: Database, nc: NATS, nats_url: str, telemetry: Telemetry
) -> None:
    relay = OutboxRelay(db, nc, nc.jetstream(), telemetry)
    event = listing_changed()
    async with db.session() as session:
        await enqueue(session, event)

    assert await relay.publish_pending() == 1

    assert await unpublished(db) == 0
    msg = await nc.jetstream().get_last_msg("SPECIES", SUBJECT)
    assert CloudEvent.from_json(msg.data or b"") == event
    assert msg.headers is not None and msg.headers["Nats-Msg-Id"] == event.id


async def test_a_rolled_back_transaction_publishes_nothing(
    db: Database, nc: NATS, nats_url: str, telemetry: Telemetry
) -> None:
    relay = OutboxRelay(db, nc, nc.jetstream(), telemetry)
    with pytest.raises(RuntimeError, match="declaration rejected"):
        async with db.session() as session:
            await enqueue(session, listing_changed())
            raise RuntimeError("declaration rejected")

    assert await relay.publish_pending() == 0
    async with db.session(write=False) as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(outbox)) == 0
    assert await stream_messages(nats_url) == 0


async def test_an_event_committed_while_nats_is_down_is_published_when_it_is_back(
    db: Database, nc: NATS, nats_server: NatsServer, nats_url: str, telemetry: Telemetry
) -> None:
    relay = OutboxRelay(db, nc, nc.jetstream(), telemetry, poll_interval=0.05)
    task = asyncio.create_task(relay.run())
    try:
        nats_server.stop()

        async def disconnected() -> bool:
            return not nc.is_connected

        await eventually(disconnected)
        event = listing_changed()
        async with db.session() as session:
            await enqueue(session, event)
        with pytest.raises(ConnectionError):
            await relay.publish_pending()
        assert await unpublished(db) == 1

        nats_server.start()

        async def published() -> bool:
            return await unpublished(db) == 0

        await eventually(published, timeout=20)
        msg = await nc.jetstream().get_last_msg("SPECIES", SUBJECT)
        assert CloudEvent.from_json(msg.data or b"").id == event.id
        assert await stream_messages(nats_url) == 1
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_relay_that_publishes_again_after_a_crash_stores_the_event_once(
    db: Database, nc: NATS, nats_url: str, telemetry: Telemetry
) -> None:
    """The relay died after publishing and before marking: its successor publishes the row
    again, and the stream's dedupe (Nats-Msg-Id) keeps one copy."""
    async with db.session() as session:
        await enqueue(session, listing_changed())
    first = OutboxRelay(db, nc, nc.jetstream(), telemetry)
    assert await first.publish_pending() == 1
    async with db.session() as session:  # the mark that never happened
        await session.exec(sa.update(outbox).values(published_at=None))

    successor = OutboxRelay(db, nc, nc.jetstream(), telemetry)
    assert await successor.publish_pending() == 1

    assert await stream_messages(nats_url) == 1
    assert await unpublished(db) == 0


async def test_a_commit_wakes_the_relay_without_waiting_for_its_poll(
    db: Database, nc: NATS, nats_url: str, telemetry: Telemetry
) -> None:
    relay = OutboxRelay(db, nc, nc.jetstream(), telemetry, poll_interval=3600)
    task = asyncio.create_task(relay.run())
    try:

        async def relay_idle() -> bool:
            return relay._backlog == 0 and not relay._wake.is_set()

        await eventually(relay_idle)
        async with db.session() as session:
            await enqueue(session, listing_changed())

        async def published() -> bool:
            return await unpublished(db) == 0

        await eventually(published, timeout=5)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_batch_enqueued_in_one_transaction_is_published_whole(
    db: Database, nc: NATS, nats_url: str, telemetry: Telemetry
) -> None:
    events = [listing_changed(f"Taxon {n}") for n in range(1500)]
    async with db.session() as session:
        await enqueue_many(session, events)
    relay = OutboxRelay(db, nc, nc.jetstream(), telemetry, batch_size=1000)

    assert await relay.publish_pending() == 1000
    assert await relay.publish_pending() == 500
    assert await relay.publish_pending() == 0
    assert await stream_messages(nats_url) == 1500


async def test_an_event_no_stream_carries_is_refused_before_commit(db: Database) -> None:
    event = CloudEvent(source="/test", type="species.rpc.match")
    with pytest.raises(ValueError, match=r"no stream carries 'species\.rpc\.match'"):
        async with db.session() as session:
            await enqueue(session, event)
    assert await unpublished(db) == 0
