"""Species+ settings: the token is a secret, required in production only when the sync is on."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import ValidationError

from species_ref.settings import SpeciesRefSettings

PRODUCTION_KEY = (
    Ed25519PrivateKey.generate()
    .public_key()
    .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    .decode()
)


def production(**values: object) -> SpeciesRefSettings:
    return SpeciesRefSettings(env="production", identity_public_keys=[PRODUCTION_KEY], **values)


def test_production_with_the_sync_on_refuses_an_empty_token() -> None:
    with pytest.raises(ValidationError, match="SPECIESPLUS_TOKEN is empty"):
        production(speciesplus_sync_enabled=True)


def test_production_with_the_sync_off_needs_no_token() -> None:
    assert production().speciesplus_token.get_secret_value() == ""


def test_the_token_and_url_come_from_the_service_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANGOLIN_SPECIES_REF_SPECIESPLUS_TOKEN", "t0ken")
    monkeypatch.setenv("PANGOLIN_SPECIES_REF_SPECIESPLUS_URL", "https://mirror.example/api/v1/")

    settings = production(speciesplus_sync_enabled=True)

    assert settings.speciesplus_token.get_secret_value() == "t0ken"
    assert "t0ken" not in repr(settings)
    assert settings.speciesplus_url == "https://mirror.example/api/v1/"
