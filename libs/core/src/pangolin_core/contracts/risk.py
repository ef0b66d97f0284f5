"""risk-score's contracts: `risk.rpc.assess` (and `POST /v1/risk/assessments`), issue 6.

The request is the declaration exactly as permit-verify receives it and the permit findings
permit-verify made (possibly none); the answer is the assessment with every reason."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import BaseModel, Field

from pangolin_core.contracts.envelope import EventData
from pangolin_core.contracts.permits import (
    Declaration,
    DeclarationCountries,
    DeclarationParty,
    DeclaredValue,
    Finding,
)

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


# --- Events on the RISK stream ---


class AssessmentCompleted(EventData):
    """A declaration was assessed (every assessment, a declaration sent again included)."""

    event_type: ClassVar[str] = "risk.assessment.completed"
    version: ClassVar[int] = 1

    assessment_id: str
    declaration_id: str
    office: str
    direction: str
    declared_on: date
    score: float
    lane: Lane
    random: bool
    controls: list[str]
    reasons: list[RiskReason]
    profile_versions: dict[str, int]
    model_version: str | None
    assessed_at: datetime


OutcomeResult = Literal["compliant", "non_compliant", "seizure"]


class OutcomeLine(BaseModel):
    """A declaration line as the outcome's history needs it."""

    line_no: int
    species: str
    term: str
    unit: str | None
    quantity: Decimal
    value: DeclaredValue | None
    source: str
    purpose: str


class OutcomeRecorded(EventData):
    """An officer recorded what an inspection (or its absence) found: trader, route and
    species histories learn from it (`non_compliant` and `seizure` are hits)."""

    event_type: ClassVar[str] = "risk.outcome.recorded"
    version: ClassVar[int] = 1

    assessment_id: str
    declaration_id: str
    office: str
    direction: str
    declared_on: date
    exporter: DeclarationParty | None
    importer: DeclarationParty | None
    countries: DeclarationCountries
    lines: list[OutcomeLine]
    lane: Lane
    random: bool
    profile_versions: dict[str, int]
    inspected: bool
    result: OutcomeResult
    controls_applied: list[str]
    recorded_at: datetime
    recorded_by: str
