"""The registry's use cases: issue a permit, read it, change its status. Services never
commit: the request's session is the unit of work."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from uuid import uuid4

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from pangolin_core.contracts.cites_codes import CodeListName, CodeLists
from pangolin_core.contracts.permits import (
    PermitIssued,
    PermitItemSummary,
    PermitParty,
    PermitStatusChanged,
)
from pangolin_core.contracts.species import NameMatch, SpeciesStatus, StatusQuery
from pangolin_core.errors import InvalidInput
from pangolin_core.identity import Caller
from pangolin_core.messaging.outbox import enqueue
from pangolin_core.messaging.rpc import RpcClient
from permit_verify.audit import repository as audit
from permit_verify.audit.schemas import AuditAction
from permit_verify.endorsements import repository as endorsements
from permit_verify.epix.citesepermit import ItemEndorsement, to_citesepermit
from permit_verify.errors import (
    NotIssuingCountry,
    PermitNumberTaken,
    PermitStatusFinal,
    SpeciesUnavailable,
)
from permit_verify.permits import repository
from permit_verify.permits.models import Permit, PermitItem
from permit_verify.permits.rules import (
    PRECISE_MATCHES,
    IssuedQuantity,
    Problem,
    as_back_filled_warnings,
    is_back_filled,
    issue_problems,
    species_problems,
)
from permit_verify.permits.schemas import (
    IssuedPermitOut,
    IssueWarning,
    Party,
    PermitIn,
    PermitItemOut,
    PermitOut,
    PermitStatus,
    PermitType,
    StatusChangeIn,
)
from permit_verify.permits.signing import PermitSigner
from permit_verify.settings import EXTRA_COUNTRY_DESCRIPTION
from permit_verify.species import name_matches, species_statuses

EVENT_SOURCE = "/pangolin/permit-verify"
# Who may read a permit (and the keys that verify it): as the gateway's route table has it.
READ_SCOPES = ("permits:read", "permits:issue", "permits:endorse", "permits:verify")


def require_issuing_country(caller: Caller, country: str) -> None:
    """A Management Authority acts on its own country's permits only."""
    if caller.country != country:
        raise NotIssuingCountry(
            f"A Management Authority of {caller.country or 'no country'} cannot act on"
            f" permits issued by {country}.",
            errors=[
                {
                    "field": "issuing_country",
                    "message": f"the caller's country is {caller.country or 'not set'}",
                    "type": "not_issuing_country",
                }
            ],
        )


def _aware(moment: datetime) -> datetime:
    # SQLite gives back naive datetimes; every time Pangolin stores is UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def permit_out(permit: Permit, items: Sequence[PermitItem]) -> PermitOut:
    return PermitOut(
        id=permit.id,
        number=permit.number,
        type=PermitType(permit.type),
        issuing_country=permit.issuing_country,
        issuing_authority=permit.issuing_authority,
        security_stamp=permit.security_stamp,
        issued_on=permit.issued_on,
        valid_until=permit.valid_until,
        exporter=Party(
            name=permit.exporter_name,
            address=permit.exporter_address,
            country=permit.exporter_country,
        ),
        importer=Party(
            name=permit.importer_name,
            address=permit.importer_address,
            country=permit.importer_country,
        ),
        purpose=permit.purpose,
        special_conditions=permit.special_conditions,
        status=PermitStatus(permit.status),
        items=[
            PermitItemOut(
                item_id=i.item_id,
                species=i.species,
                taxon_id=i.taxon_id,
                description=i.description,
                term=i.term,
                appendix=i.appendix,
                source=i.source,
                quantity=i.quantity,
                unit=i.unit,
                origin_country=i.origin_country,
                origin_permit=i.origin_permit,
                reexport_certificate=i.reexport_certificate,
                balance=i.balance,
            )
            for i in items
        ],
        signature=permit.signature,
        signing_key_id=permit.signing_key_id,
        version=permit.version,
        created_at=_aware(permit.created_at),
    )


def _number_taken(request: PermitIn) -> PermitNumberTaken:
    return PermitNumberTaken(
        f"{request.issuing_country} already registered permit {request.number}.",
        errors=[{"field": "number", "message": "already registered", "type": "duplicate"}],
    )


def _refused(problems: Sequence[Problem]) -> InvalidInput:
    return InvalidInput(
        "The permit cannot be issued: "
        + "; ".join(f"{p['field']}: {p['message']}" for p in problems),
        errors=list(problems),
    )


@dataclass(frozen=True)
class SpeciesCheck:
    """How an issue asks species-ref: `rpc` None is the setting `species_check_at_issue` off
    (the service's tests of other features only)."""

    rpc: RpcClient | None
    timeout: float


@dataclass
class SpeciesVerdict:
    """What species-ref said of a permit at issue: the resolved taxa (item index -> taxon id)
    and the warnings it is stored with."""

    taxa: dict[int, int] = field(default_factory=dict)
    warnings: list[IssueWarning] = field(default_factory=list)


def _known_to_species_ref(code: str | None, codes: CodeLists) -> str | None:
    """The country code as species-ref is asked it: None for a user-assigned code the
    settings admit (a test exchange's fictitious country), which it does not know."""
    if code is None:
        return None
    entry = codes.lists[CodeListName.COUNTRIES].get(code)
    return None if entry is None or entry.description == EXTRA_COUNTRY_DESCRIPTION else code


def status_queries(permit: PermitIn, codes: CodeLists) -> list[StatusQuery]:
    """One query per item: its name on the issue date, as the issuing State trades it (the
    importing State for an import permit, the exporting one for every other document)."""
    country = _known_to_species_ref(permit.issuing_country, codes)
    if permit.type is PermitType.IMPORT:
        trading: dict[str, Any] = {
            "country": country,
            "direction": "import",
            "exporter": _known_to_species_ref(permit.exporter.country, codes),
        }
    else:
        trading = {"country": country, "direction": "export"}
    return [
        StatusQuery.model_validate(
            {
                "name": item.species,
                "as_of": permit.issued_on,
                "origin": _known_to_species_ref(item.origin_country, codes),
                "term": item.term,
                "source": item.source,
                "purpose": permit.purpose,
                **trading,
            }
        )
        for item in permit.items
    ]


async def _issued_before(
    session: AsyncSession, permit: PermitIn, statuses: Sequence[SpeciesStatus]
) -> list[IssuedQuantity]:
    """What the country's earlier permits hold of the taxa under a quota above zero, in the
    permit's year: one query, only when such a quota applies."""
    taxa = {
        taxon
        for status in statuses
        for quota in status.quotas
        if quota.quota > 0
        for taxon in (status.taxon_id, quota.taxon.taxon_id)
        if taxon is not None
    }
    if not taxa or permit.type is PermitType.IMPORT:
        return []
    year = permit.issued_on.year
    return await repository.issued_quantities(
        session,
        country=permit.issuing_country,
        taxa=taxa,
        since=date(year, 1, 1),
        until=date(year, 12, 31),
    )


@dataclass(frozen=True)
class SpeciesAnswers:
    """species-ref's answers about a permit's items, in item order (None: the check is off),
    and its matches of the names it did not resolve precisely (their alternatives)."""

    statuses: list[SpeciesStatus] | None
    matches: dict[str, NameMatch] = field(default_factory=dict)


async def prepare_issue(
    *, request: PermitIn, caller: Caller, codes: CodeLists, species: SpeciesCheck, today: date
) -> SpeciesAnswers:
    """What an issue checks before it touches the registry: the caller's country, the rules
    that need no other service, then species-ref's answers (one `species.rpc.status` batch,
    and `species.rpc.match` only to explain a name being refused). No transaction is open
    meanwhile, so on SQLite no writer waits for species-ref. species-ref not answering is a
    503: nothing is issued unchecked."""
    require_issuing_country(caller, request.issuing_country)
    problems = issue_problems(request, codes=codes, today=today)
    if problems:
        raise _refused(problems)
    if species.rpc is None:
        return SpeciesAnswers(None)
    statuses = await species_statuses(
        rpc=species.rpc, queries=status_queries(request, codes), timeout=species.timeout
    )
    if statuses is None:
        raise SpeciesUnavailable(
            "species-ref did not answer: the permit's species, appendix, suspensions and"
            " quotas cannot be checked, so it was not issued. Send it again."
        )
    imprecise = sorted(
        {
            item.species
            for item, status in zip(request.items, statuses, strict=True)
            if status.match_type not in PRECISE_MATCHES
        }
    )
    if not imprecise:
        return SpeciesAnswers(statuses)
    # Only to say what the refusal suggests: the refusal stands without it.
    found = await name_matches(rpc=species.rpc, names=imprecise, timeout=species.timeout)
    return SpeciesAnswers(statuses, {m.query: m for m in found or []})


async def _species_verdict(
    session: AsyncSession,
    permit: PermitIn,
    answers: SpeciesAnswers,
    codes: CodeLists,
    today: date,
) -> SpeciesVerdict:
    """`species_problems` over species-ref's answers and the quota use (one query): a permit
    issued now is refused (422) for what it finds, a back-filled one is stored with it as
    warnings."""
    statuses = answers.statuses
    if statuses is None:
        return SpeciesVerdict()
    problems, warned = species_problems(
        permit,
        statuses,
        matches=answers.matches,
        issued=await _issued_before(session, permit, statuses),
        restrictions_known=_known_to_species_ref(permit.issuing_country, codes) is not None,
    )
    if problems and not is_back_filled(permit, today=today):
        raise _refused(problems)
    return SpeciesVerdict(
        taxa={
            n: status.taxon_id
            for n, status in enumerate(statuses)
            if status.taxon_id is not None and status.match_type in PRECISE_MATCHES
        },
        warnings=[
            IssueWarning.model_validate(w) for w in [*warned, *as_back_filled_warnings(problems)]
        ],
    )


async def issue(
    *,
    session: AsyncSession,
    request: PermitIn,
    caller: Caller,
    signer: PermitSigner,
    codes: CodeLists,
    answers: SpeciesAnswers,
    today: date,
    exchange_details: dict[str, Any] | None = None,
) -> IssuedPermitOut:
    """Issue (or back-fill) a permit that `prepare_issue` checked and asked species-ref
    about; `exchange_details` are what an imported CITESEPermit message carried beyond the
    JSON boxes. On SQLite the quota query takes the write lock, so two issues under one
    quota queue and the second counts the first."""
    require_issuing_country(caller, request.issuing_country)
    checked = await _species_verdict(session, request, answers, codes, today)
    if await repository.number_taken(
        session, issuing_country=request.issuing_country, number=request.number
    ):
        raise _number_taken(request)
    signature, key_id = signer.sign(request.issuing_country, request.model_dump())
    now = datetime.now(UTC)
    permit = Permit(
        id=str(uuid4()),
        **repository.box_columns(request),
        status=PermitStatus.VALID.value,
        exchange_details=exchange_details,
        signature=signature,
        signing_key_id=key_id,
        version=1,
        created_by=caller.client_id,
        created_at=now,
    )
    items = [
        PermitItem(
            permit_id=permit.id,
            **repository.item_box_columns(i),
            balance=i.quantity,
            taxon_id=checked.taxa.get(n),
        )
        for n, i in enumerate(request.items)
    ]
    try:
        await repository.add(session, permit, items)
    except IntegrityError as exc:
        # Another request registered the number since the check above (PostgreSQL: its
        # insert waited for that one to commit). The transaction rolls back.
        raise _number_taken(request) from exc
    out = permit_out(permit, items)
    await audit.record(
        session,
        permit_id=permit.id,
        action=AuditAction.ISSUED,
        caller=caller,
        at=now,
        details={
            "number": permit.number,
            "type": permit.type,
            "warnings": [w.model_dump() for w in checked.warnings],
        },
    )
    event = PermitIssued(
        permit_id=out.id,
        number=out.number,
        type=out.type.value,
        issuing_country=out.issuing_country,
        issued_on=out.issued_on,
        valid_until=out.valid_until,
        purpose=out.purpose,
        status=out.status.value,
        exporter=PermitParty(**out.exporter.model_dump()),
        importer=PermitParty(**out.importer.model_dump()),
        items=[
            PermitItemSummary(
                item_id=i.item_id,
                species=i.species,
                term=i.term,
                appendix=i.appendix,
                source=i.source,
                quantity=i.quantity,
                unit=i.unit,
                origin_country=i.origin_country,
                balance=i.balance,
            )
            for i in out.items
        ],
        issued_by=caller.client_id,
    )
    await enqueue(session, event.to_event(source=EVENT_SOURCE, subject=out.id))
    return IssuedPermitOut.model_validate({**out.model_dump(), "warnings": checked.warnings})


async def read(*, session: AsyncSession, permit_id: str) -> PermitOut:
    permit = await repository.get(session, permit_id)
    return permit_out(permit, await repository.items_of(session, permit_id))


async def read_as_citesepermit(*, session: AsyncSession, permit_id: str) -> bytes:
    """The permit as a CITESEPermit v2 message (with what its own message carried), box 14
    from the registry's endorsements."""
    permit = await repository.get(session, permit_id)
    out = permit_out(permit, await repository.items_of(session, permit_id))
    endorsed = [
        ItemEndorsement(line.item_id, endorsement.endorsed_on, line.quantity, endorsement.office)
        for endorsement, line in await endorsements.lines_of_permit(session, permit_id)
    ]
    return to_citesepermit(out, permit.exchange_details, endorsed)


async def change_status(
    *, session: AsyncSession, permit_id: str, change: StatusChangeIn, caller: Caller
) -> PermitOut:
    permit = await repository.get(session, permit_id)
    require_issuing_country(caller, permit.issuing_country)
    previous = permit.status
    new = PermitStatus(change.status)
    if not await repository.close_if_open(session, permit_id=permit_id, status=new):
        current = (await repository.get(session, permit_id)).status
        raise PermitStatusFinal(
            f"Permit {permit.number} is {current}: that status is final.",
            status=current,
        )
    now = datetime.now(UTC)
    await audit.record(
        session,
        permit_id=permit_id,
        action=AuditAction.STATUS_CHANGED,
        caller=caller,
        at=now,
        details={"from": previous, "to": new.value, "reason": change.reason},
    )
    event = PermitStatusChanged(
        permit_id=permit_id,
        number=permit.number,
        issuing_country=permit.issuing_country,
        previous_status=previous,
        status=new.value,
        reason=change.reason,
        changed_by=caller.client_id,
        changed_at=now,
    )
    await enqueue(session, event.to_event(source=EVENT_SOURCE, subject=permit_id))
    return await read(session=session, permit_id=permit_id)
