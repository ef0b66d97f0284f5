"""Settings of risk-score (environment prefix `PANGOLIN_RISK_SCORE_`)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from pangolin_core.settings import ServiceSettings


class RiskScoreSettings(ServiceSettings):
    service_name: ClassVar[str] = "risk-score"
    model_config = SettingsConfigDict(
        env_prefix="PANGOLIN_RISK_SCORE_", extra="ignore", populate_by_name=True
    )

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
