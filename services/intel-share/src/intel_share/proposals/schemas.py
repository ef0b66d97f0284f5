"""Proposals as the API takes and gives them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from intel_share.records.schemas import RecordOut, RecordPatch

ProposalStatus = Literal["pending", "accepted", "rejected"]


class ProposalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    changes: RecordPatch
    reason: str | None = Field(None, max_length=4000)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(None, max_length=4000)


class ProposalOut(BaseModel):
    id: str
    record_id: str
    base_version: int
    changes: RecordPatch
    reason: str | None
    status: ProposalStatus
    proposed_by_agency: str
    proposed_by_country: str
    created_at: datetime
    decided_at: datetime | None
    decision_note: str | None
    applied_version: int | None


class ProposalList(BaseModel):
    record_id: str
    proposals: list[ProposalOut]


class DecisionOut(BaseModel):
    proposal: ProposalOut
    record: RecordOut = Field(description="The record after the decision")
