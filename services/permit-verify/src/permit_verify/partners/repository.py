"""SQL of partner copies: a permit another country issued, as its registry served it, kept
here under the partner's permit id so that it can be endorsed here and confirmed back.

A copy is never edited except as the issuing registry moves on: its balances only go down
(to the partner's when lower) and a final status the partner declared is taken over."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from permit_verify.permits import repository as permits
from permit_verify.permits.models import Permit, PermitItem
from permit_verify.permits.rules import OPEN_STATUSES
from permit_verify.permits.schemas import PermitOut
from permit_verify.tables import insert_unless_conflict, to_units

_OPEN = sorted(s.value for s in OPEN_STATUSES)
_PERMIT: sa.Table = Permit.__table__  # type: ignore[attr-defined]
_ITEM: sa.Table = PermitItem.__table__  # type: ignore[attr-defined]
# A copy is inserted unless its id or its (issuing country, number) is held already: by a
# concurrent verification's copy of the same permit (on PostgreSQL the insert waits for it).
_ADD = {dialect: insert_unless_conflict(dialect, _PERMIT) for dialect in ("sqlite", "postgresql")}
_HELD = sa.select(_PERMIT.c.issuing_country, _PERMIT.c.number).where(
    _PERMIT.c.id == sa.bindparam("id")
)
_BALANCE = sa.type_coerce(_ITEM.c.balance, sa.BigInteger)  # compared on the stored units
_UNITS = sa.bindparam("units", type_=sa.BigInteger)
_LOWER_BALANCE = (
    sa.update(_ITEM)
    .where(
        _ITEM.c.permit_id == sa.bindparam("copy_id"),
        _ITEM.c.item_id == sa.bindparam("copy_item"),
        _BALANCE > _UNITS,
    )
    .values({_ITEM.c.balance: _UNITS})
)
_CLOSE = (
    sa.update(_PERMIT)
    .where(_PERMIT.c.id == sa.bindparam("copy_id"), _PERMIT.c.status.in_(_OPEN))
    .values(status=sa.bindparam("final_status"))
)


def _rows(permit: PermitOut, created_by: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    row = {
        "id": permit.id,
        **permits.box_columns(permit),
        "status": permit.status.value,
        "exchange_details": None,
        "signature": permit.signature,
        "signing_key_id": permit.signing_key_id,
        "version": 1,
        "created_by": created_by,
        "created_at": permit.created_at,
    }
    items = [
        {
            "permit_id": permit.id,
            **permits.item_box_columns(i),
            "taxon_id": i.taxon_id,  # Species+ ids: the same in every registry
            "balance": i.balance,
        }
        for i in permit.items
    ]
    return row, items


def store_copies(conn: Connection, copies: Sequence[PermitOut]) -> None:
    """Keep each partner permit: insert it the first time; later lower the balances to the
    partner's where those are lower and take over a final status."""
    for permit in copies:
        held = conn.execute(_HELD, {"id": permit.id}).first()
        if held is None:
            row, items = _rows(permit, created_by=f"partner:{permit.issuing_country}")
            if conn.execute(_ADD[conn.dialect.name], row).rowcount == 1:
                conn.execute(sa.insert(_ITEM), items)
            # else a concurrent verification stored it first: the same copy
            continue
        if tuple(held) != (permit.issuing_country, permit.number):
            continue  # another permit's id: never touched (verification refused it first)
        for item in permit.items:
            units = to_units(item.balance)
            conn.execute(
                _LOWER_BALANCE, {"copy_id": permit.id, "copy_item": item.item_id, "units": units}
            )
        if permit.status.value not in _OPEN:
            conn.execute(_CLOSE, {"copy_id": permit.id, "final_status": permit.status.value})
