"""Settings of species-ref (environment prefix `PANGOLIN_SPECIES_REF_`)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from pangolin_core.settings import ServiceSettings


class SpeciesRefSettings(ServiceSettings):
    service_name: ClassVar[str] = "species-ref"
    model_config = SettingsConfigDict(
        env_prefix="PANGOLIN_SPECIES_REF_", extra="ignore", populate_by_name=True
    )

    # How often a replica checks whether reference data changed (another replica's
    # publication or sync); its own changes are picked up at once.
    reference_refresh_seconds: float = Field(2.0, gt=0)

    # Publications: up to `publication_inline_max_records` records are applied in the
    # request (201); more are applied by a job (202), `publication_chunk` taxa at a time
    # between progress reports; more than `publication_max_records` are refused.
    publication_inline_max_records: int = Field(2000, ge=0)
    publication_max_records: int = Field(50_000, ge=1)
    publication_chunk: int = Field(500, ge=1)

    # Species+ (api.speciesplus.net): the source of taxa, listings, quotas and suspensions.
    speciesplus_sync_enabled: bool = False
    speciesplus_url: str = "https://api.speciesplus.net/api/v1/"
    speciesplus_token: SecretStr = SecretStr("")
    speciesplus_concurrency: int = Field(4, ge=1, le=32)
    # The language of the annotations and notes fetched (None: Species+'s default,
    # English, which is what the status rules read country names in).
    speciesplus_language: Literal["en", "es", "fr"] | None = None
    # The scheduled sync (when enabled): a first run `start_delay` after start-up, then one
    # every `interval`; `max_pages` (None: all) caps a run, the next one resumes after it.
    speciesplus_sync_interval_seconds: float = Field(6 * 3600, gt=0)
    speciesplus_sync_start_delay_seconds: float = Field(30.0, ge=0)
    speciesplus_sync_max_pages: int | None = Field(None, ge=1)
    # How long a run's lease lasts without renewal (renewed every third of it while the
    # run lives): a crashed replica's lease lapses after this.
    speciesplus_sync_lease_seconds: float = Field(300.0, ge=1)

    def production_problems(self) -> list[str]:
        if self.speciesplus_sync_enabled and not self.speciesplus_token.get_secret_value():
            return ["PANGOLIN_SPECIES_REF_SPECIESPLUS_TOKEN is empty but the Species+ sync is on"]
        return []
