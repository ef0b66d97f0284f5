"""Settings of intel-share (environment prefix `PANGOLIN_INTEL_SHARE_`)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from pangolin_core.settings import ServiceSettings


class TaxiiPartner(BaseModel):
    """A partner country's intel-share, as its gateway serves it: the TAXII API root and the
    `partner` client (client credentials, `intel:federate`) it issued to this instance."""

    model_config = ConfigDict(extra="forbid")

    api_root: AnyHttpUrl = Field(description="e.g. https://gateway.example.tz/taxii2/api/")
    token_url: AnyHttpUrl | None = Field(
        None, description="Its gateway's `/oauth/token`; None: the API root's `/oauth/token`"
    )
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    pull: bool = True
    push: bool = True


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

    # The country this instance serves: records from elsewhere are downgraded on arrival.
    country: str = Field("KE", min_length=2, max_length=2)
    # Where clients reach `/taxii2/` (the gateway's public URL); None: as the request came.
    taxii_public_url: AnyHttpUrl | None = None
    # TAXII: objects per page (a request's `limit` is capped to it) and the largest POST.
    taxii_page_max: int = Field(1000, ge=1, le=10_000)
    taxii_max_content_length: int = Field(10 * 1024 * 1024, ge=1024)
    # The partner directory: country -> its TAXII API root and this instance's credentials
    # there (JSON: `{"TZ": {"api_root": "https://...", "client_id": "...",
    # "client_secret": "..."}}`). Pulled and pushed every `federation_interval` seconds.
    partners: dict[str, TaxiiPartner] = Field(default_factory=dict)
    federation_interval: float = Field(300.0, ge=0, description="0: no scheduled exchange")
    federation_timeout: float = Field(10.0, gt=0, le=120)
    # Each exchange starts this long before where the last one ended (objects are stamped
    # before their transaction commits); what comes twice is ignored on arrival.
    federation_overlap: float = Field(60.0, ge=0, le=3600)

    @field_validator("partners")
    @classmethod
    def _partner_countries(cls, partners: dict[str, TaxiiPartner]) -> dict[str, TaxiiPartner]:
        for country in partners:
            if len(country) != 2 or not country.isascii() or not country.isupper():
                raise ValueError(f"partner {country!r} is not a two-letter country code")
        return partners
