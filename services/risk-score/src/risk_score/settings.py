"""Settings of risk-score (environment prefix `PANGOLIN_RISK_SCORE_`)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from pangolin_core.settings import ServiceSettings


class RiskScoreSettings(ServiceSettings):
    service_name: ClassVar[str] = "risk-score"
    model_config = SettingsConfigDict(
        env_prefix="PANGOLIN_RISK_SCORE_", extra="ignore", populate_by_name=True
    )

    # Lane thresholds on the 0-100 score: at or above `red_from` red (physical inspection),
    # else at or above `yellow_from` yellow (documents), else at or above `blue_from` blue
    # (post-clearance audit), else green.
    blue_from: float = Field(20.0, ge=0, le=100)
    yellow_from: float = Field(35.0, ge=0, le=100)
    red_from: float = Field(60.0, ge=0, le=100)
    # Minimum share of declarations selected at random (quality control), per office; an
    # office not listed gets `random_rate`.
    random_rate: float = Field(0.02, ge=0, le=1)
    random_rate_by_office: dict[str, float] = Field(default_factory=dict)
    # Expected share of declarations per lane (ASYCUDA's expected rates), reported beside the
    # realised shares in the evaluation; empty: not reported.
    expected_lane_rates: dict[str, float] = Field(default_factory=dict)
    # The model's view becomes points: probability x `model_points` (0 turns it off).
    model_points: float = Field(40.0, ge=0, le=100)
    # The model's reason lists its top contributions (TreeSHAP, ~0.5 ms each time) only when
    # it brings at least these points; below, it says the probability alone.
    model_explain_from_points: float = Field(10.0, ge=0, le=100)
    # How often a replica re-reads profiles and read models changed by another replica.
    refresh_interval: float = Field(0.5, gt=0, le=60)
    # Assessments do not wake the outbox relay at each commit (a relay pass per assessment
    # halved the RPC's speed, bench/risk_throughput.py): it publishes their events in
    # batches at this poll instead, so `risk.assessment.completed` leaves within 0.1 s.
    outbox_poll_interval: float = Field(0.1, gt=0)

    trade_history_refresh_seconds: float = Field(
        1.0,
        gt=0,
        description="How often a replica reads the trade history other replicas recorded",
    )
    model_training_enabled: bool = Field(
        False, description="Train a model on a schedule (POST /v1/risk/models/train always works)"
    )
    model_training_interval_seconds: float = Field(
        86_400.0, gt=0, description="Seconds between scheduled trainings"
    )

    @model_validator(mode="after")
    def _ordered_thresholds(self) -> RiskScoreSettings:
        if not self.blue_from <= self.yellow_from <= self.red_from:
            raise ValueError("lane thresholds must satisfy blue_from <= yellow_from <= red_from")
        return self

    def random_rate_for(self, office: str) -> float:
        return self.random_rate_by_office.get(office, self.random_rate)

    @property
    def model_explain_from(self) -> float:
        """`model_explain_from_points` as a probability of non-compliance."""
        if self.model_points == 0:
            return 1.0
        return min(1.0, self.model_explain_from_points / self.model_points)
