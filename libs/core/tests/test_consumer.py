"""Idempotent consumers on a real nats-server: once-only effects, poison, replicas."""

from __future__ import annotations

import asyncio

import nats
import nats.errors
import pytest
import structlog
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from sqlmodel.ext.asyncio.session import AsyncSession

from backbone_support import bump, count_of
from pangolin_core.contracts.envelope import CloudEvent
from pangolin_core.db import Database
from pangolin_core.messaging.connection import ensure_streams
from pangolin_core.messaging.consumer import ConsumerSpec, EventConsumer, EventHandler, PoisonEvent
from pangolin_core.telemetry import Telemetry
from pangolin_core.testing import eventually

SUBJECT = "permits.permit.endorsed"


def endorsed(permit: str) -> CloudEvent:
    return CloudEvent(source="/test", type=SUBJECT, subject=permit, data={"permit": permit})


async def publish(nc: NATS, event: CloudEvent, msg_id: str | None = None) -> None:
    await nc.jetstream().publish(
        SUBJECT, event.to_json(), headers={"Nats-Msg-Id": msg_id or event.id}
    )


async def run(consumer: EventConsumer) -> asyncio.Task[None]:
    await consumer.start()
    return asyncio.create_task(consumer.run())


async def stop(*tasks: asyncio.Task[None]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def pending_acks(nc: NATS, durable: str) -> int:
    info = await nc.jetstream().consumer_info("PERMITS", durable)
    return int(info.num_ack_pending) + int(info.num_pending)


async def tally_handler(session: AsyncSession, event: CloudEvent) -> None:
    await bump(session, event.data["permit"])


async def test_an_event_published_twice_is_applied_once(
    db: Database, nc: NATS, telemetry: Telemetry
) -> None:
    """Beyond the stream's dedupe window the same event can be stored twice: the inbox
    applies it once."""
    spec = ConsumerSpec("test-ledger", "PERMITS", (SUBJECT,), tally_handler, batch=1)
    event = endorsed("KE/2026/E/000123")
    await publish(nc, event, msg_id="first-publish")
    await publish(nc, event, msg_id="second-publish")
    consumer = EventConsumer(spec, db, nc.jetstream(), telemetry)
    task = await run(consumer)
    try:

        async def all_acked() -> bool:
            return await pending_acks(nc, spec.durable) == 0

        await eventually(all_acked)
        assert await count_of(db, "KE/2026/E/000123") == 1
    finally:
        await stop(task)


async def test_the_consumer_reports_how_many_messages_wait_behind_it(
    db: Database, nc: NATS, telemetry: Telemetry
) -> None:
    lags: list[int] = []
    consumer: EventConsumer

    async def record_lag(session: AsyncSession, event: CloudEvent) -> None:
        lags.append(consumer.lag)

    spec = ConsumerSpec("test-lag", "PERMITS", (SUBJECT,), record_lag, batch=1)
    for n in range(3):
        await publish(nc, endorsed(f"KE/2026/E/{n:06d}"))
    consumer = EventConsumer(spec, db, nc.jetstream(), telemetry)
    task = await run(consumer)
    try:

        async def all_seen() -> bool:
            return len(lags) == 3

        await eventually(all_seen)
    finally:
        await stop(task)
    assert lags == [2, 1, 0]


async def test_a_redelivered_event_is_applied_once(
    db: Database, nc: NATS, telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The consumer committed its effect, then its ack was lost: JetStream redelivers after
    `ack_wait`, and the inbox turns the second delivery into a plain ack."""
    spec = ConsumerSpec("test-ledger", "PERMITS", (SUBJECT,), tally_handler, ack_wait=0.5)
    lost_acks: list[str] = []
    real_ack = Msg.ack

    async def ack_lost_once(msg: Msg) -> None:
        if not lost_acks:
            lost_acks.append(msg.subject)
            return
        await real_ack(msg)

    monkeypatch.setattr(Msg, "ack", ack_lost_once)
    await publish(nc, endorsed("KE/2026/E/000124"))
    task = await run(EventConsumer(spec, db, nc.jetstream(), telemetry))
    try:

        async def redelivered_and_acked() -> bool:
            info = await nc.jetstream().consumer_info("PERMITS", spec.durable)
            # the consumer sequence counts every delivery, redeliveries included
            return (info.delivered.consumer_seq or 0) >= 2 and info.num_ack_pending == 0

        await eventually(redelivered_and_acked)
        assert lost_acks == [SUBJECT]
        assert await count_of(db, "KE/2026/E/000124") == 1
    finally:
        await stop(task)


async def test_a_poison_event_is_terminated_after_max_deliveries_and_logged(
    db: Database, nc: NATS, telemetry: Telemetry
) -> None:
    attempts: list[int] = []

    async def always_fails(session: AsyncSession, event: CloudEvent) -> None:
        await bump(session, "should-roll-back")
        attempts.append(1)
        raise ValueError("cannot apply this event")

    spec = ConsumerSpec(
        "test-poison", "PERMITS", (SUBJECT,), always_fails, max_deliver=3, backoff=(0.05,)
    )
    await publish(nc, endorsed("KE/2026/E/000125"))
    with structlog.testing.capture_logs() as logs:
        task = await run(EventConsumer(spec, db, nc.jetstream(), telemetry))
        try:

            async def terminated() -> bool:
                return any(entry["event"] == "event_terminated" for entry in logs)

            await eventually(terminated)

            async def settled() -> bool:
                return await pending_acks(nc, spec.durable) == 0

            await eventually(settled)
        finally:
            await stop(task)
    assert len(attempts) == 3
    retries = [e for e in logs if e["event"] == "event_failed_will_retry"]
    assert [e["deliveries"] for e in retries] == [1, 2]
    (dead,) = [e for e in logs if e["event"] == "event_terminated"]
    assert dead["deliveries"] == 3 and "cannot apply this event" in dead["reason"]
    assert dead["log_level"] == "error"
    assert await count_of(db, "should-roll-back") == 0


async def test_a_message_that_is_not_a_cloud_event_is_terminated_at_once(
    db: Database, nc: NATS, telemetry: Telemetry
) -> None:
    spec = ConsumerSpec("test-garbage", "PERMITS", (SUBJECT,), tally_handler)
    await nc.jetstream().publish(SUBJECT, b"{not json")
    with structlog.testing.capture_logs() as logs:
        task = await run(EventConsumer(spec, db, nc.jetstream(), telemetry))
        try:

            async def settled() -> bool:
                return await pending_acks(nc, spec.durable) == 0

            await eventually(settled)
        finally:
            await stop(task)
    (dead,) = [e for e in logs if e["event"] == "event_terminated"]
    assert dead["deliveries"] == 1 and "not a CloudEvent" in dead["reason"]


async def test_a_handler_can_declare_an_event_poison_to_stop_retries(
    db: Database, nc: NATS, telemetry: Telemetry
) -> None:
    calls: list[str] = []

    async def refuses(session: AsyncSession, event: CloudEvent) -> None:
        calls.append(event.id)
        raise PoisonEvent("permit number has no issuing country")

    spec = ConsumerSpec("test-refuses", "PERMITS", (SUBJECT,), refuses, max_deliver=5)
    await publish(nc, endorsed("??/2026/E/1"))
    with structlog.testing.capture_logs() as logs:
        task = await run(EventConsumer(spec, db, nc.jetstream(), telemetry))
        try:

            async def settled() -> bool:
                return await pending_acks(nc, spec.durable) == 0

            await eventually(settled)
        finally:
            await stop(task)
    assert len(calls) == 1
    (dead,) = [e for e in logs if e["event"] == "event_terminated"]
    assert "no issuing country" in dead["reason"]


async def test_two_replicas_split_the_work(db: Database, nc: NATS, telemetry: Telemetry) -> None:
    """Replica A holds its first message (unacked, before any transaction) until replica B
    has applied an event: that can only happen if JetStream hands B messages of the same
    durable consumer while A holds one."""
    seen: dict[str, list[str]] = {"a": [], "b": []}
    b_applied_one = asyncio.Event()

    class HoldingReplica(EventConsumer):
        async def process(self, msg: Msg) -> None:
            if not seen["a"]:
                await asyncio.wait_for(b_applied_one.wait(), timeout=10)
            await super().process(msg)

    def handler(replica: str) -> EventHandler:
        async def apply(session: AsyncSession, event: CloudEvent) -> None:
            await bump(session, event.data["permit"])
            seen[replica].append(event.data["permit"])
            if replica == "b":
                b_applied_one.set()

        return apply

    permits = [f"KE/2026/E/{n:06d}" for n in range(20)]
    for permit in permits:
        await publish(nc, endorsed(permit))
    spec_a = ConsumerSpec("test-split", "PERMITS", (SUBJECT,), handler("a"), batch=1)
    spec_b = ConsumerSpec("test-split", "PERMITS", (SUBJECT,), handler("b"), batch=1)
    task_a = await run(HoldingReplica(spec_a, db, nc.jetstream(), telemetry))
    task_b = await run(EventConsumer(spec_b, db, nc.jetstream(), telemetry))
    try:

        async def all_applied() -> bool:
            return len(seen["a"]) + len(seen["b"]) == len(permits)

        await eventually(all_applied)
    finally:
        await stop(task_a, task_b)
    assert seen["a"] and seen["b"]
    assert sorted(seen["a"] + seen["b"]) == permits
    for permit in permits:
        assert await count_of(db, permit) == 1


async def test_a_stopped_consumer_lets_the_connection_drain(
    nats_url: str, db: Database, telemetry: Telemetry
) -> None:
    """A cancelled pull fetch leaves its inbox subscription behind; without `stop()` a drain
    waits on it until its timeout (a service took 30 s to shut down)."""
    errors: list[Exception] = []

    async def on_error(exc: Exception) -> None:
        errors.append(exc)

    client = await nats.connect(nats_url, name="drain-test", drain_timeout=3, error_cb=on_error)
    await ensure_streams(client.jetstream())
    spec = ConsumerSpec("test-drain", "PERMITS", (SUBJECT,), tally_handler, batch=1)
    consumer = EventConsumer(spec, db, client.jetstream(), telemetry)
    task = await run(consumer)
    await publish(client, endorsed("KE/2026/E/000777"))

    async def all_acked() -> bool:
        return await pending_acks(client, spec.durable) == 0

    await eventually(all_acked)
    # The hang needs a fetch that expired (1 s) with nothing to fetch: wait for that state,
    # this sleep creates the condition under test, it does not wait out a race.
    await asyncio.sleep(2.5)
    await stop(task)
    await consumer.stop()
    await client.drain()  # reports DrainTimeoutError after 3 s when a subscription is left
    assert client.is_closed
    assert not [e for e in errors if isinstance(e, nats.errors.DrainTimeoutError)]


class FetchThatLosesACancellation:
    """A pull subscription whose fetch ends normally when cancelled, as nats-py's can on
    Python 3.11 (its `asyncio.wait_for` loses a cancellation that arrives as the wait ends)."""

    def __init__(self) -> None:
        self.fetches = 0

    async def fetch(self, batch: int, timeout: float) -> list[Msg]:
        self.fetches += 1
        if self.fetches > 1:  # the consumer went on after its cancellation
            raise RuntimeError("fetched again after the cancellation")
        try:
            await asyncio.Event().wait()  # no message ever comes
        except asyncio.CancelledError:
            return []
        raise AssertionError("never set")


async def test_a_consumer_stops_when_its_fetch_loses_the_cancellation(
    db: Database, nc: NATS, telemetry: Telemetry
) -> None:
    spec = ConsumerSpec("test-lost-cancel", "PERMITS", (SUBJECT,), tally_handler, batch=1)
    consumer = EventConsumer(spec, db, nc.jetstream(), telemetry)
    fetch = FetchThatLosesACancellation()
    consumer._sub = fetch  # type: ignore[assignment]
    task = asyncio.create_task(consumer.run())

    async def fetching() -> bool:
        return fetch.fetches == 1

    await eventually(fetching)
    task.cancel()
    [outcome] = await asyncio.gather(task, return_exceptions=True)
    assert isinstance(outcome, asyncio.CancelledError), outcome
    assert fetch.fetches == 1
