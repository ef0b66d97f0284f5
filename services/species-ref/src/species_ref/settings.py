"""Settings of species-ref (environment prefix `PANGOLIN_SPECIES_REF_`)."""

from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from pangolin_core.settings import ServiceSettings


class SpeciesRefSettings(ServiceSettings):
    service_name: ClassVar[str] = "species-ref"
    model_config = SettingsConfigDict(
        env_prefix="PANGOLIN_SPECIES_REF_", extra="ignore", populate_by_name=True
    )
