"""Settings of permit-verify (environment prefix `PANGOLIN_PERMIT_VERIFY_`)."""

from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from pangolin_core.settings import ServiceSettings


class PermitVerifySettings(ServiceSettings):
    service_name: ClassVar[str] = "permit-verify"
    model_config = SettingsConfigDict(
        env_prefix="PANGOLIN_PERMIT_VERIFY_", extra="ignore", populate_by_name=True
    )
