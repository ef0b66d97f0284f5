"""Keeping the trade history: record a declaration when it is assessed, its outcome when
officers record one, a trader when a permit names it.

Each function writes in the caller's unit of work and changes the in-memory `TradeHistory`
only once that unit of work commits (`apply_after_commit`): a rolled-back request leaves no
trace in the features. Call `record_declaration` *after* computing the declaration's
features, never before."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import Connection
from sqlmodel.ext.asyncio.session import AsyncSession

from pangolin_core.contracts.permits import Declaration, PermitIssued
from pangolin_core.db import Database
from risk_score.history import repository
from risk_score.history.aggregate import TradeHistory
from risk_score.history.schemas import (
    OutcomeResult,
    TradeRecord,
    is_non_compliant,
    trader_key,
)

PENDING = "risk_score.trade_history"

log = structlog.get_logger(__name__)


def _pending(session: AsyncSession) -> list[Callable[[TradeHistory], object]]:
    pending: list[Callable[[TradeHistory], object]] = session.info.setdefault(PENDING, [])
    return pending


def apply_after_commit(history: TradeHistory) -> Callable[[dict[str, Any]], None]:
    """The `Database.on_commit` listener that applies a committed unit of work's changes."""

    def apply(info: dict[str, Any]) -> None:
        for change in info.get(PENDING, ()):
            change(history)

    return apply


async def record_declaration(
    *, session: AsyncSession, declaration: Declaration, now: datetime | None = None
) -> bool:
    """Store an assessed declaration's lines (once: a declaration assessed again is not
    counted twice). Returns False when it was already recorded."""
    if await repository.is_recorded(session, declaration.declaration_id):
        return False
    record = TradeRecord.from_declaration(declaration)
    repository.add_record(session, record, recorded_at=now or datetime.now(UTC))
    _pending(session).append(lambda history: history.add_declaration(record))
    return True


async def record_declarations(
    *, session: AsyncSession, declarations: Sequence[Declaration], now: datetime | None = None
) -> None:
    """`record_declaration` for a batch, in one insert that skips lines already stored: a
    declaration assessed again, or twice in the batch, is counted once (the in-memory
    history skips a declaration it knows)."""
    lines = DeclarationLines.of(declarations, now=now)
    connection = await session.connection()
    await connection.run_sync(lines.write)
    _pending(session).append(lines.change)


@dataclass(frozen=True)
class DeclarationLines:
    """`record_declarations` for a `Database.run` unit of work (the assessment writer's
    group commit): prepared in the loop, `write` in the unit of work, and `change` applied to
    the in-memory history once it commits (`info={PENDING: [change]}`)."""

    rows: list[dict[str, Any]]
    change: Callable[[TradeHistory], object]

    @classmethod
    def of(
        cls, declarations: Sequence[Declaration], *, now: datetime | None = None
    ) -> DeclarationLines:
        first: dict[str, TradeRecord] = {}
        for declaration in declarations:
            if declaration.declaration_id not in first:
                first[declaration.declaration_id] = TradeRecord.from_declaration(declaration)
        records = list(first.values())
        rows = repository.line_rows(records, recorded_at=now or datetime.now(UTC))
        return cls(rows=rows, change=_declarations(records))

    def write(self, conn: Connection) -> None:
        repository.write_lines(conn, self.rows)


def _declarations(records: list[TradeRecord]) -> Callable[[TradeHistory], object]:
    def add(history: TradeHistory) -> None:
        for record in records:
            history.add_declaration(record)

    return add


async def record_outcome(
    *, session: AsyncSession, declaration_id: str, result: OutcomeResult
) -> bool:
    """Label a recorded declaration with an inspection's result (a later one replaces it).
    Returns False when the declaration was never recorded here."""
    if not await repository.set_outcome(session, declaration_id, result):
        return False
    recorded_at = datetime.now(UTC)
    repository.add_outcome(session, declaration_id, result, recorded_at=recorded_at)
    label = is_non_compliant(result)
    _pending(session).append(
        lambda history: history.add_outcome(
            declaration_id, non_compliant=label, recorded_at=recorded_at
        )
    )
    return True


async def record_permit(*, session: AsyncSession, permit: PermitIssued) -> None:
    """A permit names its exporter and importer: they are seen from its date of issue."""
    for party in (permit.exporter, permit.importer):
        key = trader_key(party.name, party.country)
        if key is None:
            continue
        await repository.see_trader(session, key, permit.issued_on, recorded_at=datetime.now(UTC))
        _pending(session).append(_sighting(key, permit.issued_on))


def _sighting(key: str, on: date) -> Callable[[TradeHistory], object]:
    return lambda history: history.see_trader(key, on)


class HistoryFollower:
    """Keeps one replica's in-memory history in step with the database.

    This replica's own changes reach memory at commit (`apply_after_commit`). The others'
    reach it through `refresh`: rows recorded since the newest one seen, less an overlap
    (`OVERLAP`) so that a transaction that committed after a later one is still read.
    Applying a row twice is harmless: a known declaration is skipped, an outcome applied
    again leaves the same label, a sighting keeps the earliest date."""

    OVERLAP = timedelta(seconds=5)

    def __init__(self, db: Database, history: TradeHistory | None = None) -> None:
        self.db = db
        self.history = history if history is not None else TradeHistory()
        self.seen_until: datetime | None = None

    async def load(self) -> TradeHistory:
        """Rebuild from every stored row, in date order."""
        async with self.db.session(write=False) as session:
            self.seen_until = await repository.latest_recorded_at(session)
            for sighting in await repository.sightings(session):
                self.history.see_trader(sighting.trader, sighting.first_seen)
            stored = await repository.records(session)
        self.history.replay(
            (record, None if outcome is None else is_non_compliant(outcome))
            for record, outcome in stored
        )
        return self.history

    async def refresh(self) -> None:
        """Apply what was recorded (by any replica) since the last look."""
        async with self.db.session(write=False) as session:
            latest = await repository.latest_recorded_at(session)
            if latest is None or (self.seen_until is not None and latest <= self.seen_until):
                return
            # Nothing seen yet (the tables were empty at start): read everything.
            since = None if self.seen_until is None else self.seen_until - self.OVERLAP
            sightings = await repository.sightings(session, since=since)
            # The overlap brings back what this replica already holds (its own assessments
            # above all): only the ids are read for those, the lines of the others.
            declared = await repository.declared_since(session, since)
            unknown = [d for d in declared if not self.history.knows(d)]
            stored = await repository.records_of(session, unknown) if unknown else []
            outcomes = await repository.outcomes_since(session, since)
        history = self.history
        for sighting in sightings:
            history.see_trader(sighting.trader, sighting.first_seen)
        for record, _outcome in stored:
            history.add_declaration(record)
        for outcome in outcomes:
            history.add_outcome(
                outcome.declaration_id,
                non_compliant=is_non_compliant(outcome.result),  # type: ignore[arg-type]
                recorded_at=outcome.recorded_at,
            )
        self.seen_until = latest

    async def follow(self, *, interval: float) -> None:
        """Refresh every `interval` seconds until cancelled; a failed look is logged and
        retried at the next one."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.refresh()
            except Exception:
                log.exception("trade_history_refresh_failed")


async def load_history(db: Database) -> TradeHistory:
    """The in-memory history rebuilt from the stored lines and sightings, in date order."""
    return await HistoryFollower(db).load()
