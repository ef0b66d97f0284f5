"""SQL of verifications: the permits a declaration presents (one query for all its lines),
the other declarations that presented them, and the stored verifications.

Functions of a synchronous `Connection`: the verification path runs them as `Database.run`
units of work (one read unit, one write unit), so on SQLite a unit is one hop to a thread
instead of one per statement."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import Connection

from permit_verify.endorsements.models import Endorsement, EndorsementLine
from permit_verify.permits.models import Permit, PermitItem
from permit_verify.tables import Quantity, insert_unless_conflict
from permit_verify.verifications.models import Verification, VerificationPermit
from permit_verify.verifications.rules import ExportedQuantity, OtherDeclaration


@dataclass(frozen=True)
class StoredVerification:
    """What a replay needs of a stored verification."""

    id: str
    fingerprint: str
    response: dict[str, Any]


# The verification path's statements are built once: building a SQLAlchemy expression
# (and its cache key) per request cost about as much as running it (bench/verify_cpu.py).
_PERMIT: sa.Table = Permit.__table__  # type: ignore[attr-defined]
_ITEM: sa.Table = PermitItem.__table__  # type: ignore[attr-defined]
_VERIFICATION: sa.Table = Verification.__table__  # type: ignore[attr-defined]
_PRESENTED: sa.Table = VerificationPermit.__table__  # type: ignore[attr-defined]
_ENDORSEMENT: sa.Table = Endorsement.__table__  # type: ignore[attr-defined]

# The item's columns under their own names (a Row reads like a PermitItem), the permit's
# prefixed.
_PERMIT_PREFIX = "permit__"
_PERMITS_BY_REFERENCE = (
    sa.select(*_ITEM.c, *(c.label(f"{_PERMIT_PREFIX}{c.name}") for c in _PERMIT.c))
    .select_from(_PERMIT.join(_ITEM, _ITEM.c.permit_id == _PERMIT.c.id))
    # Countries IN and numbers IN (pairs are kept in Python): both engines use the unique
    # (issuing_country, number) index for it, which SQLite does not for a row-value IN.
    .where(
        _PERMIT.c.issuing_country.in_(sa.bindparam("countries", expanding=True)),
        _PERMIT.c.number.in_(sa.bindparam("numbers", expanding=True)),
    )
    .order_by(_PERMIT.c.id, _ITEM.c.id)
)


def permits_by_reference(
    conn: Connection, references: Collection[tuple[str, str]]
) -> dict[tuple[str, str], tuple[Permit, list[PermitItem]]]:
    """(issuing country, number) -> the permit and its items, for every reference at once:
    one round trip whatever the number of lines. Read as rows, not ORM objects (nothing
    here is changed): each has the attributes `permits.service.permit_out` reads."""
    if not references:
        return {}
    params = {
        "countries": sorted({country for country, _ in references}),
        "numbers": sorted({number for _, number in references}),
    }
    rows = conn.execute(_PERMITS_BY_REFERENCE, params)
    found: dict[tuple[str, str], tuple[Permit, list[PermitItem]]] = {}
    for row in rows:
        values = row._mapping
        key = (values[f"{_PERMIT_PREFIX}issuing_country"], values[f"{_PERMIT_PREFIX}number"])
        if key not in references:
            continue
        if key not in found:
            permit = SimpleNamespace(
                **{c.name: values[f"{_PERMIT_PREFIX}{c.name}"] for c in _PERMIT.c}
            )
            found[key] = (cast(Permit, permit), [])
        found[key][1].append(cast(PermitItem, row))
    return found


_IDS_TAKEN = sa.select(_PERMIT.c.id).where(_PERMIT.c.id.in_(sa.bindparam("ids", expanding=True)))


def ids_taken(conn: Connection, ids: Collection[str]) -> set[str]:
    """Which of these permit ids the registry holds."""
    if not ids:
        return set()
    return set(conn.execute(_IDS_TAKEN, {"ids": sorted(ids)}).scalars())


_OTHER_DECLARATIONS = sa.union_all(
    *(
        sa.select(t.c.permit_id, t.c.declaration_id, sa.literal(flag).label("endorsed")).where(
            t.c.permit_id.in_(sa.bindparam("permit_ids", expanding=True)),
            t.c.declaration_id != sa.bindparam("declaration_id"),
        )
        for t, flag in ((_PRESENTED, 0), (_ENDORSEMENT, 1))
    )
)


def other_declarations(
    conn: Connection, *, permit_ids: Collection[str], declaration_id: str
) -> dict[str, list[OtherDeclaration]]:
    """permit id -> the other declarations that presented it (verified here) or were
    endorsed on it, in one round trip."""
    if not permit_ids:
        return {}
    rows = conn.execute(
        _OTHER_DECLARATIONS,
        {"permit_ids": sorted(permit_ids), "declaration_id": declaration_id},
    )
    flags: dict[str, dict[str, bool]] = defaultdict(dict)
    for permit_id, other, was_endorsed in rows:
        flags[permit_id][other] = flags[permit_id].get(other, False) or bool(was_endorsed)
    return {
        permit_id: [OtherDeclaration(d, e) for d, e in sorted(others.items())]
        for permit_id, others in flags.items()
    }


_FIND = sa.select(_VERIFICATION.c.id, _VERIFICATION.c.fingerprint, _VERIFICATION.c.response).where(
    _VERIFICATION.c.declaration_id == sa.bindparam("declaration_id")
)


def find(conn: Connection, *, declaration_id: str) -> StoredVerification | None:
    row = conn.execute(_FIND, {"declaration_id": declaration_id}).first()
    return None if row is None else StoredVerification(*row)


_GET = sa.select(_VERIFICATION.c.response).where(_VERIFICATION.c.id == sa.bindparam("id"))


def response_of(conn: Connection, verification_id: str) -> dict[str, Any] | None:
    """The answer stored for a verification id, as it was given."""
    response: dict[str, Any] | None = conn.execute(_GET, {"id": verification_id}).scalar()
    return response


_ADD = {
    dialect: insert_unless_conflict(dialect, _VERIFICATION, _VERIFICATION.c.declaration_id)
    for dialect in ("sqlite", "postgresql")
}


def add(
    conn: Connection, verification: dict[str, Any], presented: Sequence[dict[str, Any]]
) -> bool:
    """The verification row and its presented permits' rows, unless a verification of the
    declaration is stored already (False): `ON CONFLICT DO NOTHING` on the declaration id,
    so a concurrent request's row needs no savepoint to recover from (on PostgreSQL the
    insert waits for the other transaction). Core statements: the ORM's unit of work cost
    more than the statements on the verification path."""
    if conn.execute(_ADD[conn.dialect.name], verification).rowcount == 0:
        return False
    if presented:
        conn.execute(sa.insert(_PRESENTED), list(presented))
    return True


# Documents whose endorsements are exports of the issuing country's own specimens (an import
# permit is the importing country's; a re-export's specimens count against their origin's).
_NOT_EXPORTS = ("import", "re_export")


def exported_quantities(
    conn: Connection, *, country: str, since: date, until: date
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
    return [ExportedQuantity(*row) for row in conn.execute(query)]
