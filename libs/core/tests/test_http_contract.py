"""What every app does at its HTTP edge: problem+json errors, identity, scopes, and a unit
of work that commits before the response or not at all."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi import APIRouter, Depends, FastAPI
from httpx import AsyncClient
from pydantic import BaseModel, Field

from backbone_support import bump, count_of, test_metadata
from pangolin_core import migrations
from pangolin_core.db import Database, SessionDep
from pangolin_core.errors import Conflict, NotFound
from pangolin_core.identity import (
    Caller,
    CallerDep,
    IdentitySigner,
    requires_scope,
)
from pangolin_core.service import ServiceDefinition, create_service_app
from pangolin_core.settings import ServiceSettings
from pangolin_core.suite import app_named
from pangolin_core.testing import identity_headers, running_app


class Line(BaseModel):
    line_no: int = Field(ge=1)
    quantity: Decimal = Field(gt=0)


class Declaration(BaseModel):
    declaration_id: str = Field(min_length=1)
    lines: list[Line] = Field(min_length=1)


router = APIRouter()


@router.post("/v1/declarations", status_code=201)
async def declare(
    declaration: Declaration,
    session: SessionDep,
    caller: Caller = Depends(requires_scope("permits:verify")),
) -> dict[str, object]:
    await bump(session, declaration.declaration_id)
    if declaration.declaration_id.startswith("FAIL"):
        raise Conflict("declaration refused after a write")
    return {"declaration_id": declaration.declaration_id, "caller": caller.client_id}


@router.get("/v1/declarations/{declaration_id}")
async def get_declaration(declaration_id: str, caller: CallerDep) -> dict[str, str]:
    raise NotFound(f"no declaration {declaration_id}")


@router.get("/v1/boom")
async def boom(caller: CallerDep) -> None:
    raise RuntimeError("secret internals")


@pytest.fixture
async def app_and_db(nats_url: str, tmp_path: Path) -> tuple[FastAPI, Database]:
    url = f"sqlite:///{tmp_path / 'edge.db'}"
    await migrations.upgrade(app_named("permit-verify").definition().migrations, url)
    db = Database(url)
    async with db.engine.begin() as conn:
        await conn.run_sync(test_metadata.create_all)
    await db.dispose()
    definition = ServiceDefinition(
        name="permit-verify",
        title="edge",
        description="",
        migrations=Path("."),
        routers=[router],
    )
    settings = ServiceSettings(nats_url=nats_url, database_url=url)
    return create_service_app(definition, settings), Database(url)


@pytest.fixture
async def client(app_and_db: tuple[FastAPI, Database]) -> AsyncClient:  # type: ignore[misc]
    async with running_app(app_and_db[0]) as client:
        yield client


async def test_a_call_without_identity_is_refused_401(client: AsyncClient) -> None:
    response = await client.post("/v1/declarations", json={})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "unauthenticated"


async def test_a_forged_identity_is_refused_401(client: AsyncClient) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    pem = (
        Ed25519PrivateKey.generate()
        .private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        .decode()
    )
    token = IdentitySigner(pem).sign(Caller("mallory", "KE", scopes=frozenset({"permits:verify"})))
    response = await client.post(
        "/v1/declarations", json={}, headers={"X-Pangolin-Identity": token}
    )
    assert response.status_code == 401
    assert "unknown key" in response.json()["detail"]


async def test_a_missing_scope_is_refused_403_naming_it(client: AsyncClient) -> None:
    response = await client.post(
        "/v1/declarations",
        json={"declaration_id": "SW-1", "lines": [{"line_no": 1, "quantity": "2"}]},
        headers=identity_headers("species:read"),
    )
    assert response.status_code == 403
    assert response.json()["missing_scopes"] == ["permits:verify"]


async def test_invalid_input_is_a_422_problem_with_field_paths(client: AsyncClient) -> None:
    response = await client.post(
        "/v1/declarations",
        json={"declaration_id": "SW-1", "lines": [{"line_no": 1, "quantity": "-3"}]},
        headers=identity_headers("permits:verify"),
    )
    assert response.status_code == 422
    body = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert body["code"] == "invalid_input"
    assert body["status"] == 422
    assert body["instance"] == "/v1/declarations"
    assert [(e["location"], e["field"]) for e in body["errors"]] == [("body", "lines[0].quantity")]


async def test_a_good_call_commits_before_answering(
    client: AsyncClient, app_and_db: tuple[FastAPI, Database]
) -> None:
    response = await client.post(
        "/v1/declarations",
        json={"declaration_id": "SW-2", "lines": [{"line_no": 1, "quantity": "2.5"}]},
        headers=identity_headers("permits:verify", client_id="kenya-single-window"),
    )
    assert response.status_code == 201
    assert response.json()["caller"] == "kenya-single-window"
    assert await count_of(app_and_db[1], "SW-2") == 1


async def test_an_error_after_a_write_leaves_nothing_written(
    client: AsyncClient, app_and_db: tuple[FastAPI, Database]
) -> None:
    response = await client.post(
        "/v1/declarations",
        json={"declaration_id": "FAIL-1", "lines": [{"line_no": 1, "quantity": "1"}]},
        headers=identity_headers("permits:verify"),
    )
    assert response.status_code == 409
    assert await count_of(app_and_db[1], "FAIL-1") == 0


async def test_domain_errors_and_unknown_routes_are_problems(client: AsyncClient) -> None:
    missing = await client.get("/v1/declarations/SW-9", headers=identity_headers())
    assert missing.status_code == 404
    assert missing.json()["detail"] == "no declaration SW-9"
    unknown = await client.get("/v1/nothing-here")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"


async def test_an_unexpected_error_is_a_500_problem_that_hides_internals(
    app_and_db: tuple[FastAPI, Database],
) -> None:
    async with running_app(app_and_db[0], raise_app_exceptions=False) as client:
        response = await client.get("/v1/boom", headers=identity_headers())
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "secret internals" not in response.text


async def test_sqlite_runs_in_wal_with_foreign_keys(app_and_db: tuple[FastAPI, Database]) -> None:
    db = app_and_db[1]
    async with db.connect() as conn:
        assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
        assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
    async with db.session(write=False) as session:
        assert await session.scalar(sa.select(sa.literal(1))) == 1
