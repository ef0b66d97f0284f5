"""SQL of partner copies: a permit another country issued, as its registry served it, kept
here under the partner's permit id so that it can be endorsed here and confirmed back.

A copy is never edited except as the issuing registry moves on: its balances only go down
(to the partner's when lower) and a final status the partner declared is taken over."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from permit_verify.permits import repository as permits
from permit_verify.permits.models import Permit, PermitItem
from permit_verify.permits.rules import OPEN_STATUSES
from permit_verify.permits.schemas import PermitOut
from permit_verify.tables import to_units

_OPEN = sorted(s.value for s in OPEN_STATUSES)


def _rows(permit: PermitOut, created_by: str) -> tuple[Permit, list[PermitItem]]:
    row = Permit(
        id=permit.id,
        **permits.box_columns(permit),
        status=permit.status.value,
        signature=permit.signature,
        signing_key_id=permit.signing_key_id,
        version=1,
        created_by=created_by,
        created_at=permit.created_at,
    )
    items = [
        PermitItem(
            permit_id=permit.id,
            **permits.item_box_columns(i),
            taxon_id=i.taxon_id,  # Species+ ids: the same in every registry
            balance=i.balance,
        )
        for i in permit.items
    ]
    return row, items


async def store_copies(session: AsyncSession, copies: Sequence[PermitOut]) -> None:
    """Keep each partner permit: insert it the first time; later lower the balances to the
    partner's where those are lower and take over a final status."""
    table: sa.Table = PermitItem.__table__  # type: ignore[attr-defined]
    balance = sa.type_coerce(table.c.balance, sa.BigInteger)
    for permit in copies:
        existing = await session.get(Permit, permit.id)
        if existing is not None and (existing.issuing_country, existing.number) != (
            permit.issuing_country,
            permit.number,
        ):
            continue  # another permit's id: never touched (verification refused it first)
        if existing is None:
            row, items = _rows(permit, created_by=f"partner:{permit.issuing_country}")
            try:
                async with session.begin_nested():
                    await permits.add(session, row, items)
            except IntegrityError:
                pass  # a concurrent verification stored it first: the same copy
            continue
        for item in permit.items:
            units = sa.literal(to_units(item.balance), sa.BigInteger)
            await session.exec(
                sa.update(table)
                .where(
                    table.c.permit_id == permit.id,
                    table.c.item_id == item.item_id,
                    balance > units,
                )
                .values({table.c.balance: units})
            )
        if permit.status.value not in _OPEN:
            await session.exec(
                sa.update(Permit)
                .where(col(Permit.id) == permit.id, col(Permit.status).in_(_OPEN))
                .values(status=permit.status.value)
                .execution_options(synchronize_session=False)
            )
