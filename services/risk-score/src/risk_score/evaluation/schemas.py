"""Evaluation and backtest figures on the wire."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel


class Interval(BaseModel):
    low: float
    high: float


class ProfileFigures(BaseModel):
    profile_id: str
    name: str | None
    status: str | None
    selections: int
    inspections: int
    hits: int
    hit_rate: float | None
    share_of_detections: float | None
    lift: float | None
    flags: list[str]


class RandomSample(BaseModel):
    selections: int
    inspections: int
    hits: int
    non_compliance_rate: float | None
    confidence_95: Interval | None


class Overall(BaseModel):
    assessments: int
    inspections: int
    inspection_rate: float | None
    hits: int
    targeted: int
    targeted_inspections: int
    targeted_hits: int
    precision: float | None
    recall: float | None
    lane_shares: dict[str, float]
    expected_lane_shares: dict[str, float]


class Evaluation(BaseModel):
    start: date | None
    end: date | None
    overall: Overall
    random_sample: RandomSample
    profiles: list[ProfileFigures]


class Backtest(BaseModel):
    profile_id: str
    version: int
    start: date | None
    end: date | None
    assessments: int
    selected: int
    with_outcome: int
    inspected: int
    hits: int
    hit_rate: float | None
    selected_ids: list[str]
    truncated: bool
