"""Settings of gateway (environment prefix `PANGOLIN_GATEWAY_`)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from pangolin_core.contracts.roles import Role
from pangolin_core.settings import DEV_IDENTITY_PRIVATE_KEY, ServiceSettings, shared


class RatePolicy(BaseModel):
    """A token bucket: `rate` requests per second on average, bursts of up to `burst`."""

    rate: float = Field(gt=0)
    burst: int = Field(gt=0)


DEFAULT_ROLE_RATE_LIMITS: dict[str, RatePolicy] = {
    Role.SINGLE_WINDOW.value: RatePolicy(rate=200, burst=400),
    Role.CUSTOMS.value: RatePolicy(rate=50, burst=100),
    Role.MANAGEMENT_AUTHORITY.value: RatePolicy(rate=20, burst=40),
    Role.PARTNER.value: RatePolicy(rate=20, burst=40),
    Role.ADMIN.value: RatePolicy(rate=10, burst=20),
}


class GatewaySettings(ServiceSettings):
    service_name: ClassVar[str] = "gateway"
    model_config = SettingsConfigDict(
        env_prefix="PANGOLIN_GATEWAY_", extra="ignore", populate_by_name=True
    )

    # Upstreams.
    species_ref_url: str = "http://127.0.0.1:8001"
    permit_verify_url: str = "http://127.0.0.1:8002"
    risk_score_url: str = "http://127.0.0.1:8003"
    intel_share_url: str = "http://127.0.0.1:8004"
    upstream_pool_size: int = Field(100, gt=0, description="Connections per upstream.")
    upstream_connect_timeout: float = Field(2.0, gt=0)
    upstream_timeout: float = Field(30.0, gt=0, description="Whole request, seconds.")
    upstream_retries: int = Field(
        1, ge=0, le=5, description="Retries of idempotent methods on connection errors."
    )
    breaker_failures: int = Field(
        5, gt=0, description="Consecutive connection failures that open an upstream's breaker."
    )
    breaker_reset_seconds: float = Field(
        5.0, gt=0, description="How long a breaker stays open before one probe is let through."
    )

    # Limits.
    max_body_bytes: int = Field(5 * 1024 * 1024, gt=0)
    role_rate_limits: dict[str, RatePolicy] = Field(
        default_factory=lambda: dict(DEFAULT_ROLE_RATE_LIMITS)
    )
    rate_limit_backend: str = Field(
        "memory", pattern="^(memory|nats)$", description="`nats`: shared by all replicas (KV)."
    )
    rate_limit_bucket: str = "pangolin_rate_limits"

    # Access tokens for partners (OAuth2 client credentials).
    token_ttl_seconds: int = Field(900, gt=0, le=86_400)
    token_issuer: str = "pangolin"  # noqa: S105 (the `iss` claim, not a secret)
    # Ed25519 private keys (PEM). The first signs; every one is published in the JWKS and
    # verifies, so a rotated-out key keeps its tokens valid until they expire. Empty in
    # development: a key is generated at start (tokens then die with the process).
    token_signing_keys: list[SecretStr] = Field(default_factory=list)
    # Public keys (PEM) of retired signing keys, still trusted until their tokens expire.
    token_previous_public_keys: list[str] = Field(default_factory=list)

    # Clients: how often each replica re-reads the client table (status, roles, rotation).
    client_refresh_seconds: float = Field(2.0, gt=0)

    # Audit.
    audit_flush_seconds: float = Field(0.5, gt=0)
    audit_batch_size: int = Field(500, gt=0)

    # Signs the identity forwarded to the services; only the gateway holds it.
    identity_private_key: SecretStr = Field(
        SecretStr(DEV_IDENTITY_PRIVATE_KEY), validation_alias=shared("identity_private_key")
    )

    @field_validator("role_rate_limits")
    @classmethod
    def _known_roles(cls, limits: dict[str, RatePolicy]) -> dict[str, RatePolicy]:
        unknown = set(limits) - {r.value for r in Role}
        if unknown:
            raise ValueError(f"rate limits for unknown roles: {', '.join(sorted(unknown))}")
        return {**DEFAULT_ROLE_RATE_LIMITS, **limits}

    def upstream_urls(self) -> dict[str, str]:
        return {
            "species-ref": self.species_ref_url,
            "permit-verify": self.permit_verify_url,
            "risk-score": self.risk_score_url,
            "intel-share": self.intel_share_url,
        }

    def production_problems(self) -> list[str]:
        problems = []
        if self.identity_private_key.get_secret_value() == DEV_IDENTITY_PRIVATE_KEY:
            problems.append("PANGOLIN_IDENTITY_PRIVATE_KEY is the development key")
        if not self.token_signing_keys:
            problems.append("PANGOLIN_GATEWAY_TOKEN_SIGNING_KEYS is empty")
        return problems
