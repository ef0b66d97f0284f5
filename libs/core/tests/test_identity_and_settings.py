"""The internal identity token and the settings rules, without I/O."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from pangolin_core.contracts.roles import Role, scope_grants, scopes_for
from pangolin_core.errors import Unauthenticated
from pangolin_core.identity import Caller, IdentitySigner, IdentityVerifier
from pangolin_core.settings import (
    DEV_IDENTITY_PRIVATE_KEY,
    DEV_IDENTITY_PUBLIC_KEY,
    ServiceSettings,
)
from species_ref.settings import SpeciesRefSettings

KENYA_SW = Caller(
    "kenya-sw",
    "KE",
    frozenset({Role.SINGLE_WINDOW.value}),
    scopes_for({Role.SINGLE_WINDOW}),
    request_id="req-1",
)


def test_a_signed_identity_verifies_to_the_same_caller() -> None:
    token = IdentitySigner(DEV_IDENTITY_PRIVATE_KEY).sign(KENYA_SW)
    assert IdentityVerifier([DEV_IDENTITY_PUBLIC_KEY]).verify(token) == KENYA_SW


def test_an_expired_identity_is_refused() -> None:
    signer = IdentitySigner(DEV_IDENTITY_PRIVATE_KEY, ttl_seconds=1)
    signer.ttl = timedelta(seconds=-30)
    with pytest.raises(Unauthenticated, match="expired"):
        IdentityVerifier([DEV_IDENTITY_PUBLIC_KEY]).verify(signer.sign(KENYA_SW))


def test_a_tampered_identity_is_refused() -> None:
    token = IdentitySigner(DEV_IDENTITY_PRIVATE_KEY).sign(KENYA_SW)
    header, payload, signature = token.split(".")
    tampered = ".".join([header, payload[:-4] + "AAAA", signature])
    with pytest.raises(Unauthenticated):
        IdentityVerifier([DEV_IDENTITY_PUBLIC_KEY]).verify(tampered)


def test_scopes_follow_the_role_table_with_wildcards() -> None:
    customs = scopes_for({Role.CUSTOMS})
    assert any(scope_grants(s, "risk:assess") for s in customs)
    assert not any(scope_grants(s, "permits:issue") for s in customs)
    assert not scope_grants("risk:*", "riskier:assess")


def test_development_accepts_the_built_in_keys() -> None:
    settings = SpeciesRefSettings(env="development")
    assert settings.database_url.endswith("species-ref.db")


OTHER_PUBLIC_KEY = """-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAdrNayzTmkxO9IKU2I3NMt80/L9VYl8Ct8d8r/ogqQLI=
-----END PUBLIC KEY-----
"""


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"identity_public_keys": [OTHER_PUBLIC_KEY, DEV_IDENTITY_PUBLIC_KEY]},
        {"identity_public_keys": [OTHER_PUBLIC_KEY], "insecure_allow_anonymous": True},
    ],
)
def test_production_refuses_default_secrets(overrides: dict[str, object]) -> None:
    with pytest.raises(ValidationError, match="refusing to start in production"):
        ServiceSettings(env="production", **overrides)


def test_a_production_service_needs_public_keys_only() -> None:
    """Services never hold the gateway's signing key, so they must not be asked for it."""
    settings = SpeciesRefSettings(env="production", identity_public_keys=[OTHER_PUBLIC_KEY])
    assert settings.identity_public_keys == [OTHER_PUBLIC_KEY]


def test_a_public_key_that_is_not_an_ed25519_pem_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="identity public key"):
        ServiceSettings(identity_public_keys=["-----BEGIN PUBLIC KEY-----\nnot a key\n"])


def test_the_production_gateway_refuses_the_development_signing_key() -> None:
    from gateway.settings import GatewaySettings

    with pytest.raises(ValidationError, match="PANGOLIN_IDENTITY_PRIVATE_KEY"):
        GatewaySettings(env="production", identity_public_keys=[OTHER_PUBLIC_KEY])


def test_shared_and_per_service_values_come_from_their_own_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PANGOLIN_NATS_URL", "nats://10.0.0.1:4222")
    monkeypatch.setenv("PANGOLIN_SPECIES_REF_DATABASE_URL", "postgresql://db/species")
    monkeypatch.setenv("PANGOLIN_RISK_SCORE_DATABASE_URL", "postgresql://db/risk")
    settings = SpeciesRefSettings()
    assert settings.nats_url == "nats://10.0.0.1:4222"
    assert settings.database_url == "postgresql://db/species"
