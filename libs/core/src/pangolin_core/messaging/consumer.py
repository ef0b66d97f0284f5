"""Idempotent event consumers on durable JetStream pull consumers.

Each event is applied in one database transaction together with an inbox row
(consumer, event id): an event delivered again (redelivery, a relay publishing twice beyond
the dedupe window) is acknowledged without being applied twice. Failures are `nak`ed with
backoff; after `max_deliver` deliveries the message is terminated and logged. Replicas bind to
the same durable consumer, so JetStream splits the work between them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import nats.errors
import sqlalchemy as sa
import structlog
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from opentelemetry import trace
from opentelemetry.metrics import CallbackOptions, Observation
from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from pangolin_core.contracts.envelope import CloudEvent
from pangolin_core.db import Database
from pangolin_core.errors import Conflict
from pangolin_core.messaging.tables import inbox
from pangolin_core.telemetry import Telemetry, extract_context

log = structlog.get_logger(__name__)

EventHandler = Callable[[AsyncSession, CloudEvent], Awaitable[None]]


class PoisonEvent(Exception):
    """Raised by a handler for an event no retry can fix: it is terminated at once."""


@dataclass(frozen=True)
class ConsumerSpec:
    """A durable consumer: its name, what it reads, what it does, and its delivery rules."""

    durable: str
    stream: str
    subjects: tuple[str, ...]
    handler: EventHandler
    max_deliver: int = 5
    ack_wait: float = 30.0
    backoff: tuple[float, ...] = (1.0, 5.0, 30.0)
    batch: int = 64

    def nak_delay(self, deliveries: int) -> float:
        return self.backoff[min(deliveries, len(self.backoff)) - 1] if self.backoff else 0.0


class EventConsumer:
    def __init__(
        self, spec: ConsumerSpec, db: Database, js: JetStreamContext, telemetry: Telemetry
    ) -> None:
        self.spec, self.db, self.js = spec, db, js
        self._tracer = telemetry.tracer
        self._sub: JetStreamContext.PullSubscription | None = None
        self.lag = 0
        self._processed = telemetry.meter.create_counter(
            "pangolin.consumer.events", unit="{event}", description="Events by outcome"
        )
        telemetry.meter.create_observable_gauge(
            "pangolin.consumer.lag",
            callbacks=[self._observe_lag],
            unit="{event}",
            description="Messages waiting for this durable consumer at the last delivery",
        )

    def _observe_lag(self, _options: CallbackOptions) -> list[Observation]:
        return [Observation(self.lag, {"consumer": self.spec.durable})]

    async def start(self) -> None:
        """Create or update the durable consumer and bind to it."""
        spec = self.spec
        config = ConsumerConfig(
            name=spec.durable,
            durable_name=spec.durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=spec.ack_wait,
            max_deliver=spec.max_deliver,
            filter_subjects=list(spec.subjects),
            max_ack_pending=max(1000, spec.batch * 4),
        )
        await self.js.add_consumer(spec.stream, config)
        self._sub = await self.js.pull_subscribe_bind(durable=spec.durable, stream=spec.stream)

    async def stop(self) -> None:
        """Unsubscribe, after `run` was cancelled. A pull `fetch` cancelled mid-way leaves its
        inbox subscription behind, and `drain()` then waits on it until its timeout (30 s)."""
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None

    async def run(self) -> None:
        """Fetch and process until cancelled (an event cut off mid-way is redelivered)."""
        if self._sub is None:
            await self.start()
        assert self._sub is not None
        while True:
            # nats-py's fetch waits in `asyncio.wait_for`, which on Python 3.11 can lose a
            # cancellation that arrives as its wait ends: the fetch then goes on (its own
            # loop, then ours) with the task still marked cancelling, and the shutdown that
            # cancelled it waits forever (14 of 700 apps in a loop of issue, endorse, shut
            # down). Honour the mark here: the consumer stops within one fetch timeout.
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise asyncio.CancelledError
            try:
                messages = await self._sub.fetch(self.spec.batch, timeout=1.0)
            except (nats.errors.TimeoutError, TimeoutError):
                continue
            except (nats.errors.ConnectionClosedError, nats.errors.ConnectionReconnectingError):
                await asyncio.sleep(0.5)  # the client is reconnecting; fetch again shortly
                continue
            for msg in messages:
                await self.process(msg)

    async def process(self, msg: Msg) -> None:
        spec = self.spec
        deliveries = msg.metadata.num_delivered or 1
        self.lag = msg.metadata.num_pending or 0
        try:
            event = CloudEvent.from_json(msg.data)
        except ValidationError as exc:
            await self._terminate(msg, None, deliveries, f"not a CloudEvent: {exc}")
            return
        with self._tracer.start_as_current_span(
            f"{msg.subject} process",
            context=extract_context(msg.headers),
            kind=trace.SpanKind.CONSUMER,
            attributes={
                "messaging.system": "nats",
                "messaging.destination.name": msg.subject,
                "messaging.message.id": event.id,
                "messaging.consumer.group.name": spec.durable,
            },
        ) as span:
            try:
                applied = await self._apply_once(event, msg.subject)
            except (PoisonEvent, ValidationError) as exc:
                await self._terminate(msg, event, deliveries, repr(exc))
                return
            except Exception as exc:
                span.record_exception(exc)
                if deliveries >= spec.max_deliver:
                    await self._terminate(msg, event, deliveries, repr(exc))
                else:
                    delay = spec.nak_delay(deliveries)
                    log.warning(
                        "event_failed_will_retry",
                        consumer=spec.durable,
                        event_id=event.id,
                        subject=msg.subject,
                        deliveries=deliveries,
                        retry_in=delay,
                        error=repr(exc),
                    )
                    self._processed.add(1, {"consumer": spec.durable, "outcome": "retried"})
                    await msg.nak(delay=delay)
                return
            span.set_attribute("pangolin.duplicate", not applied)
        self._processed.add(
            1, {"consumer": spec.durable, "outcome": "applied" if applied else "duplicate"}
        )
        await msg.ack()

    async def _apply_once(self, event: CloudEvent, subject: str) -> bool:
        """Apply the event unless the inbox says it was; False for a duplicate.

        The inbox row goes in first: its primary key refuses a second copy (the unit of work
        turns that into `Conflict`), so a duplicate costs no extra query up front.
        """
        try:
            async with self.db.session() as session:
                await session.exec(
                    sa.insert(inbox).values(
                        consumer=self.spec.durable,
                        event_id=event.id,
                        subject=subject,
                        processed_at=datetime.now(UTC),
                    )
                )
                await self.spec.handler(session, event)
        except Conflict:
            # Seen before, or the handler's own constraint failed: the inbox tells which.
            async with self.db.session(write=False) as session:
                if await self._seen(session, event.id):
                    return False
            raise
        return True

    async def _seen(self, session: AsyncSession, event_id: str) -> bool:
        found = await session.scalar(
            sa.select(sa.func.count())
            .select_from(inbox)
            .where(inbox.c.consumer == self.spec.durable, inbox.c.event_id == event_id)
        )
        return bool(found)

    async def _terminate(
        self, msg: Msg, event: CloudEvent | None, deliveries: int, reason: str
    ) -> None:
        log.error(
            "event_terminated",
            consumer=self.spec.durable,
            event_id=event.id if event else None,
            subject=msg.subject,
            deliveries=deliveries,
            reason=reason,
        )
        self._processed.add(1, {"consumer": self.spec.durable, "outcome": "terminated"})
        await msg.term()
