"""Helpers of risk-score's tests: callers as the gateway forwards them, declarations and
profiles as clients send them, and events as intel-share and species-ref publish them (on
the pytest pythonpath, like permit_support)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import nats
import sqlalchemy as sa
from fastapi import FastAPI
from httpx import AsyncClient

from pangolin_core.contracts.envelope import EventData
from pangolin_core.db import Database
from pangolin_core.testing import identity_headers

ANALYST = identity_headers(
    "risk:profiles", "risk:read", "risk:outcomes", client_id="customs-ke", country="KE"
)
ASSESSOR = identity_headers("risk:assess", client_id="sw-ke", country="KE")
READER = identity_headers("risk:read", client_id="auditor", country="KE")
NOBODY = identity_headers("species:read", client_id="reader", country="KE")


@dataclass
class RiskService:
    client: AsyncClient
    app: FastAPI
    db: Database
    nats_url: str

    async def assess(self, declaration: dict[str, Any], findings: list[Any] | None = None) -> Any:
        response = await self.client.post(
            "/v1/risk/assessments",
            json={"declaration": declaration, "findings": findings or []},
            headers=ASSESSOR,
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def create_profile(self, **changes: Any) -> Any:
        response = await self.client.post(
            "/v1/risk/profiles", json=profile(**changes), headers=ANALYST
        )
        assert response.status_code == 201, response.text
        return response.json()

    def state(self) -> Any:
        return self.app.state.runtime.extras["risk_state"]

    async def count(self, table: str) -> int:
        async with self.db.session(write=False) as session:
            result = await session.exec(sa.select(sa.func.count()).select_from(sa.table(table)))
            return int(result.scalar_one())

    async def publish(self, data: EventData) -> None:
        nc = await nats.connect(self.nats_url)
        try:
            event = data.to_event(source="/test")
            await nc.jetstream().publish(
                event.type, event.to_json(), headers={"Nats-Msg-Id": event.id}
            )
        finally:
            await nc.close()


def declaration(**changes: Any) -> dict[str, Any]:
    """A declaration of 60 live Python regius, KE -> VN, with one line; `line` changes it."""
    line: dict[str, Any] = {
        "line_no": 1,
        "permit": {"number": "KE/2026/E/000123", "issuing_country": "KE"},
        "species": "Python regius",
        "description": "live animals",
        "term": "LIV",
        "quantity": "60",
        "unit": None,
        "source": "C",
        "purpose": "T",
        "hs_code": "010620",
        "value": {"amount": "3000", "currency": "USD"},
    }
    line.update(changes.pop("line", {}))
    body: dict[str, Any] = {
        "declaration_id": "SW-KE-2026-000001",
        "direction": "export",
        "declared_on": date.today().isoformat(),
        "office": "KEMBA",
        "exporter": {"name": "Savannah Reptiles Ltd", "country": "KE"},
        "importer": {"name": "Hanoi Pet Trading Co", "country": "VN"},
        "countries": {"export": "KE", "import": "VN", "origin": "KE", "transit": []},
        "transport": {"mode": "air", "document": "176-12345675"},
        "lines": [line],
    }
    body.update(changes)
    return body


def profile(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Pangolin scales misdeclared as nuts via hubs",
        "rationale": "TRAFFIC: scales declared as cashew nuts, routed through AE",
        "instructions": "Open the consignment; sample for lab identification",
        "criteria": {
            "all": [
                {"field": "export_country", "in": ["NG", "CM"]},
                {"description_matches": ["nuts", "cashew nuts"]},
            ]
        },
        "points": 70,
        "controls": ["physical_inspection", "sampling_for_lab_identification"],
        "owner": "Risk unit KE",
        "status": "active",
    }
    body.update(changes)
    return body
