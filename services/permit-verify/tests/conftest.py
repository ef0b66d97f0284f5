"""Fixtures of permit-verify's tests: the app over a fresh migrated database (SQLite and
PostgreSQL) and a real nats-server, callers as the gateway would forward them, and permits
as a Management Authority posts them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from httpx import AsyncClient

from pangolin_core import migrations
from pangolin_core.db import Database
from pangolin_core.messaging.tables import outbox
from pangolin_core.testing import identity_headers, running_app
from permit_verify.app import DEFINITION, create_app
from permit_verify.settings import PermitVerifySettings

MA_KE = identity_headers("permits:issue", client_id="ma-ke", country="KE")
MA_VN = identity_headers("permits:issue", client_id="ma-vn", country="VN")
SW_KE = identity_headers("permits:verify", "permits:endorse", client_id="sw-ke", country="KE")
CUSTOMS = identity_headers("permits:read", client_id="customs-ke", country="KE")
NOBODY = identity_headers("species:read", client_id="reader", country="KE")


def today() -> date:
    return datetime.now(UTC).date()


@dataclass
class Registry:
    client: AsyncClient
    db: Database

    async def count(self, table: str) -> int:
        async with self.db.session(write=False) as session:
            result = await session.exec(sa.text(f"SELECT count(*) FROM {table}"))
            return int(result.scalar_one())

    async def outbox_events(self, subject: str | None = None) -> list[dict[str, Any]]:
        async with self.db.session(write=False) as session:
            query = sa.select(outbox.c.subject, outbox.c.payload).order_by(outbox.c.created_at)
            rows = (await session.exec(query)).all()
        return [
            json.loads(payload)
            for subj, payload in rows
            if subject is None or subj == subject
        ]


@pytest.fixture
async def registry(database_url: str, nats_url: str) -> AsyncIterator[Registry]:
    await migrations.upgrade(DEFINITION.migrations, database_url)
    app = create_app(PermitVerifySettings(database_url=database_url, nats_url=nats_url))
    async with running_app(app) as client:
        yield Registry(client, app.state.runtime.db)


PermitFactory = Callable[..., dict[str, Any]]


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
