"""Targeting profiles on the wire."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from pangolin_core.contracts.risk import Lane

Control = Literal[
    "document_review",
    "physical_inspection",
    "non_intrusive_scan",
    "sampling_for_lab_identification",
]
ProfileStatus = Literal["draft", "active", "retired"]
Direction = Literal["export", "import", "re_export", "transit"]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Office = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]


class ProfileIn(BaseModel):
    """A profile as a risk analyst writes it; `criteria` is checked and compiled at save."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    rationale: Text = ""
    instructions: Text = Field("", description="What officers do when the profile fires")
    criteria: dict[str, Any] = Field(description="The criteria tree (docs/risk-score.md)")
    points: float = Field(0, ge=0, le=100)
    forced_lane: Lane | None = None
    controls: list[Control] = Field(default_factory=list, max_length=4)
    selection_percentage: float = Field(
        100, gt=0, le=100, description="Share of the matching declarations it selects"
    )
    offices: list[Office] = Field(default_factory=list, max_length=500, description="Empty: all")
    directions: list[Direction] = Field(default_factory=list, description="Empty: all")
    valid_from: date | None = None
    valid_until: date | None = None
    review_date: date | None = None
    owner: Name
    status: ProfileStatus = "draft"

    @model_validator(mode="after")
    def _consistent(self) -> ProfileIn:
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValueError("valid_until is before valid_from")
        if self.points == 0 and self.forced_lane is None:
            raise ValueError("a profile gives points or forces a lane (or both)")
        return self


class ProfilePatch(BaseModel):
    """Only the fields given change; the result is checked as a whole profile."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    rationale: Text | None = None
    instructions: Text | None = None
    criteria: dict[str, Any] | None = None
    points: float | None = Field(None, ge=0, le=100)
    forced_lane: Lane | None = None
    controls: list[Control] | None = Field(None, max_length=4)
    selection_percentage: float | None = Field(None, gt=0, le=100)
    offices: list[Office] | None = None
    directions: list[Direction] | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    review_date: date | None = None
    owner: Name | None = None
    status: ProfileStatus | None = None


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: ProfileStatus


class ProfileOut(ProfileIn):
    model_config = ConfigDict(extra="ignore")

    id: str
    version: int
    created_at: datetime
    created_by: str


class ProfilePage(BaseModel):
    items: list[ProfileOut]
    next: str | None
