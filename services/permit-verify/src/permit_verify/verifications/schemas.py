"""The answer of `POST /v1/verifications` (issue 5's contract: keep these names). The
declaration and the finding are contracts in `pangolin_core.contracts.permits`: risk-score
receives the same shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from pangolin_core.contracts.permits import Finding, Verdict
from pangolin_core.contracts.risk import RiskAssessment


class LineResult(BaseModel):
    line_no: int
    verdict: Verdict
    permit_id: str | None = Field(description="The presented permit's id in this registry")
    findings: list[Finding]


class VerificationOut(BaseModel):
    verification_id: str
    declaration_id: str
    verdict: Verdict = Field(description="The worst of the lines' verdicts")
    lines: list[LineResult]
    findings: list[Finding] = Field(
        description="Findings about the declaration as a whole (RISK_UNAVAILABLE): they do not"
        " change the verdict, which is about the permits"
    )
    risk: RiskAssessment | None = Field(description="None when risk-score did not answer")
    verified_at: datetime
