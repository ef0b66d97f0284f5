"""Settings of gateway (environment prefix `PANGOLIN_GATEWAY_`)."""

from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from pangolin_core.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    service_name: ClassVar[str] = "gateway"
    model_config = SettingsConfigDict(
        env_prefix="PANGOLIN_GATEWAY_", extra="ignore", populate_by_name=True
    )

    species_ref_url: str = "http://127.0.0.1:8001"
    permit_verify_url: str = "http://127.0.0.1:8002"
    risk_score_url: str = "http://127.0.0.1:8003"
    intel_share_url: str = "http://127.0.0.1:8004"
