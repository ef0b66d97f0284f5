"""Inspection outcomes on the wire."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from pangolin_core.contracts.risk import OutcomeResult
from risk_score.profiles.schemas import Control


class OutcomeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inspected: bool
    result: OutcomeResult
    controls_applied: list[Control] = Field(default_factory=list, max_length=4)
    notes: Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)] | None = None


class OutcomeOut(OutcomeIn):
    assessment_id: str
    recorded_at: datetime
    recorded_by: str
