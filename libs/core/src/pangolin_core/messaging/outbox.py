"""Transactional outbox: events are written in the transaction of the change that caused
them, and a relay publishes them to JetStream afterwards.

Delivery is at least once. Each message carries `Nats-Msg-Id` = event id, so a relay that
publishes a row again (it died between publishing and marking) is deduplicated by the stream
inside its duplicate window, and by the consumers' inbox beyond it. Order follows
`created_at`, except that a row whose publish failed is retried after later rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
import structlog
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from opentelemetry import trace
from opentelemetry.metrics import CallbackOptions, Observation
from sqlalchemy.engine import Connection, Row
from sqlmodel.ext.asyncio.session import AsyncSession

from pangolin_core.contracts.envelope import CloudEvent
from pangolin_core.db import Database
from pangolin_core.messaging.connection import stream_for
from pangolin_core.messaging.tables import outbox
from pangolin_core.telemetry import Telemetry, extract_context, inject_context

log = structlog.get_logger(__name__)

OUTBOX_WRITTEN = "pangolin.outbox_written"


async def enqueue(session: AsyncSession, event: CloudEvent) -> None:
    """Add `event` to the outbox inside the caller's unit of work.

    The current trace context is stored with it, so the consumer's span will be a child of
    the span that caused the event (the HTTP request, usually).
    """
    await enqueue_many(session, [event])


async def enqueue_many(session: AsyncSession, events: Sequence[CloudEvent]) -> None:
    """`enqueue` for a batch (a bulk load): one statement per 1,000 events."""
    rows = outbox_rows(events)
    for start in range(0, len(rows), 1000):
        await session.exec(sa.insert(outbox), params=rows[start : start + 1000])
    if rows:
        session.info[OUTBOX_WRITTEN] = True


def outbox_rows(events: Sequence[CloudEvent]) -> list[dict[str, Any]]:
    """The outbox rows of `events`, with the current trace context: call it in the task of
    the work that caused them (not in a thread), then insert them in its unit of work
    (`write_outbox_rows`, for `Database.run`). Refuses an event with no stream."""
    for event in events:
        stream_for(event.type)
    headers: dict[str, str] = {}
    inject_context(headers)
    now = datetime.now(UTC)
    return [
        {
            "id": event.id,
            "subject": event.type,
            "payload": event.to_json(),
            "headers": headers,
            "created_at": now,
        }
        for event in events
    ]


def write_outbox_rows(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows made by `outbox_rows` in a `Database.run` unit of work."""
    for start in range(0, len(rows), 1000):
        conn.execute(sa.insert(outbox), list(rows[start : start + 1000]))


class OutboxRelay:
    """Publishes unpublished outbox rows; woken by commits, polling as a fallback."""

    def __init__(
        self,
        db: Database,
        nc: NATS,
        js: JetStreamContext,
        telemetry: Telemetry,
        *,
        batch_size: int = 256,
        poll_interval: float = 1.0,
        publish_timeout: float = 5.0,
        retention: timedelta = timedelta(days=7),
    ) -> None:
        self.db, self.nc, self.js = db, nc, js
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.publish_timeout = publish_timeout
        self.retention = retention
        self._tracer = telemetry.tracer
        self._wake = asyncio.Event()
        self._backlog = 0
        self._published = telemetry.meter.create_counter(
            "pangolin.outbox.published", unit="{event}", description="Events published"
        )
        self._failures = telemetry.meter.create_counter(
            "pangolin.outbox.publish_failures", unit="{event}", description="Failed publishes"
        )
        telemetry.meter.create_observable_gauge(
            "pangolin.outbox.backlog",
            callbacks=[self._observe_backlog],
            unit="{event}",
            description="Unpublished events seen at the last relay pass",
        )
        db.on_commit(self._on_commit)

    def _on_commit(self, info: dict[str, Any]) -> None:
        if info.get(OUTBOX_WRITTEN):
            self._wake.set()

    def _observe_backlog(self, _options: CallbackOptions) -> list[Observation]:
        return [Observation(self._backlog)]

    async def run(self) -> None:
        """Relay until cancelled. Failures back off up to 5 s; nothing is dropped."""
        failures = 0
        last_purge = datetime.now(UTC)
        while True:
            try:
                published = await self.publish_pending()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                published = 0
                log.warning("outbox_relay_failed", error=repr(exc), failures=failures)
            if published >= self.batch_size:
                continue  # more rows are waiting
            if datetime.now(UTC) - last_purge > timedelta(minutes=10):
                last_purge = datetime.now(UTC)
                with contextlib.suppress(Exception):
                    await self.purge_published()
            timeout = self.poll_interval if not failures else min(0.2 * 2**failures, 5.0)
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation
            # that arrives as the wake-up completes (a commit just before shutdown), and the
            # relay would never stop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wake.wait()
            self._wake.clear()

    async def publish_pending(self) -> int:
        """One pass: publish up to `batch_size` rows; return how many were published."""
        if not self.nc.is_connected:
            raise ConnectionError("NATS is not connected")
        if self.db.is_sqlite:
            # SQLite has one writer: never hold its write lock across network calls. Two
            # `Database.run` units: one hop each, and the marking queues on the database's
            # writer thread with the app's other units instead of on SQLite's busy handler.
            rows = await self.db.run(lambda conn: self._pending(conn, lock=False), write=False)
            results = await self._publish_all(rows)
            return await self.db.run(lambda conn: self._mark(conn, rows, results))
        # PostgreSQL: rows stay locked while published, so relay replicas skip each other's.
        async with self.db.session() as session:
            conn = await session.connection()
            rows = await conn.run_sync(self._pending, lock=True)
            results = await self._publish_all(rows)
            return await conn.run_sync(self._mark, rows, results)

    def _pending(self, conn: Connection, *, lock: bool) -> Sequence[Row[Any, Any, Any, Any]]:
        query = (
            sa.select(outbox.c.id, outbox.c.subject, outbox.c.payload, outbox.c.headers)
            .where(outbox.c.published_at.is_(None))
            .order_by(outbox.c.created_at)
            .limit(self.batch_size)
        )
        if lock:
            query = query.with_for_update(skip_locked=True)
        rows = conn.execute(query).all()
        self._backlog = len(rows)
        return rows

    async def _publish_all(
        self, rows: Sequence[Row[Any, Any, Any, Any]]
    ) -> list[BaseException | None]:
        results = await asyncio.gather(
            *(self._publish(row) for row in rows), return_exceptions=True
        )
        return [r if isinstance(r, BaseException) else None for r in results]

    async def _publish(self, row: Row[Any, Any, Any, Any]) -> None:
        stored = row.headers if isinstance(row.headers, dict) else json.loads(row.headers)
        origin = trace.get_current_span(extract_context(stored)).get_span_context()
        links = [trace.Link(origin)] if origin.is_valid else []
        # The relay's span is a new trace linked to the cause; the message keeps the cause's
        # context so the consumer's span is its child.
        with self._tracer.start_as_current_span(
            f"{row.subject} publish",
            kind=trace.SpanKind.PRODUCER,
            links=links,
            context=trace.set_span_in_context(trace.INVALID_SPAN),
            attributes={"messaging.system": "nats", "messaging.destination.name": row.subject},
        ):
            headers = {**stored, "Nats-Msg-Id": row.id}
            await self.js.publish(
                row.subject, row.payload, timeout=self.publish_timeout, headers=headers
            )

    def _mark(
        self,
        conn: Connection,
        rows: Sequence[Row[Any, Any, Any, Any]],
        results: list[BaseException | None],
    ) -> int:
        sent = [row.id for row, err in zip(rows, results, strict=True) if err is None]
        failed = [(row.id, err) for row, err in zip(rows, results, strict=True) if err]
        if sent:
            conn.execute(
                sa.update(outbox)
                .where(outbox.c.id.in_(sent))
                .values(published_at=datetime.now(UTC))
            )
            self._published.add(len(sent))
        if failed:
            self._failures.add(len(failed))
            conn.execute(
                sa.update(outbox)
                .where(outbox.c.id.in_([event_id for event_id, _ in failed]))
                .values(attempts=outbox.c.attempts + 1, last_error=repr(failed[0][1])[:1000])
            )
            log.warning("outbox_publish_failed", count=len(failed), error=repr(failed[0][1]))
            if not sent:
                raise ConnectionError(f"no event published: {failed[0][1]!r}")
        return len(sent)

    async def purge_published(self) -> int:
        cutoff = datetime.now(UTC) - self.retention
        async with self.db.session() as session:
            result = await session.exec(
                sa.delete(outbox).where(
                    outbox.c.published_at.is_not(None), outbox.c.published_at < cutoff
                )
            )
        return int(getattr(result, "rowcount", 0) or 0)
