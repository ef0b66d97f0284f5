"""Settings of gateway (environment prefix `PANGOLIN_GATEWAY_`)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from pangolin_core.settings import DEV_IDENTITY_PRIVATE_KEY, ServiceSettings, shared


class GatewaySettings(ServiceSettings):
    service_name: ClassVar[str] = "gateway"
    model_config = SettingsConfigDict(
        env_prefix="PANGOLIN_GATEWAY_", extra="ignore", populate_by_name=True
    )

    species_ref_url: str = "http://127.0.0.1:8001"
    permit_verify_url: str = "http://127.0.0.1:8002"
    risk_score_url: str = "http://127.0.0.1:8003"
    intel_share_url: str = "http://127.0.0.1:8004"
    # Signs the identity forwarded to the services; only the gateway holds it.
    identity_private_key: SecretStr = Field(
        SecretStr(DEV_IDENTITY_PRIVATE_KEY), validation_alias=shared("identity_private_key")
    )

    def production_problems(self) -> list[str]:
        if self.identity_private_key.get_secret_value() == DEV_IDENTITY_PRIVATE_KEY:
            return ["PANGOLIN_IDENTITY_PRIVATE_KEY is the development key"]
        return []
