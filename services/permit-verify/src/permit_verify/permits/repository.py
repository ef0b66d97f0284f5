"""SQL of the permit registry. Balances and statuses change only through conditional
UPDATEs (`... WHERE balance >= :q`, `... WHERE status IN (open)`): the database decides,
so concurrent calls never read-modify-write in Python."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pangolin_core.errors import NotFound
from permit_verify.permits.models import Permit, PermitItem
from permit_verify.permits.rules import OPEN_STATUSES, IssuedQuantity
from permit_verify.permits.schemas import (
    PermitIn,
    PermitItemIn,
    PermitItemOut,
    PermitOut,
    PermitStatus,
)
from permit_verify.tables import Quantity, to_units

_OPEN = sorted(s.value for s in OPEN_STATUSES)


def box_columns(permit: PermitIn | PermitOut) -> dict[str, Any]:
    """The permit row's columns that hold its boxes, from a permit as issued here (PermitIn)
    or as a partner serves it (PermitOut)."""
    return {
        "number": permit.number,
        "type": permit.type.value,
        "issuing_country": permit.issuing_country,
        "issuing_authority": permit.issuing_authority,
        "security_stamp": permit.security_stamp,
        "issued_on": permit.issued_on,
        "valid_until": permit.valid_until,
        "exporter_name": permit.exporter.name,
        "exporter_address": permit.exporter.address,
        "exporter_country": permit.exporter.country,
        "importer_name": permit.importer.name,
        "importer_address": permit.importer.address,
        "importer_country": permit.importer.country,
        "purpose": permit.purpose,
        "special_conditions": permit.special_conditions,
    }


def item_box_columns(item: PermitItemIn | PermitItemOut) -> dict[str, Any]:
    """An item row's columns that hold its block's boxes (balance and taxon aside)."""
    return {
        "item_id": item.item_id,
        "species": item.species,
        "description": item.description,
        "term": item.term,
        "appendix": item.appendix,
        "source": item.source,
        "quantity": item.quantity,
        "unit": item.unit,
        "origin_country": item.origin_country,
        "origin_permit": item.origin_permit,
        "reexport_certificate": item.reexport_certificate,
    }


async def get(session: AsyncSession, permit_id: str) -> Permit:
    """The permit as stored now (re-read, not a stale copy from this session)."""
    query = select(Permit).where(Permit.id == permit_id).execution_options(populate_existing=True)
    permit = (await session.exec(query)).first()
    if permit is None:
        raise NotFound(f"No permit {permit_id}.")
    return permit


async def items_of(session: AsyncSession, permit_id: str) -> Sequence[PermitItem]:
    query = (
        select(PermitItem)
        .where(PermitItem.permit_id == permit_id)
        .order_by(col(PermitItem.id))
        .execution_options(populate_existing=True)
    )
    return (await session.exec(query)).all()


async def find_by_number(
    session: AsyncSession, *, issuing_country: str, number: str
) -> Permit | None:
    query = select(Permit).where(Permit.issuing_country == issuing_country, Permit.number == number)
    return (await session.exec(query)).first()


async def number_taken(session: AsyncSession, *, issuing_country: str, number: str) -> bool:
    query = select(Permit.id).where(
        Permit.issuing_country == issuing_country, Permit.number == number
    )
    return (await session.exec(query)).first() is not None


async def add(session: AsyncSession, permit: Permit, items: Sequence[PermitItem]) -> None:
    session.add(permit)
    await session.flush()  # the permit before its items: their foreign key points to it
    session.add_all(items)
    await session.flush()


def _rowcount(result: object) -> int:
    assert isinstance(result, CursorResult)
    return result.rowcount


async def close_if_open(session: AsyncSession, *, permit_id: str, status: PermitStatus) -> bool:
    """Set a final status unless the permit is already closed; False when it was."""
    statement = (
        sa.update(Permit)
        .where(col(Permit.id) == permit_id, col(Permit.status).in_(_OPEN))
        .values(status=status.value, version=col(Permit.version) + 1)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(await session.exec(statement)) == 1


async def claim_open(session: AsyncSession, *, permit_id: str) -> bool:
    """Bump the version of an open permit; False when it is closed. On PostgreSQL the row
    stays locked to the end of the transaction, so endorsements of one permit queue here
    and each sees the status the previous one left."""
    statement = (
        sa.update(Permit)
        .where(col(Permit.id) == permit_id, col(Permit.status).in_(_OPEN))
        .values(version=col(Permit.version) + 1)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(await session.exec(statement)) == 1


async def set_status(session: AsyncSession, *, permit_id: str, status: PermitStatus) -> None:
    statement = (
        sa.update(Permit)
        .where(col(Permit.id) == permit_id)
        .values(status=status.value)
        .execution_options(synchronize_session=False)
    )
    await session.exec(statement)


async def take_from_balance(session: AsyncSession, *, item_pk: int, quantity: Decimal) -> bool:
    """`balance -= quantity` only if that leaves it at zero or more; False otherwise. The
    arithmetic is on the stored integers (millionths), exact on both engines."""
    table: sa.Table = PermitItem.__table__  # type: ignore[attr-defined]
    units = sa.literal(to_units(quantity), sa.BigInteger)
    # Typed as plain integers: the comparison and the subtraction run on the stored units.
    balance = sa.type_coerce(table.c.balance, sa.BigInteger)
    statement = (
        sa.update(table)
        .where(table.c.id == item_pk, balance >= units)
        .values({table.c.balance: balance - units})
    )
    return _rowcount(await session.exec(statement)) == 1


async def balances(session: AsyncSession, permit_id: str) -> dict[str, Decimal]:
    query = (
        select(col(PermitItem.item_id), col(PermitItem.balance))
        .where(PermitItem.permit_id == permit_id)
        .order_by(col(PermitItem.id))
    )
    return {item_id: balance for item_id, balance in (await session.exec(query)).all()}


# Permits whose items no longer count against a quota: cancelled ones were never used, and
# a replaced one's quantities are on its replacement. Import permits are the importing
# country's; a re-export's specimens count against their origin's quota.
_NOT_HOLDING = (PermitStatus.CANCELLED.value, PermitStatus.REPLACED.value)
_NOT_EXPORTS = ("import", "re_export")


async def issued_quantities(
    session: AsyncSession, *, country: str, taxa: Collection[int], since: date, until: date
) -> list[IssuedQuantity]:
    """What `country`'s export documents issued between the two dates (inclusive) hold of
    the taxa, summed per taxon, term, source, purpose, unit and issue date: one round trip."""
    if not taxa:
        return []
    item: sa.Table = PermitItem.__table__  # type: ignore[attr-defined]
    permit: sa.Table = Permit.__table__  # type: ignore[attr-defined]
    keys = (
        item.c.taxon_id,
        item.c.term,
        item.c.source,
        permit.c.purpose,
        item.c.unit,
        permit.c.issued_on,
    )
    query = (
        sa.select(*keys, sa.func.sum(item.c.quantity, type_=Quantity))
        .select_from(item.join(permit, item.c.permit_id == permit.c.id))
        .where(
            permit.c.issuing_country == country,
            permit.c.type.not_in(_NOT_EXPORTS),
            permit.c.status.not_in(_NOT_HOLDING),
            permit.c.issued_on >= since,
            permit.c.issued_on <= until,
            item.c.taxon_id.in_(sorted(taxa)),
        )
        .group_by(*keys)
    )
    rows = (await session.exec(query)).all()  # type: ignore[call-overload]
    return [IssuedQuantity(*row) for row in rows]
