"""Assessments on the wire: the contract's `RiskAssessment`, and what a reader sees again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pangolin_core.contracts.risk import RiskAssessment


class AssessmentOut(RiskAssessment):
    declaration_id: str
    office: str
    assessed_at: datetime
    facts: dict[str, Any]
