"""The exchange with partner countries, on both sides.

Serving partners: `lookup` answers a permit this registry issued, as issued (boxes,
signature) with its status and balances; `confirm` records what a partner endorsed on one,
through the same conditional UPDATEs as an endorsement here. Both are audited with the
partner's client. Asking partners: `fetch` gets the permits a declaration names from their
issuing countries; `confirm_back` (the consumer of `permits.permit.endorsed`) reports an
endorsement made here of a partner's permit to its issuing registry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime

import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from pangolin_core.contracts.envelope import CloudEvent
from pangolin_core.contracts.permits import PermitEndorsed
from pangolin_core.errors import NotFound
from pangolin_core.identity import Caller
from pangolin_core.messaging.consumer import PoisonEvent
from permit_verify.audit import repository as audit
from permit_verify.audit.schemas import AuditAction
from permit_verify.endorsements import repository as endorsement_records
from permit_verify.endorsements import service as endorsements
from permit_verify.endorsements.schemas import (
    EndorsedItemIn,
    EndorsedItemOut,
    EndorsementOut,
    ItemBalance,
)
from permit_verify.errors import NotIssuingCountry
from permit_verify.partners.client import (
    ConfirmationRefused,
    PartnerDirectory,
    PartnerPermit,
    PartnerUnavailable,
)
from permit_verify.partners.schemas import ConfirmationIn
from permit_verify.permits import repository as permits
from permit_verify.permits.schemas import PermitOut, PermitStatus
from permit_verify.permits.service import permit_out

log = structlog.get_logger(__name__)


async def lookup(
    *,
    session: AsyncSession,
    number: str,
    issuing_country: str,
    caller: Caller,
    directory: PartnerDirectory,
) -> PermitOut:
    """A permit this registry issued. Copies of partners' permits are not served: a partner
    asks the issuing country itself."""
    permit = None
    if issuing_country not in directory:
        permit = await permits.find_by_number(
            session, issuing_country=issuing_country, number=number
        )
    if permit is None:
        raise NotFound(f"{issuing_country} has no permit {number} in this registry.")
    out = permit_out(permit, await permits.items_of(session, permit.id))
    await audit.record(
        session,
        permit_id=permit.id,
        action=AuditAction.LOOKED_UP,
        caller=caller,
        at=datetime.now(UTC),
        details={"number": permit.number, "status": out.status.value},
    )
    return out


async def _confirmed_before(
    session: AsyncSession, permit_id: str, confirmation: ConfirmationIn, caller: Caller
) -> EndorsementOut | None:
    """The same confirmation recorded before (same partner, declaration, office, date and
    items), as it stands now; None when there is none. Another one under the same
    declaration id goes on to the endorsement's 409 `declaration_already_endorsed`."""
    found = await endorsement_records.of_declaration(
        session, permit_id=permit_id, declaration_id=confirmation.declaration_id
    )
    if found is None:
        return None
    endorsement, lines = found
    same = (
        endorsement.country == caller.country
        and endorsement.office == confirmation.office
        and endorsement.endorsed_on == confirmation.endorsed_on
        and sorted((line.item_id, line.quantity) for line in lines)
        == sorted((item.item_id, item.quantity) for item in confirmation.items)
    )
    if not same:
        return None
    permit = await permits.get(session, permit_id)
    left = await permits.balances(session, permit_id)
    return EndorsementOut(
        id=endorsement.id,
        permit_id=permit_id,
        declaration_id=endorsement.declaration_id,
        office=endorsement.office,
        endorsed_on=endorsement.endorsed_on,
        items=[
            EndorsedItemOut(
                item_id=line.item_id, quantity=line.quantity, balance=left[line.item_id]
            )
            for line in lines
        ],
        status=PermitStatus(permit.status),
        balances=[ItemBalance(item_id=k, balance=v) for k, v in left.items()],
    )


async def confirm(
    *,
    session: AsyncSession,
    permit_id: str,
    confirmation: ConfirmationIn,
    caller: Caller,
    directory: PartnerDirectory,
    today: date,
) -> tuple[EndorsementOut, bool]:
    """A partner's endorsement of a permit issued here: taken from the balances like an
    endorsement here (never below zero, once per declaration). The same confirmation again
    answers the first one as it stands (False: nothing new recorded)."""
    permit = await permits.get(session, permit_id)
    if permit.issuing_country in directory or caller.country == permit.issuing_country:
        raise NotIssuingCountry(
            f"Permit {permit.number} of {permit.issuing_country}: only a partner country"
            " confirms endorsements, and only of permits this registry issued."
        )
    before = await _confirmed_before(session, permit_id, confirmation, caller)
    if before is not None:
        return before, False
    recorded = await endorsements.endorse(
        session=session,
        permit_id=permit_id,
        request=confirmation,
        caller=caller,
        today=today,
        action=AuditAction.CONFIRMED,
    )
    return recorded, True


@dataclass(frozen=True)
class PartnerAnswers:
    """What the partners said about the permits a declaration names from their countries."""

    found: dict[tuple[str, str], PartnerPermit]
    not_found: frozenset[tuple[str, str]]  # the issuing registry has no such permit
    unavailable: dict[tuple[str, str], str]  # no answer: why


async def fetch(
    *, directory: PartnerDirectory, references: Collection[tuple[str, str]]
) -> PartnerAnswers:
    """Each (country, number) of a partner country, asked of its gateway concurrently."""
    wanted = sorted({ref for ref in references if ref[0] in directory})

    async def one(country: str, number: str) -> PartnerPermit | str | None:
        try:
            return await directory.permit(country, number)
        except PartnerUnavailable as exc:
            log.warning("partner_unavailable", country=country, number=number, error=str(exc))
            return str(exc)

    answers = await asyncio.gather(*(one(c, n) for c, n in wanted))
    found: dict[tuple[str, str], PartnerPermit] = {}
    not_found: set[tuple[str, str]] = set()
    unavailable: dict[tuple[str, str], str] = {}
    for ref, answer in zip(wanted, answers, strict=True):
        if isinstance(answer, PartnerPermit):
            found[ref] = answer
        elif answer is None:
            not_found.add(ref)
        else:
            unavailable[ref] = answer
    return PartnerAnswers(found, frozenset(not_found), unavailable)


async def confirm_back(
    _session: AsyncSession, event: CloudEvent, *, directory: PartnerDirectory
) -> None:
    """An endorsement made here of a partner's permit, reported to its issuing registry.
    A partner that does not answer is a retry (the consumer's backoff); a refusal is final
    and logged (the endorsement here stands; the MAs settle it)."""
    endorsed = PermitEndorsed.model_validate(event.data)
    if endorsed.issuing_country not in directory:
        return  # a permit of this registry (or a confirmation a partner sent here)
    confirmation = ConfirmationIn(
        declaration_id=endorsed.declaration_id,
        office=endorsed.office,
        endorsed_on=endorsed.endorsed_on,
        items=[EndorsedItemIn(item_id=i.item_id, quantity=i.quantity) for i in endorsed.items],
    )
    try:
        await directory.confirm(endorsed.issuing_country, endorsed.permit_id, confirmation)
    except ConfirmationRefused as exc:
        raise PoisonEvent(
            f"{endorsed.issuing_country} refused the confirmation of {endorsed.number}"
            f" ({endorsed.declaration_id}): {exc}"
        ) from exc
    log.info(
        "partner_confirmed",
        country=endorsed.issuing_country,
        permit_id=endorsed.permit_id,
        declaration_id=endorsed.declaration_id,
    )
