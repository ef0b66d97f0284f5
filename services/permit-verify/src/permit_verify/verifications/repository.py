"""SQL of verifications: the permits a declaration presents (one query for all its lines),
the other declarations that presented them, and the stored verifications."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from permit_verify.endorsements.models import Endorsement, EndorsementLine
from permit_verify.permits.models import Permit, PermitItem
from permit_verify.tables import Quantity
from permit_verify.verifications.models import Verification, VerificationPermit
from permit_verify.verifications.rules import ExportedQuantity, OtherDeclaration


@dataclass(frozen=True)
class StoredVerification:
    """What a replay needs of a stored verification."""

    id: str
    fingerprint: str
    response: dict[str, Any]


async def permits_by_reference(
    session: AsyncSession, references: Collection[tuple[str, str]]
) -> dict[tuple[str, str], tuple[Permit, list[PermitItem]]]:
    """(issuing country, number) -> the permit and its items, for every reference at once:
    one round trip whatever the number of lines."""
    if not references:
        return {}
    wanted = sa.or_(
        *(
            sa.and_(col(Permit.issuing_country) == country, col(Permit.number) == number)
            for country, number in references
        )
    )
    query = (
        select(Permit, PermitItem)
        .join(PermitItem, col(PermitItem.permit_id) == col(Permit.id))
        .where(wanted)
        .order_by(col(Permit.id), col(PermitItem.id))
    )
    found: dict[tuple[str, str], tuple[Permit, list[PermitItem]]] = {}
    for permit, item in (await session.exec(query)).all():
        key = (permit.issuing_country, permit.number)
        found.setdefault(key, (permit, []))[1].append(item)
    return found


async def ids_taken(session: AsyncSession, ids: Collection[str]) -> set[str]:
    """Which of these permit ids the registry holds."""
    query = select(col(Permit.id)).where(col(Permit.id).in_(list(ids)))
    return set((await session.exec(query)).all())


async def other_declarations(
    session: AsyncSession, *, permit_ids: Collection[str], declaration_id: str
) -> dict[str, list[OtherDeclaration]]:
    """permit id -> the other declarations that presented it (verified here) or were
    endorsed on it, in one round trip."""
    if not permit_ids:
        return {}
    presented_table: sa.Table = VerificationPermit.__table__  # type: ignore[attr-defined]
    endorsement_table: sa.Table = Endorsement.__table__  # type: ignore[attr-defined]
    parts = [
        sa.select(t.c.permit_id, t.c.declaration_id, sa.literal(flag).label("endorsed")).where(
            t.c.permit_id.in_(permit_ids), t.c.declaration_id != declaration_id
        )
        for t, flag in ((presented_table, 0), (endorsement_table, 1))
    ]
    # A compound select: sqlmodel types `exec` for plain selects only.
    rows = (await session.exec(sa.union_all(*parts))).all()  # type: ignore[call-overload]
    flags: dict[str, dict[str, bool]] = defaultdict(dict)
    for permit_id, other, was_endorsed in rows:
        flags[permit_id][other] = flags[permit_id].get(other, False) or bool(was_endorsed)
    return {
        permit_id: [OtherDeclaration(d, e) for d, e in sorted(others.items())]
        for permit_id, others in flags.items()
    }


async def find(session: AsyncSession, *, declaration_id: str) -> StoredVerification | None:
    table: sa.Table = Verification.__table__  # type: ignore[attr-defined]
    query = sa.select(table.c.id, table.c.fingerprint, table.c.response).where(
        table.c.declaration_id == declaration_id
    )
    row = (await session.exec(query)).first()  # type: ignore[call-overload]
    return None if row is None else StoredVerification(*row)


async def get(session: AsyncSession, verification_id: str) -> Verification | None:
    return await session.get(Verification, verification_id)


async def add(
    session: AsyncSession, verification: dict[str, Any], presented: Sequence[dict[str, Any]]
) -> bool:
    """The verification row and its presented permits' rows, unless a verification of the
    declaration is stored already (False): `ON CONFLICT DO NOTHING` on the declaration id,
    so a concurrent request's row needs no savepoint to recover from (on PostgreSQL the
    insert waits for the other transaction). Core statements: the ORM's unit of work cost
    more than the statements on the verification path."""
    verification_table: sa.Table = Verification.__table__  # type: ignore[attr-defined]
    presented_table: sa.Table = VerificationPermit.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(verification_table).on_conflict_do_nothing(
        index_elements=[verification_table.c.declaration_id]
    )
    result = await session.exec(statement, params=[verification])
    if _rowcount(result) == 0:
        return False
    if presented:
        await session.exec(sa.insert(presented_table), params=list(presented))
    return True


def _rowcount(result: object) -> int:
    assert isinstance(result, CursorResult)
    return result.rowcount


# Documents whose endorsements are exports of the issuing country's own specimens (an import
# permit is the importing country's; a re-export's specimens count against their origin's).
_NOT_EXPORTS = ("import", "re_export")


async def exported_quantities(
    session: AsyncSession, *, country: str, since: date, until: date
) -> list[ExportedQuantity]:
    """What `country`'s permits were endorsed for between the two dates (inclusive), summed
    per species, term, source, purpose and unit: one round trip."""
    line: sa.Table = EndorsementLine.__table__  # type: ignore[attr-defined]
    endorsement: sa.Table = Endorsement.__table__  # type: ignore[attr-defined]
    item: sa.Table = PermitItem.__table__  # type: ignore[attr-defined]
    permit: sa.Table = Permit.__table__  # type: ignore[attr-defined]
    keys = (item.c.species, item.c.term, item.c.source, permit.c.purpose, item.c.unit)
    query = (
        sa.select(*keys, sa.func.sum(line.c.quantity, type_=Quantity))
        .select_from(
            line.join(endorsement, line.c.endorsement_id == endorsement.c.id)
            .join(item, line.c.permit_item_id == item.c.id)
            .join(permit, item.c.permit_id == permit.c.id)
        )
        .where(
            permit.c.issuing_country == country,
            permit.c.type.not_in(_NOT_EXPORTS),
            endorsement.c.endorsed_on >= since,
            endorsement.c.endorsed_on <= until,
        )
        .group_by(*keys)
        .order_by(*keys)
    )
    rows = (await session.exec(query)).all()  # type: ignore[call-overload]
    return [ExportedQuantity(*row) for row in rows]
