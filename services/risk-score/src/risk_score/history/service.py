"""Keeping the trade history: record a declaration when it is assessed, its outcome when
officers record one, a trader when a permit names it.

Each function writes in the caller's unit of work and changes the in-memory `TradeHistory`
only once that unit of work commits (`apply_after_commit`): a rolled-back request leaves no
trace in the features. Call `record_declaration` *after* computing the declaration's
features, never before."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

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


async def record_outcome(
    *, session: AsyncSession, declaration_id: str, result: OutcomeResult
) -> bool:
    """Label a recorded declaration with an inspection's result (a later one replaces it).
    Returns False when the declaration was never recorded here."""
    if not await repository.set_outcome(session, declaration_id, result):
        return False
    label = is_non_compliant(result)
    _pending(session).append(
        lambda history: history.add_outcome(declaration_id, non_compliant=label)
    )
    return True


async def record_permit(*, session: AsyncSession, permit: PermitIssued) -> None:
    """A permit names its exporter and importer: they are seen from its date of issue."""
    for party in (permit.exporter, permit.importer):
        key = trader_key(party.name, party.country)
        if key is None:
            continue
        await repository.see_trader(session, key, permit.issued_on)
        _pending(session).append(_sighting(key, permit.issued_on))


def _sighting(key: str, on: date) -> Callable[[TradeHistory], object]:
    return lambda history: history.see_trader(key, on)


async def load_history(db: Database) -> TradeHistory:
    """The in-memory history rebuilt from the stored lines and sightings, in date order."""
    history = TradeHistory()
    async with db.session(write=False) as session:
        for sighting in await repository.sightings(session):
            history.see_trader(sighting.trader, sighting.first_seen)
        stored = await repository.records(session)
    history.replay(
        (record, None if outcome is None else is_non_compliant(outcome))
        for record, outcome in stored
    )
    return history
