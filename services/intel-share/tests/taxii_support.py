"""Records for the STIX, TAXII and federation tests: one of each kind, as `RecordOut`s."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import requests
import uvicorn
from fastapi import FastAPI

from intel_share.app import DEFINITION, create_app
from intel_share.records.grading import confidence
from intel_share.records.schemas import RecordOut
from intel_share.settings import IntelShareSettings
from intel_support import IntelShare
from pangolin_core import migrations
from pangolin_core.testing import eventually

KWS = {"agency": "customs", "country": "KE"}
T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)

SEIZURE = {
    "seized_on": "2026-10-30",
    "place": "Jomo Kenyatta International Airport",
    "office": "JKIA cargo",
    "agency": "Kenya Wildlife Service",
    "detection_method": "x-ray",
    "specimens": [
        {
            "species": "Smutsia temminckii",
            "term": "SCA",
            "quantity": "12.5",
            "unit": "KIL",
            "value": "30000",
            "currency": "USD",
        }
    ],
    "concealment": "false-bottom suitcases",
    "transport_mode": "air",
    "origin_countries": ["UG"],
    "export_countries": ["KE"],
    "transit_countries": ["AE"],
    "destination_countries": ["VN"],
    "legal_outcome": "prosecuted",
    "disposal": "stored as evidence",
}
ALERT = {
    "modus_operandi": "Scales declared as fish maw in frozen containers",
    "concealment_method": "frozen fish cartons",
    "routes": [{"from_country": "NG", "to_country": "VN", "via": ["MY"]}],
    "species": ["Manis"],
    "valid_from": "2026-11-01",
    "valid_until": "2027-05-01",
}
ENTITIES: dict[str, dict[str, Any]] = {
    "person": {
        "kind": "person",
        "name": "Nguyễn Văn Hùng",
        "aliases": [{"name": "Nguyen Van Hung", "script": "Latn"}],
        "identifiers": {"passport": "C1234567"},
        "birth_date": "1978-03-02",
        "country": "VN",
    },
    "company": {"kind": "company", "name": "Golden Ivory Trading Co., Ltd.", "country": "VN"},
    "network": {"kind": "network", "name": "Lagos-Hanoi scales network"},
    "vessel": {"kind": "vessel", "name": "MV Ocean Star", "identifiers": {"imo": "9321483"}},
    "address": {"kind": "address", "name": "Warehouse 7", "address": "12 Pho Hue, Hanoi"},
}


def new_id() -> str:
    return str(uuid.uuid4())


def record(kind: str = "seizure", **changes: Any) -> RecordOut:
    rid = changes.pop("id", None) or new_id()
    record_type = kind if kind in ("seizure", "alert") else "entity"
    base: dict[str, Any] = {
        "id": rid,
        "type": record_type,
        "title": f"{kind} {rid[:8]}",
        "description": None,
        "originator": KWS,
        "grading": {
            "scheme": "admiralty",
            "source": "B",
            "information": "2",
            "code": "B2",
            "confidence": confidence("admiralty", "2"),
        },
        "handling_code": None,
        "tlp": "amber",
        "distribution": {"level": "community"},
        "review_on": None,
        "expires_on": None,
        "version": 1,
        "revoked": False,
        "revoked_at": None,
        "revoked_reason": None,
        "created_at": T0,
        "updated_at": T0,
    }
    if kind == "seizure":
        base["seizure"] = SEIZURE
    elif kind == "alert":
        base["alert"] = ALERT
    else:
        base["entity"] = ENTITIES[kind]
    base.update(changes)
    return RecordOut.model_validate(base)


def next_version(r: RecordOut, **changes: Any) -> RecordOut:
    return r.model_copy(
        update={
            "version": r.version + 1,
            "updated_at": r.updated_at + timedelta(hours=1),
            **changes,
        }
    )


def person_in_network() -> tuple[RecordOut, RecordOut]:
    network = record("network")
    person = record("person", relationships=[{"kind": "part_of_network", "target_id": network.id}])
    return network, person


# --- a served instance (uvicorn on loopback) for the real TAXII client ---


class IdentityAuth(requests.auth.AuthBase):
    """taxii2-client's `auth`: the identity header the gateway would forward."""

    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers.update(self.headers)
        return request


@dataclass
class ServedIntel:
    """An intel-share instance behind uvicorn: its URL, in-process client and database."""

    url: str
    intel: IntelShare
    settings: IntelShareSettings

    @property
    def api_root(self) -> str:
        return f"{self.url}/taxii2/api/"


@asynccontextmanager
async def serving(app: FastAPI, sock: socket.socket | None = None) -> AsyncIterator[str]:
    """Serve `app` (its lifespan running) with uvicorn on loopback; its base URL."""
    if sock is None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))

    async def started() -> bool:
        if task.done():
            task.result()  # a failed start fails the test with its reason
        return server.started

    try:
        await eventually(started, timeout=30)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@asynccontextmanager
async def served_intel(
    settings: IntelShareSettings, sock: socket.socket | None = None
) -> AsyncIterator[ServedIntel]:
    """Migrate, then serve intel-share with uvicorn on a free port of 127.0.0.1."""
    await migrations.upgrade(DEFINITION.migrations, settings.database_url)
    app = create_app(settings)
    async with serving(app, sock) as url:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield ServedIntel(url, IntelShare(client, app.state.runtime.db), settings)
