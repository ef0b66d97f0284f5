"""SQL of the trade history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from risk_score.history.models import TradeHistoryLine, TradeOutcome, TraderSighting
from risk_score.history.schemas import OutcomeResult, TradeLine, TradeRecord


async def is_recorded(session: AsyncSession, declaration_id: str) -> bool:
    found = await session.exec(
        select(TradeHistoryLine.id).where(TradeHistoryLine.declaration_id == declaration_id)
    )
    return found.first() is not None


def write_lines(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows made by `line_rows` in one statement, skipping a line already stored (the
    same declaration recorded before, here or by another replica): no read first."""
    if rows:
        conn.execute(_insert_new_lines(conn.dialect.name), list(rows))


def _insert_new_lines(dialect: str) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(TradeHistoryLine).on_conflict_do_nothing(
        index_elements=["declaration_id", "line_no"]
    )


def line_rows(records: Sequence[TradeRecord], *, recorded_at: datetime) -> list[dict[str, Any]]:
    """The `trade_history_line` rows of `records`, as plain column values."""
    return [
        {
            "declaration_id": record.declaration_id,
            "line_no": line.line_no,
            "declared_on": record.declared_on,
            "office": record.office,
            "direction": record.direction,
            "exporter": record.exporter,
            "importer": record.importer,
            "exporter_country": record.exporter_country,
            "importer_country": record.importer_country,
            "origin_country": record.origin_country,
            "export_country": record.export_country,
            "import_country": record.import_country,
            "transit": ",".join(record.transit),
            "species": line.species,
            "term": line.term,
            "unit": line.unit,
            "quantity": str(line.quantity),
            "purpose": line.purpose,
            "source": line.source,
            "value_amount": None if line.value_amount is None else str(line.value_amount),
            "currency": line.currency,
            "outcome": None,
            "recorded_at": recorded_at,
        }
        for record in records
        for line in record.lines
    ]


def add_record(session: AsyncSession, record: TradeRecord, *, recorded_at: datetime) -> None:
    for row in line_rows([record], recorded_at=recorded_at):
        session.add(TradeHistoryLine(**row))


async def set_outcome(session: AsyncSession, declaration_id: str, result: OutcomeResult) -> bool:
    """Label every line of the declaration; False when it was never recorded."""
    updated = await session.exec(
        sa.update(TradeHistoryLine)
        .where(col(TradeHistoryLine.declaration_id) == declaration_id)
        .values(outcome=result)
    )
    return bool(updated.rowcount)


def add_outcome(
    session: AsyncSession, declaration_id: str, result: OutcomeResult, *, recorded_at: datetime
) -> None:
    session.add(TradeOutcome(declaration_id=declaration_id, result=result, recorded_at=recorded_at))


async def see_trader(
    session: AsyncSession, trader: str, on: date, *, recorded_at: datetime
) -> None:
    known = await session.get(TraderSighting, trader)
    if known is None:
        session.add(TraderSighting(trader=trader, first_seen=on, recorded_at=recorded_at))
    elif on < known.first_seen:
        known.first_seen = on
        known.recorded_at = recorded_at


async def sightings(
    session: AsyncSession, *, since: datetime | None = None
) -> Sequence[TraderSighting]:
    query = select(TraderSighting)
    if since is not None:
        query = query.where(TraderSighting.recorded_at > since)
    return (await session.exec(query)).all()


async def outcomes_since(session: AsyncSession, since: datetime | None) -> Sequence[TradeOutcome]:
    """Outcomes recorded after `since` (all with None), in the order they were recorded."""
    query = select(TradeOutcome).order_by(col(TradeOutcome.recorded_at), col(TradeOutcome.id))
    if since is not None:
        query = query.where(TradeOutcome.recorded_at > since)
    return (await session.exec(query)).all()


async def latest_recorded_at(session: AsyncSession) -> datetime | None:
    """The newest `recorded_at` of the three tables (None while all are empty)."""
    found = []
    for column in (
        TradeHistoryLine.recorded_at,
        TradeOutcome.recorded_at,
        TraderSighting.recorded_at,
    ):
        value = (await session.exec(select(sa.func.max(column)))).one()
        if value is not None:
            found.append(value)
    return max(found) if found else None


async def records(
    session: AsyncSession, *, since: datetime | None = None
) -> list[tuple[TradeRecord, OutcomeResult | None]]:
    """Recorded declarations with their outcomes, in date order (the replay order); with
    `since`, only those recorded after it."""
    query = select(TradeHistoryLine).order_by(
        col(TradeHistoryLine.declared_on), col(TradeHistoryLine.id)
    )
    if since is not None:
        query = query.where(TradeHistoryLine.recorded_at > since)
    rows = (await session.exec(query)).all()
    grouped: dict[str, list[TradeHistoryLine]] = {}
    for row in rows:
        grouped.setdefault(row.declaration_id, []).append(row)
    return [(_record(lines), _outcome(lines)) for lines in grouped.values()]


async def declared_since(session: AsyncSession, since: datetime | None) -> list[str]:
    """Ids of the declarations recorded after `since` (all with None)."""
    query = select(TradeHistoryLine.declaration_id).distinct()
    if since is not None:
        query = query.where(TradeHistoryLine.recorded_at > since)
    return list((await session.exec(query)).all())


async def records_of(
    session: AsyncSession, declaration_ids: Sequence[str], *, chunk: int = 500
) -> list[tuple[TradeRecord, OutcomeResult | None]]:
    """These declarations with their outcomes, in date order."""
    rows: list[TradeHistoryLine] = []
    for start in range(0, len(declaration_ids), chunk):
        ids = declaration_ids[start : start + chunk]
        query = select(TradeHistoryLine).where(col(TradeHistoryLine.declaration_id).in_(ids))
        rows.extend((await session.exec(query)).all())
    rows.sort(key=lambda row: (row.declared_on, row.id or 0))
    grouped: dict[str, list[TradeHistoryLine]] = {}
    for row in rows:
        grouped.setdefault(row.declaration_id, []).append(row)
    return [(_record(lines), _outcome(lines)) for lines in grouped.values()]


def _outcome(lines: list[TradeHistoryLine]) -> OutcomeResult | None:
    outcome = lines[0].outcome
    if outcome in ("compliant", "non_compliant", "seizure"):
        return outcome  # type: ignore[return-value]
    return None


def _record(lines: list[TradeHistoryLine]) -> TradeRecord:
    first = lines[0]
    return TradeRecord(
        declaration_id=first.declaration_id,
        declared_on=first.declared_on,
        office=first.office,
        direction=first.direction,
        exporter=first.exporter,
        importer=first.importer,
        exporter_country=first.exporter_country,
        importer_country=first.importer_country,
        origin_country=first.origin_country,
        export_country=first.export_country,
        import_country=first.import_country,
        transit=tuple(t for t in first.transit.split(",") if t),
        lines=tuple(
            TradeLine(
                line_no=row.line_no,
                species=row.species,
                term=row.term,
                unit=row.unit,
                quantity=Decimal(row.quantity),
                purpose=row.purpose,
                source=row.source,
                value_amount=None if row.value_amount is None else Decimal(row.value_amount),
                currency=row.currency,
            )
            for row in sorted(lines, key=lambda r: r.line_no)
        ),
    )
