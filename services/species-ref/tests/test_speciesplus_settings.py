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


def test_the_schedule_comes_from_the_service_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANGOLIN_SPECIES_REF_SPECIESPLUS_SYNC_INTERVAL_SECONDS", "3600")
    monkeypatch.setenv("PANGOLIN_SPECIES_REF_SPECIESPLUS_SYNC_MAX_PAGES", "20")
    monkeypatch.setenv("PANGOLIN_SPECIES_REF_SPECIESPLUS_LANGUAGE", "es")

    settings = SpeciesRefSettings()

    assert settings.speciesplus_sync_interval_seconds == 3600
    assert settings.speciesplus_sync_max_pages == 20
    assert settings.speciesplus_language == "es"
    # Defaults: every 6 h, first run 30 s after start, no cap, a 5-minute lease.
    assert SpeciesRefSettings.model_fields["speciesplus_sync_interval_seconds"].default == 21600
    assert settings.speciesplus_sync_start_delay_seconds == 30
    assert settings.speciesplus_sync_lease_seconds == 300


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("speciesplus_language", "de"),  # Species+ speaks en, es, fr
        ("speciesplus_sync_max_pages", 0),
        ("speciesplus_sync_interval_seconds", 0),
        ("speciesplus_sync_lease_seconds", 0),
    ],
)
def test_schedule_values_that_cannot_work_are_refused(name: str, value: object) -> None:
    with pytest.raises(ValidationError, match=name):
        SpeciesRefSettings(**{name: value})
