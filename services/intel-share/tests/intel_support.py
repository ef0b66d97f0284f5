"""Helpers of intel-share's tests: callers as the gateway forwards them (with their roles, so
their organisation is (country, role)), records as an analyst posts them, and a view of the
database for assertions (on the pytest pythonpath, like permit_support)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from httpx import AsyncClient, Response

from pangolin_core.db import Database
from pangolin_core.messaging.tables import outbox
from pangolin_core.testing import identity_headers


@dataclass(frozen=True)
class IntelCaller:
    name: str
    client_id: str
    country: str
    role: str | None
    scopes: tuple[str, ...]

    @property
    def headers(self) -> dict[str, str]:
        roles = (self.role,) if self.role else ()
        return identity_headers(
            *self.scopes, client_id=self.client_id, country=self.country, roles=roles
        )


READ_WRITE = ("intel:read", "intel:write")
KE_CUSTOMS = IntelCaller("ke-customs", "customs-ke", "KE", "customs", READ_WRITE)
KE_CUSTOMS_2 = IntelCaller("ke-customs-2", "customs-ke-desk2", "KE", "customs", READ_WRITE)
KE_MA = IntelCaller("ke-ma", "ma-ke", "KE", "management_authority", ("intel:read",))
VN_CUSTOMS = IntelCaller("vn-customs", "customs-vn", "VN", "customs", READ_WRITE)
VN_MA = IntelCaller("vn-ma", "ma-vn", "VN", "management_authority", ("intel:read",))
TH_CUSTOMS = IntelCaller("th-customs", "customs-th", "TH", "customs", READ_WRITE)
TH_MA = IntelCaller("th-ma", "ma-th", "TH", "management_authority", ("intel:read",))
ADMIN = IntelCaller("admin", "operator", "KE", "admin", ("admin",))
NO_INTEL = IntelCaller("single-window", "sw-ke", "KE", "single_window", ("permits:verify",))


@dataclass
class IntelShare:
    client: AsyncClient
    db: Database

    async def post(self, caller: IntelCaller, path: str, body: Any = None, **kw: Any) -> Response:
        return await self.client.post(path, json=body, headers=caller.headers, **kw)

    async def get(self, caller: IntelCaller, path: str, **params: Any) -> Response:
        return await self.client.get(path, params=params, headers=caller.headers)

    async def patch(self, caller: IntelCaller, path: str, body: Any) -> Response:
        return await self.client.patch(path, json=body, headers=caller.headers)

    async def create(self, caller: IntelCaller, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.post(caller, "/v1/intel/records", body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def count(self, table: str) -> int:
        async with self.db.session(write=False) as session:
            result = await session.exec(sa.select(sa.func.count()).select_from(sa.table(table)))
            return int(result.scalar_one())

    async def outbox_events(self, subject: str | None = None) -> list[dict[str, Any]]:
        async with self.db.session(write=False) as session:
            query = sa.select(outbox.c.subject, outbox.c.payload).order_by(outbox.c.created_at)
            rows = (await session.exec(query)).all()
        return [json.loads(payload) for subj, payload in rows if subject is None or subj == subject]


def seizure(**changes: Any) -> dict[str, Any]:
    """A seizure report as the issue describes one: ivory in 'machine parts', KE -> VN via AE."""
    body: dict[str, Any] = {
        "type": "seizure",
        "title": "Ivory in machine parts, Mombasa",
        "description": "Raw ivory hidden in containers declared as machine parts.",
        "grading": {"scheme": "admiralty", "source": "B", "information": "2"},
        "tlp": "green",
        "distribution": {"level": "community"},
        "seizure": {
            "seized_on": "2026-11-02",
            "place": "Mombasa port",
            "office": "KEMBA",
            "agency": "Kenya Revenue Authority",
            "detection_method": "x-ray",
            "specimens": [
                {
                    "species": "Loxodonta africana",
                    "term": "TUS",
                    "quantity": "120",
                    "unit": "KIL",
                    "value": "180000",
                    "currency": "USD",
                }
            ],
            "concealment": "machine parts",
            "transport_mode": "sea",
            "origin_countries": ["TZ"],
            "export_countries": ["KE"],
            "transit_countries": ["AE"],
            "destination_countries": ["VN"],
            "legal_outcome": "prosecution pending",
            "disposal": "held as evidence",
        },
    }
    body.update(changes)
    return body


def person(name: str = "Nguyễn Văn Hùng", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "entity",
        "title": f"Trafficker {name}",
        "grading": {"scheme": "admiralty", "source": "C", "information": "3"},
        "tlp": "amber",
        "distribution": {"level": "community"},
        "entity": {
            "kind": "person",
            "name": name,
            "aliases": [
                {"name": "Nguyen Van Hung", "language": "vi", "script": "Latn"},
                {"name": "Нгуен Ван Хунг", "language": "ru", "script": "Cyrl"},
            ],
            "identifiers": {"passport": "C1234567"},
            "birth_date": "1975-04-30",
            "country": "VN",
        },
    }
    body.update(changes)
    return body


def alert(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "alert",
        "title": "Pangolin scales declared as fish maw",
        "grading": {"scheme": "5x5x5", "source": "B", "information": "3"},
        "handling_code": "1",
        "tlp": "amber",
        "distribution": {"level": "community"},
        "alert": {
            "modus_operandi": "Scales packed under dried fish maw in air cargo",
            "concealment_method": "dried fish maw",
            "routes": [{"from_country": "NG", "to_country": "CN", "via": ["ET", "AE"]}],
            "species": ["Manis tricuspis"],
            "valid_from": "2026-11-01",
            "valid_until": "2027-05-01",
        },
    }
    body.update(changes)
    return body


def today() -> date:
    return date.today()
