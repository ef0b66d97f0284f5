"""risk-score's contracts: `risk.rpc.assess` (and `POST /v1/risk/assessments`), issue 6.

The request is the declaration exactly as permit-verify receives it and the permit findings
permit-verify made (possibly none); the answer is the assessment with every reason."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from pangolin_core.contracts.permits import Declaration, Finding

ASSESS_SUBJECT = "risk.rpc.assess"

# green: release; yellow: documents; red: physical inspection; blue: post-clearance audit.
Lane = Literal["green", "yellow", "red", "blue"]


class AssessmentRequest(BaseModel):
    declaration: Declaration
    findings: list[Finding] = Field(default_factory=list)


class RiskReason(BaseModel):
    """Why points were given: a profile that fired, a permit finding, an intelligence hit,
    the model's view, random selection (`source`)."""

    source: str
    id: str | None = None
    title: str
    points: float
    detail: str | None = None


class RiskAssessment(BaseModel):
    assessment_id: str
    score: float = Field(ge=0, le=100)
    lane: Lane
    controls: list[str] = Field(default_factory=list)
    random: bool = False
    reasons: list[RiskReason] = Field(default_factory=list)
    model_version: str | None = None
    profile_versions: dict[str, int] = Field(
        default_factory=dict, description="Profile id -> the version that scored"
    )
