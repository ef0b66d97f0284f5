"""Fixtures of permit-verify's tests: the app over a fresh migrated database (SQLite and
PostgreSQL) and a real nats-server, and permits as a Management Authority posts them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from pangolin_core import migrations
from pangolin_core.testing import running_app
from permit_support import PermitFactory, Registry, today
from permit_verify.app import DEFINITION, create_app
from permit_verify.settings import PermitVerifySettings


@pytest.fixture
async def registry(database_url: str, nats_url: str) -> AsyncIterator[Registry]:
    await migrations.upgrade(DEFINITION.migrations, database_url)
    # No species-ref runs here: the species checks at issue are off for these tests of the
    # other features (they run with species-ref in tests/test_permit_issue_species.py).
    settings = PermitVerifySettings(
        database_url=database_url, nats_url=nats_url, species_check_at_issue=False
    )
    app = create_app(settings)
    async with running_app(app) as client:
        yield Registry(client, app.state.runtime.db)


@pytest.fixture
def export_permit() -> PermitFactory:
    """The issue's example permit (issued ten days ago, valid five months), with changes."""

    def build(**changes: Any) -> dict[str, Any]:
        issued = today() - timedelta(days=10)
        permit: dict[str, Any] = {
            "number": "KE/2026/E/000123",
            "type": "export",
            "issuing_country": "KE",
            "security_stamp": "KE123456",
            "issued_on": issued.isoformat(),
            "valid_until": (issued + timedelta(days=150)).isoformat(),
            "exporter": {
                "name": "Savannah Reptiles Ltd",
                "address": "PO Box 1, Nairobi",
                "country": "KE",
            },
            "importer": {
                "name": "Hanoi Pet Trading Co",
                "address": "12 Pho Hue, Hanoi",
                "country": "VN",
            },
            "purpose": "T",
            "special_conditions": None,
            "items": [
                {
                    "item_id": "A",
                    "species": "Python regius",
                    "description": "live animals",
                    "term": "LIV",
                    "appendix": "II",
                    "source": "C",
                    "quantity": "100",
                    "unit": None,
                    "origin_country": "KE",
                    "origin_permit": None,
                    "reexport_certificate": None,
                }
            ],
        }
        permit.update(changes)
        return permit

    return build
