"""`/v1/risk/assessments`: assess a declaration; read an assessment again."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from pangolin_core.contracts.risk import AssessmentRequest, RiskAssessment
from pangolin_core.db import AuditedReadSessionDep
from pangolin_core.identity import Caller, requires_scope
from risk_score.assessments import service
from risk_score.assessments.schemas import AssessmentOut
from risk_score.dependencies import RiskStateDep, WriterDep

router = APIRouter(prefix="/v1/risk/assessments", tags=["assessments"])

Assessor = Annotated[Caller, Depends(requires_scope("risk:assess"))]
Reader = Annotated[Caller, Depends(requires_scope("risk:read"))]
AssessmentId = Annotated[str, Path(max_length=36, description="The assessment's id")]


@router.post(
    "",
    response_model=RiskAssessment,
    summary="Score a declaration: score, lane, controls and every reason",
    description="A declaration sent again is assessed again (a new assessment); its random "
    "draw does not change.",
)
async def assess(
    body: AssessmentRequest, writer: WriterDep, state: RiskStateDep, caller: Assessor
) -> RiskAssessment:
    return await service.assess(
        writer=writer, state=state, request=body, client_id=caller.client_id
    )


@router.get("/{assessment_id}", summary="An assessment as it was answered, with its facts")
async def get_assessment(
    assessment_id: AssessmentId, session: AuditedReadSessionDep, caller: Reader
) -> AssessmentOut:
    return await service.read(session=session, assessment_id=assessment_id, caller=caller)
