"""Settings of risk-score (environment prefix `PANGOLIN_RISK_SCORE_`)."""

from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from pangolin_core.settings import ServiceSettings


class RiskScoreSettings(ServiceSettings):
    service_name: ClassVar[str] = "risk-score"
    model_config = SettingsConfigDict(
        env_prefix="PANGOLIN_RISK_SCORE_", extra="ignore", populate_by_name=True
    )
