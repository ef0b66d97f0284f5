"""Settings base: one pydantic-settings class per app, created in the lifespan, never at import."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import ClassVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# A well-known key pair for development and tests only: every process of a local suite shares
# it without coordination. Anyone can read it here, so `production` refuses to start with it.
DEV_IDENTITY_PRIVATE_KEY = """-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIE1Ton/U11YvD4wVPzaIG4uJiSB3vSSCjOvmeEdWn7jz
-----END PRIVATE KEY-----
"""
DEV_IDENTITY_PUBLIC_KEY = """-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAebyfCcroY00a5Sq0KMXGhLeSrKZAH46vLj8XEcZ/8BM=
-----END PUBLIC KEY-----
"""


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


def shared(name: str) -> AliasChoices:
    """A value every app reads from the same `PANGOLIN_<NAME>` variable."""
    return AliasChoices(name, f"PANGOLIN_{name.upper()}")


class ServiceSettings(BaseSettings):
    """What every Pangolin app needs. Subclasses set `service_name` and their env prefix
    (`PANGOLIN_<SERVICE>_`); the shared values below are read from `PANGOLIN_*`."""

    service_name: ClassVar[str] = "pangolin"
    model_config = SettingsConfigDict(env_prefix="PANGOLIN_", extra="ignore", populate_by_name=True)

    env: Environment = Field(Environment.DEVELOPMENT, validation_alias=shared("env"))
    data_dir: Path = Field(Path(".data"), validation_alias=shared("data_dir"))
    nats_url: str = Field("nats://127.0.0.1:4222", validation_alias=shared("nats_url"))
    nats_connect_timeout: float = Field(30.0, validation_alias=shared("nats_connect_timeout"), gt=0)
    stream_replicas: int = Field(1, validation_alias=shared("stream_replicas"), ge=1, le=5)
    identity_public_keys: list[str] = Field(
        default_factory=lambda: [DEV_IDENTITY_PUBLIC_KEY],
        validation_alias=shared("identity_public_keys"),
    )
    identity_ttl_seconds: int = Field(60, validation_alias=shared("identity_ttl_seconds"), gt=0)
    allow_anonymous: bool = Field(
        False,
        validation_alias=shared("insecure_allow_anonymous"),
        description="Local debugging only: calls without an identity token act as an admin.",
    )
    otlp_endpoint: str | None = Field(None, validation_alias=shared("otlp_endpoint"))
    log_level: str = Field("INFO", validation_alias=shared("log_level"))
    log_json: bool = Field(True, validation_alias=shared("log_json"))

    # Per app (env prefix of the subclass).
    database_url: str = ""
    outbox_poll_interval: float = Field(1.0, gt=0)
    outbox_batch_size: int = Field(256, gt=0, le=10_000)

    @field_validator("identity_public_keys")
    @classmethod
    def _ed25519_public_keys(cls, keys: list[str]) -> list[str]:
        for pem in keys:
            try:
                key = load_pem_public_key(pem.encode())
            except ValueError as exc:
                raise ValueError(f"an identity public key is not a PEM public key: {exc}") from exc
            if not isinstance(key, Ed25519PublicKey):
                raise ValueError("an identity public key is not an Ed25519 key")
        if not keys:
            raise ValueError("at least one identity public key is needed")
        return keys

    @model_validator(mode="after")
    def _defaults_and_production_rules(self) -> ServiceSettings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / self.service_name}.db"
        if self.env is Environment.PRODUCTION:
            problems = []
            if any(k.strip() == DEV_IDENTITY_PUBLIC_KEY.strip() for k in self.identity_public_keys):
                problems.append("PANGOLIN_IDENTITY_PUBLIC_KEYS trusts the development key")
            if self.allow_anonymous:
                problems.append("PANGOLIN_INSECURE_ALLOW_ANONYMOUS is on")
            problems.extend(self.production_problems())
            if problems:
                raise ValueError("refusing to start in production: " + "; ".join(problems))
        return self

    def production_problems(self) -> list[str]:
        """Subclasses name their own default secrets here."""
        return []
