"""The audit writer: requests queue their entry in memory, a background task writes batches.

`record` never blocks the border: it appends to a bounded queue and returns. The flusher
writes every `audit_flush_seconds`, or as soon as `audit_batch_size` entries wait, one
transaction (one INSERT) per batch. An entry leaves the queue only once its batch is
committed, so a failed write is retried on the next tick. When the database stays away long
enough for the queue to fill, new entries are dropped and counted (logged at error level)
rather than growing memory without bound or holding requests back.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import cast

import structlog

from gateway.audit import repository
from gateway.settings import GatewaySettings
from gateway.state import AuditRecord, AuditWriter
from pangolin_core.db import Database
from pangolin_core.service import ServiceRuntime

log = structlog.get_logger(__name__)

DEFAULT_MAX_PENDING = 100_000  # ~40 MB of entries; at 2,000 requests/s, 50 s of outage
FINAL_FLUSH_SECONDS = 10.0


class BatchAuditWriter:
    """An `AuditWriter` that writes in batches from a background task (see `running`)."""

    def __init__(
        self,
        db: Database,
        *,
        flush_seconds: float = 0.5,
        batch_size: int = 500,
        max_pending: int = DEFAULT_MAX_PENDING,
    ) -> None:
        if batch_size < 1 or max_pending < batch_size:
            raise ValueError("need 1 <= batch_size <= max_pending")
        self._db = db
        self._flush_seconds = flush_seconds
        self._batch_size = batch_size
        self._max_pending = max_pending
        self._pending: deque[AuditRecord] = deque()
        self._flushing = asyncio.Lock()  # one writer at a time keeps the order
        self._batch_ready = asyncio.Event()
        self._closing = False
        self.written = 0
        self.failures = 0  # flushes that failed
        self._failing_since = 0  # failed flushes in a row
        self.dropped = 0  # since start
        self._dropped_unreported = 0

    @property
    def pending(self) -> int:
        return len(self._pending)

    def record(self, entry: AuditRecord) -> None:
        if len(self._pending) >= self._max_pending:
            if not self._dropped_unreported:
                log.error(
                    "audit_queue_full",
                    pending=len(self._pending),
                    detail="audit entries are being dropped until the database takes writes",
                )
            self.dropped += 1
            self._dropped_unreported += 1
            return
        self._pending.append(entry)
        if len(self._pending) >= self._batch_size:
            self._batch_ready.set()

    async def flush(self) -> int:
        """Write what is queued now, batch by batch; the number of entries written.

        Raises what the database raised; the batch that failed stays queued, first."""
        async with self._flushing:
            target = len(self._pending)  # not what arrives meanwhile: flush() must end
            done = 0
            while done < target and self._pending:
                size = min(self._batch_size, target - done, len(self._pending))
                batch = [self._pending[i] for i in range(size)]
                async with self._db.session() as session:
                    await repository.append(session, batch)
                for _ in range(size):  # only now: a failed batch is written on the next try
                    self._pending.popleft()
                done += size
                self.written += size
            return done

    async def _run(self) -> None:
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._batch_ready.wait(), self._flush_seconds)
            self._batch_ready.clear()
            try:
                await self.flush()
            except Exception as exc:
                self._failed(exc)
                if not self._closing:
                    # Let the database recover for a full tick, even while batches fill up.
                    await asyncio.sleep(self._flush_seconds)
            else:
                if self._failing_since:
                    log.info("audit_flush_recovered", failed_flushes=self._failing_since)
                    self._failing_since = 0
            self._report_dropped()
        await self._final_flush()

    def _failed(self, exc: Exception) -> None:
        self.failures += 1
        self._failing_since += 1
        if self._failing_since == 1:  # the traceback once per outage, then one line a tick
            log.exception("audit_flush_failed", pending=len(self._pending))
        else:
            log.error(
                "audit_flush_failed",
                pending=len(self._pending),
                failed_flushes=self._failing_since,
                error=repr(exc)[:300],
            )

    async def _final_flush(self) -> None:
        try:
            # Bounded: a database that hangs must not hold the gateway's shutdown.
            await asyncio.wait_for(self.flush(), FINAL_FLUSH_SECONDS)
        except Exception:
            log.exception("audit_entries_lost", count=len(self._pending))
        self._report_dropped()

    def _report_dropped(self) -> None:
        if self._dropped_unreported:
            log.error(
                "audit_entries_dropped",
                count=self._dropped_unreported,
                total=self.dropped,
                pending=len(self._pending),
            )
            self._dropped_unreported = 0

    @asynccontextmanager
    async def running(self) -> AsyncIterator[BatchAuditWriter]:
        """The background flusher; on exit, what is left is written."""
        self._closing = False
        task = asyncio.create_task(self._run(), name="gateway-audit-writer")
        try:
            yield self
        finally:
            self._closing = True
            self._batch_ready.set()
            await task


@asynccontextmanager
async def open_audit_writer(runtime: ServiceRuntime) -> AsyncIterator[AuditWriter]:
    settings = cast(GatewaySettings, runtime.settings)
    writer = BatchAuditWriter(
        runtime.db,
        flush_seconds=settings.audit_flush_seconds,
        batch_size=settings.audit_batch_size,
    )
    async with writer.running():
        yield writer
