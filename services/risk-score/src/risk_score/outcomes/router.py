"""`/v1/risk/assessments/{id}/outcome`: what the inspection found."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from pangolin_core.db import SessionDep
from pangolin_core.identity import Caller, requires_scope
from risk_score.outcomes import service
from risk_score.outcomes.schemas import OutcomeIn, OutcomeOut

router = APIRouter(prefix="/v1/risk/assessments", tags=["outcomes"])

Recorder = Annotated[Caller, Depends(requires_scope("risk:outcomes"))]
Reader = Annotated[Caller, Depends(requires_scope("risk:read"))]
AssessmentId = Annotated[str, Path(max_length=36, description="The assessment's id")]


@router.post(
    "/{assessment_id}/outcome",
    status_code=201,
    summary="Record an inspection outcome (once per assessment: a second is 409)",
)
async def record_outcome(
    assessment_id: AssessmentId, body: OutcomeIn, session: SessionDep, caller: Recorder
) -> OutcomeOut:
    return await service.record(
        session=session, assessment_id=assessment_id, body=body, caller=caller
    )


@router.get("/{assessment_id}/outcome", summary="The outcome recorded for an assessment")
async def get_outcome(assessment_id: AssessmentId, session: SessionDep, _: Reader) -> OutcomeOut:
    return await service.read(session=session, assessment_id=assessment_id)
