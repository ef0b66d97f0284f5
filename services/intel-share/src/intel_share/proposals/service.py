"""Proposals: an organisation that sees a record but did not originate it proposes a change to
its grading, distribution, dates or content; the originator accepts it (it becomes the
record's next version, as if the originator had made it) or rejects it.

The originator sees every proposal of its records; others see those their own organisation
made. A proposal is validated as a change when it is made (a change the record's type cannot
take is refused then) and again when accepted."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from sqlmodel.ext.asyncio.session import AsyncSession

from intel_share.access.rules import Viewer, is_originator
from intel_share.audit import service as audit
from intel_share.audit.schemas import AuditAction
from intel_share.audit.service import utc
from intel_share.errors import ProposalDecided, ProposalNotFound, RecordRevoked
from intel_share.proposals import repository
from intel_share.proposals.models import Proposal
from intel_share.proposals.schemas import (
    DecisionOut,
    ProposalIn,
    ProposalList,
    ProposalOut,
)
from intel_share.records import grading
from intel_share.records import service as records
from intel_share.records.schemas import RecordPatch, check_details
from intel_share.records.service import record_access, require_originator, visible_record
from pangolin_core.contracts.cites_codes import CodeLists
from pangolin_core.errors import Conflict, InvalidInput
from pangolin_core.identity import Caller


def proposal_out(proposal: Proposal) -> ProposalOut:
    return ProposalOut(
        id=proposal.id,
        record_id=proposal.record_id,
        base_version=proposal.base_version,
        changes=RecordPatch.model_validate(proposal.changes),
        reason=proposal.reason,
        status=proposal.status,
        proposed_by_agency=proposal.proposed_by_agency,
        proposed_by_country=proposal.proposed_by_country,
        created_at=utc(proposal.created_at),
        decided_at=utc(proposal.decided_at) if proposal.decided_at else None,
        decision_note=proposal.decision_note,
        applied_version=proposal.applied_version,
    )


async def propose(
    *,
    session: AsyncSession,
    record_id: str,
    request: ProposalIn,
    caller: Caller,
    codes: CodeLists,
) -> ProposalOut:
    record = await visible_record(session, record_id, caller)
    viewer = Viewer.of(caller)
    if is_originator(viewer, record_access(record)):
        raise Conflict("The originator changes its record directly (PATCH), not by proposal.")
    if record.revoked:
        raise RecordRevoked(f"Record {record_id} is revoked: it changes no more.")
    changes = request.changes
    if not changes.changed_fields():
        raise InvalidInput(
            "The proposal changes nothing.",
            errors=[{"field": "changes", "message": "empty change", "type": "value_error"}],
        )
    fields = changes.changed_fields()
    scheme = changes.grading.scheme if changes.grading else record.grading_scheme
    grade_errors = grading.grading_errors(
        scheme,
        changes.grading.source if changes.grading else record.grading_source,
        changes.grading.information if changes.grading else record.grading_information,
        changes.handling_code if "handling_code" in fields else record.handling_code,
    )
    if grade_errors:
        raise InvalidInput(
            "; ".join(m for _, m in grade_errors),
            errors=[
                {"field": f"changes.{f}", "message": m, "type": "value_error"}
                for f, m in grade_errors
            ],
        )
    if changes.content is not None:
        try:
            check_details(record.type, changes.content)
        except ValueError as exc:
            raise InvalidInput(
                str(exc),
                errors=[{"field": "changes.content", "message": str(exc), "type": "value_error"}],
            ) from exc
        errors = records.content_errors(changes.content, codes, prefix="changes.content.")
        if errors:
            raise InvalidInput(
                "; ".join(m for _, m in errors),
                errors=[{"field": f, "message": m, "type": "value_error"} for f, m in errors],
            )
    now = datetime.now(UTC)
    proposal = Proposal(
        id=str(uuid4()),
        record_id=record.id,
        base_version=record.version,
        changes=changes.model_dump(mode="json", exclude_unset=True, exclude={"if_version"}),
        reason=request.reason,
        status="pending",
        proposed_by_agency=viewer.agency,
        proposed_by_country=viewer.country,
        proposed_by_client=caller.client_id,
        created_at=now,
    )
    session.add(proposal)
    await audit.record(
        session=session,
        action=AuditAction.PROPOSED,
        caller=caller,
        record_ids=[record.id],
        query={"proposal_id": proposal.id},
        at=now,
    )
    return proposal_out(proposal)


async def list_of(*, session: AsyncSession, record_id: str, caller: Caller) -> ProposalList:
    record = await visible_record(session, record_id, caller)
    viewer = Viewer.of(caller)
    mine_only = not is_originator(viewer, record_access(record))
    proposals = await repository.of_record(
        session,
        record.id,
        country=viewer.country if mine_only else None,
        agency=viewer.agency if mine_only else None,
    )
    await audit.record(
        session=session,
        action=AuditAction.READ,
        caller=caller,
        record_ids=[record.id],
        query={"proposals": True},
    )
    return ProposalList(record_id=record.id, proposals=[proposal_out(p) for p in proposals])


async def decide(
    *,
    session: AsyncSession,
    record_id: str,
    proposal_id: str,
    accept: bool,
    note: str | None,
    caller: Caller,
    codes: CodeLists,
) -> DecisionOut:
    record = await visible_record(session, record_id, caller, for_update=True)
    require_originator(record, caller, "accept or reject a proposal")
    proposal = await repository.get_for_update(session, record.id, proposal_id)
    if proposal is None:
        raise ProposalNotFound(f"Record {record_id} has no proposal {proposal_id}.")
    if proposal.status != "pending":
        raise ProposalDecided(f"Proposal {proposal_id} was already {proposal.status}.")
    now = datetime.now(UTC)
    if accept:
        patch = RecordPatch.model_validate(proposal.changes)
        out = await records.apply_patch(
            session=session, record=record, patch=patch, codes=codes, changed_by=caller.client_id
        )
        proposal.applied_version = out.version
    else:
        out = records.record_out(
            record,
            await records.relationships_of(session, record),
            Viewer.of(caller),
        )
    proposal.status = "accepted" if accept else "rejected"
    proposal.decided_by = caller.client_id
    proposal.decided_at = now
    proposal.decision_note = note
    session.add(proposal)
    await audit.record(
        session=session,
        action=AuditAction.PROPOSAL_ACCEPTED if accept else AuditAction.PROPOSAL_REJECTED,
        caller=caller,
        record_ids=[record.id],
        query={"proposal_id": proposal.id},
        at=now,
    )
    out.is_originator = True
    return DecisionOut(proposal=proposal_out(proposal), record=out)
