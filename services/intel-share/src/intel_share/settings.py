"""Settings of intel-share (environment prefix `PANGOLIN_INTEL_SHARE_`)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from pangolin_core.settings import ServiceSettings


class IntelShareSettings(ServiceSettings):
    service_name: ClassVar[str] = "intel-share"
    model_config = SettingsConfigDict(
        env_prefix="PANGOLIN_INTEL_SHARE_", extra="ignore", populate_by_name=True
    )

    # The match index is rebuilt from the database this often (the record events keep it
    # current in between; a rebuild makes up for events a replica missed).
    match_index_reload_seconds: float = Field(900.0, gt=0)
    # How often records past their `expires_on` are looked for, to take their entries off the
    # watchlists (`records.expiry`).
    expiry_check_seconds: float = Field(3600.0, gt=0)
