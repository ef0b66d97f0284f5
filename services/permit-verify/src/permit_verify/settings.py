"""Settings of permit-verify (environment prefix `PANGOLIN_PERMIT_VERIFY_`)."""

from __future__ import annotations

from typing import ClassVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from pangolin_core.settings import Environment, ServiceSettings

# A well-known permit signing key for development and tests only: it signs for every country
# that has no key of its own. Anyone can read it here, so `production` refuses it.
DEV_PERMIT_SIGNING_KEY = """-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIBud3a1QebRz1UQmcNCNWHEoNTOWDyP3E8Mr+8cOKh7L
-----END PRIVATE KEY-----
"""


# How a country code admitted by `extra_country_codes` is described in the code lists: not a
# code species-ref knows, so no listing, suspension or quota is asked for it.
EXTRA_COUNTRY_DESCRIPTION = "user-assigned (settings)"


def is_user_assigned_country_code(code: str) -> bool:
    """ISO 3166-1 keeps AA, QM-QZ, XA-XZ and ZZ for users: never a real country."""
    if len(code) != 2 or not code.isascii() or not code.isupper() or not code.isalpha():
        return False
    return code in ("AA", "ZZ") or code[0] == "X" or (code[0] == "Q" and code[1] >= "M")


class Partner(BaseModel):
    """A partner country's Pangolin (or EPIX-compatible) gateway and the `partner` client it
    issued to this registry (client credentials, `permits:lookup`)."""

    model_config = ConfigDict(extra="forbid")

    gateway_url: AnyHttpUrl
    client_id: str = Field(min_length=1)
    client_secret: SecretStr


class PermitVerifySettings(ServiceSettings):
    service_name: ClassVar[str] = "permit-verify"
    model_config = SettingsConfigDict(
        env_prefix="PANGOLIN_PERMIT_VERIFY_", extra="ignore", populate_by_name=True
    )

    # Country -> the Ed25519 private key (PEM) its Management Authority signs permits with
    # (JSON in the environment: `{"KE": "-----BEGIN PRIVATE KEY-----\n..."}`).
    permit_signing_keys: dict[str, SecretStr] = Field(default_factory=dict)
    # Country -> public keys (PEM) of retired signing keys: still published in the JWKS, so
    # permits signed before a rotation keep verifying.
    permit_retired_public_keys: dict[str, list[str]] = Field(default_factory=dict)
    # Country codes accepted besides the CITES list: ISO 3166-1 user-assigned codes only
    # (AA, QM-QZ, XA-XZ, ZZ), as EPIX test exchanges use for fictitious countries (the
    # CITESEPermit sample's importer is XB, "Wonderland"). Empty in real deployments.
    extra_country_codes: list[str] = Field(default_factory=list)
    # How long a verification waits for species-ref (`species.rpc.status`, one batch per
    # declaration) and for risk-score (`risk.rpc.assess`) before it answers without them,
    # with SPECIES_UNAVAILABLE / RISK_UNAVAILABLE findings.
    species_rpc_timeout: float = Field(1.0, gt=0, le=30)
    # Whether `POST /v1/permits` asks species-ref (one `species.rpc.status` batch, the same
    # timeout) for the taxon, the appendix on the issue date, suspensions and quotas. Off
    # only in the service's own tests of other features, which run without species-ref;
    # `production` refuses to start with it off.
    species_check_at_issue: bool = True
    risk_rpc_timeout: float = Field(0.5, gt=0, le=30)
    # Verifications do not wake the outbox relay at each commit (a relay pass per
    # verification cost ~7 % of its CPU, bench/verify_cpu.py): the relay publishes their
    # events in batches at this poll, so `permits.verification.completed` leaves within 0.1 s.
    outbox_poll_interval: float = Field(0.1, gt=0)

    # The partner directory: country -> its gateway and this registry's credentials there
    # (JSON: `{"TZ": {"gateway_url": "https://...", "client_id": "...", "client_secret":
    # "..."}}`). Permits issued by these countries are fetched from them (docs/permit-verify.md).
    partners: dict[str, Partner] = Field(default_factory=dict)
    # How long a call to a partner's gateway may take before the line is PARTNER_UNAVAILABLE.
    partner_timeout: float = Field(2.0, gt=0, le=30)
    # How long a fetched permit and a partner's JWKS are reused before they are fetched again.
    partner_permit_cache_seconds: float = Field(30.0, ge=0, le=3600)
    partner_jwks_cache_seconds: float = Field(300.0, ge=0, le=86400)

    @field_validator("partners")
    @classmethod
    def _partner_countries(cls, partners: dict[str, Partner]) -> dict[str, Partner]:
        for country in partners:
            if len(country) != 2 or not country.isascii() or not country.isupper():
                raise ValueError(f"partner {country!r} is not a two-letter country code")
        return partners

    @field_validator("permit_signing_keys")
    @classmethod
    def _ed25519_private_keys(cls, keys: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for country, pem in keys.items():
            try:
                key = load_pem_private_key(pem.get_secret_value().encode(), password=None)
            except ValueError as exc:
                raise ValueError(f"the permit signing key of {country} is not a PEM key") from exc
            if not isinstance(key, Ed25519PrivateKey):
                raise ValueError(f"the permit signing key of {country} is not an Ed25519 key")
        return keys

    @field_validator("permit_retired_public_keys")
    @classmethod
    def _retired_keys_are_ed25519(cls, keys: dict[str, list[str]]) -> dict[str, list[str]]:
        for country, pems in keys.items():
            for pem in pems:
                try:
                    key = load_pem_public_key(pem.encode())
                except ValueError as exc:
                    raise ValueError(f"a retired key of {country} is not a PEM key") from exc
                if not isinstance(key, Ed25519PublicKey):
                    raise ValueError(f"a retired key of {country} is not an Ed25519 key")
        return keys

    @field_validator("extra_country_codes")
    @classmethod
    def _user_assigned_codes(cls, codes: list[str]) -> list[str]:
        for code in codes:
            if not is_user_assigned_country_code(code):
                raise ValueError(f"{code!r} is not an ISO 3166-1 user-assigned code")
        return codes

    @property
    def dev_signing_key_allowed(self) -> bool:
        return self.env is not Environment.PRODUCTION

    def production_problems(self) -> list[str]:
        problems = [
            f"PANGOLIN_PERMIT_VERIFY_PERMIT_SIGNING_KEYS uses the development key for {country}"
            for country, pem in self.permit_signing_keys.items()
            if pem.get_secret_value().strip() == DEV_PERMIT_SIGNING_KEY.strip()
        ]
        if not self.permit_signing_keys:
            problems.append("PANGOLIN_PERMIT_VERIFY_PERMIT_SIGNING_KEYS is empty")
        if not self.species_check_at_issue:
            problems.append("PANGOLIN_PERMIT_VERIFY_SPECIES_CHECK_AT_ISSUE is off")
        return problems
