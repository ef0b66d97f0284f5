"""Group commit of assessments: the one write of the hot path, shared by concurrent callers.

An assessment made while a transaction is writing waits for the next one, which writes every
waiting assessment with its outbox event at once; each caller returns only after its own row
has committed, so an assessment answered is always stored. Alone, a call writes at once (a
batch of one); under load, one transaction serves many calls (on SQLite, one writer lock and
one commit instead of one per call). The same transaction adds the declarations to the trade
history (`history.service.DeclarationLines`), so an assessment and its history lines are
stored together or not at all; memory follows at commit. Their events wait for the relay's
next poll (0.1 s) instead of waking it at each commit.

The transaction is a `Database.run` unit of work of three Core inserts: on SQLite one hop to
the database's writer thread instead of one per statement (about 5 ms a call before, through
an `AsyncSession`; `bench/risk_throughput.py`)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from pangolin_core.contracts.envelope import CloudEvent
from pangolin_core.contracts.permits import Declaration
from pangolin_core.db import Database
from pangolin_core.messaging.outbox import outbox_rows, write_outbox_rows
from risk_score.assessments import repository
from risk_score.assessments.models import Assessment
from risk_score.history import service as history

MAX_BATCH = 256


@dataclass
class _Waiting:
    row: dict[str, Any]
    event: dict[str, Any]  # its outbox row, with the caller's trace context
    declaration: Declaration
    done: asyncio.Future[None]


@dataclass(frozen=True)
class _Rows:
    """What one transaction writes."""

    assessments: list[dict[str, Any]]
    events: list[dict[str, Any]]
    lines: history.DeclarationLines

    def write(self, conn: Connection) -> None:
        repository.insert_many(conn, self.assessments)
        write_outbox_rows(conn, self.events)
        self.lines.write(conn)


class AssessmentWriter:
    def __init__(self, db: Database, *, max_batch: int = MAX_BATCH) -> None:
        self.db = db
        self.max_batch = max_batch
        self._waiting: list[_Waiting] = []
        self._writing: asyncio.Task[None] | None = None

    async def store(self, row: Assessment, event: CloudEvent, declaration: Declaration) -> None:
        """Return once `row`, `event` and the declaration's history lines are committed;
        raise what the write raised."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        (outbox_row,) = outbox_rows([event])
        self._waiting.append(_Waiting(row.model_dump(), outbox_row, declaration, done))
        if self._writing is None or self._writing.done():
            self._writing = asyncio.create_task(self._write_waiting(), name="risk-assessments")
        await done

    async def _write_waiting(self) -> None:
        while self._waiting:
            batch = self._waiting[: self.max_batch]
            del self._waiting[: self.max_batch]
            try:
                rows = _Rows(
                    assessments=[w.row for w in batch],
                    events=[w.event for w in batch],
                    lines=history.DeclarationLines.of([w.declaration for w in batch]),
                )
                # No relay pass per commit (no OUTBOX_WRITTEN in `info`): the relay's short
                # poll publishes these in batches (settings.outbox_poll_interval).
                await self.db.run(rows.write, info={history.PENDING: [rows.lines.change]})
            except BaseException as exc:
                for waiting in batch:
                    if not waiting.done.done():
                        waiting.done.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                continue
            for waiting in batch:
                if not waiting.done.done():
                    waiting.done.set_result(None)

    async def close(self) -> None:
        """Finish what is waiting (at shutdown)."""
        if self._writing is not None:
            with contextlib.suppress(Exception):
                await self._writing
