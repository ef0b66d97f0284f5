"""Endorsing a permit at clearance: take the shipped quantities from the balances.

All items in the request's one transaction, each through a conditional UPDATE
(`balance = balance - :q WHERE balance >= :q`): if any item would go below zero the whole
endorsement is refused (409 with the balances) and nothing is taken. Before the items, the
permit row itself is claimed with a conditional UPDATE on its status, so a single-use
document closed by a concurrent endorsement is seen as closed. On SQLite writers queue on
the write lock; on PostgreSQL on the permit's row lock. Neither relies on a value read in
Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

from sqlmodel.ext.asyncio.session import AsyncSession

from pangolin_core.contracts.permits import EndorsedItem, PermitEndorsed
from pangolin_core.errors import InvalidInput
from pangolin_core.identity import Caller
from pangolin_core.messaging.outbox import enqueue
from permit_verify.audit import repository as audit
from permit_verify.audit.schemas import AuditAction
from permit_verify.endorsements import repository
from permit_verify.endorsements.models import Endorsement, EndorsementLine
from permit_verify.endorsements.rules import endorsement_problems
from permit_verify.endorsements.schemas import (
    EndorsedItemOut,
    EndorsementIn,
    EndorsementOut,
    ItemBalance,
)
from permit_verify.errors import BalanceExceeded, DeclarationAlreadyEndorsed, PermitClosed
from permit_verify.permits import repository as permits
from permit_verify.permits.models import Permit, PermitItem
from permit_verify.permits.rules import closed_reason, status_after_endorsement
from permit_verify.permits.schemas import PermitStatus, PermitType
from permit_verify.permits.service import EVENT_SOURCE


def _balances_json(balances: Mapping[str, Decimal]) -> list[dict[str, str]]:
    return [{"item_id": k, "balance": str(v)} for k, v in balances.items()]


async def _refuse_same_declaration(
    session: AsyncSession, permit: Permit, request: EndorsementIn
) -> None:
    if await repository.declaration_endorsed(
        session, permit_id=permit.id, declaration_id=request.declaration_id
    ):
        raise DeclarationAlreadyEndorsed(
            f"Declaration {request.declaration_id} already endorsed permit {permit.number}."
        )


async def _claim(session: AsyncSession, permit: Permit, request: EndorsementIn) -> None:
    """Hold the permit for this endorsement, or refuse (409 with the balances) when it is
    closed on `endorsed_on`: by its stored status, its dates, or a concurrent change."""

    def reason(status: str) -> str | None:
        return closed_reason(
            status=PermitStatus(status),
            issued_on=permit.issued_on,
            valid_until=permit.valid_until,
            on=request.endorsed_on,
        )

    status = permit.status
    closed = reason(status)
    if closed is None and not await permits.claim_open(session, permit_id=permit.id):
        status = (await permits.get(session, permit.id)).status
        closed = reason(status)
    if closed is not None:
        raise PermitClosed(
            f"Permit {permit.number} cannot be endorsed on {request.endorsed_on}: {closed}.",
            status=status,
            balances=_balances_json(await permits.balances(session, permit.id)),
        )


async def _take(
    session: AsyncSession,
    permit: Permit,
    items: Mapping[str, PermitItem],
    request: EndorsementIn,
) -> dict[str, Decimal]:
    """Take every line from its item's balance, or refuse the whole endorsement (409 with
    the balances as they stay: the transaction rolls back). Answers what is left."""
    short: list[str] = []
    taken: dict[str, Decimal] = {}
    for line in request.items:
        pk = items[line.item_id].id
        assert pk is not None
        if await permits.take_from_balance(session, item_pk=pk, quantity=line.quantity):
            taken[line.item_id] = line.quantity
        else:
            short.append(line.item_id)
    left = await permits.balances(session, permit.id)
    if not short:
        return left
    kept = {k: v + taken.get(k, Decimal(0)) for k, v in left.items()}
    requested = {line.item_id: line.quantity for line in request.items}
    raise BalanceExceeded(
        f"Permit {permit.number}: the quantity of item(s) {', '.join(short)} is above"
        " the remaining balance; nothing was endorsed.",
        errors=[
            {
                "field": f"items[{n}].quantity",
                "message": f"{line.quantity} requested, {kept[line.item_id]} left",
                "type": "balance_exceeded",
            }
            for n, line in enumerate(request.items)
            if line.item_id in short
        ],
        balances=[
            {
                "item_id": k,
                "balance": str(v),
                **({"requested": str(requested[k])} if k in requested else {}),
            }
            for k, v in kept.items()
        ],
    )


async def endorse(
    *,
    session: AsyncSession,
    permit_id: str,
    request: EndorsementIn,
    caller: Caller,
    today: date,
    action: AuditAction = AuditAction.ENDORSED,
) -> EndorsementOut:
    """Endorse here; `action` CONFIRMED when a partner reports an endorsement it made of a
    permit this registry issued (the same rules, the same balances)."""
    permit = await permits.get(session, permit_id)
    items = {item.item_id: item for item in await permits.items_of(session, permit_id)}
    problems = endorsement_problems(request, number=permit.number, item_ids=set(items), today=today)
    if problems:
        raise InvalidInput("The endorsement does not fit the permit.", errors=problems)
    await _refuse_same_declaration(session, permit, request)
    await _claim(session, permit, request)
    # Again under the claim: on PostgreSQL the permit's row lock is held now, so an
    # endorsement of the same declaration that committed meanwhile is seen.
    await _refuse_same_declaration(session, permit, request)
    left = await _take(session, permit, items, request)

    status = status_after_endorsement(PermitType(permit.type), left.values())
    await permits.set_status(session, permit_id=permit_id, status=status)
    now = datetime.now(UTC)
    endorsement = Endorsement(
        id=str(uuid4()),
        permit_id=permit_id,
        declaration_id=request.declaration_id,
        office=request.office,
        endorsed_on=request.endorsed_on,
        client_id=caller.client_id,
        country=caller.country,
        created_at=now,
    )
    lines = []
    for line in request.items:
        pk = items[line.item_id].id
        assert pk is not None
        lines.append(
            EndorsementLine(
                endorsement_id=endorsement.id,
                permit_item_id=pk,
                item_id=line.item_id,
                quantity=line.quantity,
            )
        )
    await repository.add(session, endorsement, lines)
    endorsed = [
        EndorsedItemOut(item_id=line.item_id, quantity=line.quantity, balance=left[line.item_id])
        for line in request.items
    ]
    await audit.record(
        session,
        permit_id=permit_id,
        action=action,
        caller=caller,
        at=now,
        details={
            "endorsement_id": endorsement.id,
            "declaration_id": request.declaration_id,
            "office": request.office,
            "endorsed_on": request.endorsed_on.isoformat(),
            "items": [item.model_dump(mode="json") for item in endorsed],
            "status": status.value,
        },
    )
    event = PermitEndorsed(
        permit_id=permit_id,
        number=permit.number,
        issuing_country=permit.issuing_country,
        endorsement_id=endorsement.id,
        declaration_id=request.declaration_id,
        office=request.office,
        endorsed_on=request.endorsed_on,
        items=[EndorsedItem(**item.model_dump()) for item in endorsed],
        status=status.value,
        endorsed_by=caller.client_id,
        endorsing_country=caller.country,
    )
    await enqueue(session, event.to_event(source=EVENT_SOURCE, subject=permit_id))
    return EndorsementOut(
        id=endorsement.id,
        permit_id=permit_id,
        declaration_id=request.declaration_id,
        office=request.office,
        endorsed_on=request.endorsed_on,
        items=endorsed,
        status=status,
        balances=[ItemBalance(item_id=k, balance=v) for k, v in left.items()],
    )
