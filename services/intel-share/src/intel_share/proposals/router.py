"""`/v1/intel/records/{id}/proposals`: changes proposed by others, decided by the originator."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends

from intel_share.dependencies import RECORD_PATH, CodeListsDep, RecordId
from intel_share.proposals import service
from intel_share.proposals.schemas import (
    DecisionIn,
    DecisionOut,
    ProposalIn,
    ProposalList,
    ProposalOut,
)
from intel_share.records.service import READ_SCOPE, WRITE_SCOPE
from pangolin_core.db import AuditedReadSessionDep, SessionDep
from pangolin_core.identity import Caller, requires_scope

router = APIRouter(prefix="/v1/intel/records", tags=["intel records"])

Reader = Annotated[Caller, Depends(requires_scope(READ_SCOPE))]
Writer = Annotated[Caller, Depends(requires_scope(READ_SCOPE, WRITE_SCOPE))]


@router.post(RECORD_PATH + "/proposals", status_code=201, summary="Propose a change to a record")
async def propose(
    record_id: RecordId, body: ProposalIn, session: SessionDep, caller: Writer, codes: CodeListsDep
) -> ProposalOut:
    return await service.propose(
        session=session, record_id=str(record_id), request=body, caller=caller, codes=codes
    )


@router.get(RECORD_PATH + "/proposals", summary="A record's proposals")
async def list_proposals(
    record_id: RecordId, session: AuditedReadSessionDep, caller: Reader
) -> ProposalList:
    return await service.list_of(session=session, record_id=str(record_id), caller=caller)


@router.post(
    RECORD_PATH + "/proposals/{proposal_id}/accept",
    summary="Accept a proposal: it becomes the record's next version (originator only)",
)
async def accept(
    record_id: RecordId,
    proposal_id: UUID,
    session: SessionDep,
    caller: Writer,
    codes: CodeListsDep,
    body: DecisionIn | None = None,
) -> DecisionOut:
    return await service.decide(
        session=session,
        record_id=str(record_id),
        proposal_id=str(proposal_id),
        accept=True,
        note=body.note if body else None,
        caller=caller,
        codes=codes,
    )


@router.post(
    RECORD_PATH + "/proposals/{proposal_id}/reject",
    summary="Reject a proposal (originator only)",
)
async def reject(
    record_id: RecordId,
    proposal_id: UUID,
    session: SessionDep,
    caller: Writer,
    codes: CodeListsDep,
    body: DecisionIn | None = None,
) -> DecisionOut:
    return await service.decide(
        session=session,
        record_id=str(record_id),
        proposal_id=str(proposal_id),
        accept=False,
        note=body.note if body else None,
        caller=caller,
        codes=codes,
    )
