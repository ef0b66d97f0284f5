"""Helpers of permit-verify's tests: callers as the gateway would forward them, and a view of
the registry's database for assertions (on the pytest pythonpath, like gateway_support)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from httpx import AsyncClient

from pangolin_core.db import Database
from pangolin_core.messaging.tables import outbox
from pangolin_core.testing import identity_headers

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
            result = await session.exec(sa.select(sa.func.count()).select_from(sa.table(table)))
            return int(result.scalar_one())

    async def outbox_events(self, subject: str | None = None) -> list[dict[str, Any]]:
        async with self.db.session(write=False) as session:
            query = sa.select(outbox.c.subject, outbox.c.payload).order_by(outbox.c.created_at)
            rows = (await session.exec(query)).all()
        return [json.loads(payload) for subj, payload in rows if subject is None or subj == subject]


PermitFactory = Callable[..., dict[str, Any]]
