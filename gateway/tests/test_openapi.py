"""`GET /openapi.json` at the gateway against a real species-ref served over HTTP."""

from __future__ import annotations

import asyncio
import importlib
import re
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from gateway import routes
from gateway.app import DEFINITION as GATEWAY
from gateway.app import create_app as create_gateway
from gateway.settings import GatewaySettings
from pangolin_core import migrations
from pangolin_core.suite import SERVICES, SuiteApp
from pangolin_core.testing import eventually, running_app
from species_ref.app import DEFINITION as SPECIES_REF
from species_ref.app import create_app as create_species_ref
from species_ref.settings import SpeciesRefSettings

OPERATIONS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[tuple[str, uvicorn.Server]]:
    """The app behind a real uvicorn on a free port of 127.0.0.1."""
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
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", server
    finally:
        server.should_exit = True
        await task
        sock.close()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@dataclass
class Suite:
    client: httpx.AsyncClient  # the gateway, in-process
    species_ref_url: str
    species_ref: uvicorn.Server


@asynccontextmanager
async def gateway_with_species_ref(tmp_path: Path, nats_url: str) -> AsyncIterator[Suite]:
    species_db = f"sqlite:///{tmp_path / 'species.db'}"
    gateway_db = f"sqlite:///{tmp_path / 'gateway.db'}"
    await migrations.upgrade(SPECIES_REF.migrations, species_db)
    await migrations.upgrade(GATEWAY.migrations, gateway_db)
    species_ref = create_species_ref(SpeciesRefSettings(nats_url=nats_url, database_url=species_db))
    async with serve(species_ref) as (species_url, server):
        nowhere = closed_port_url()  # the other services are down
        gateway = create_gateway(
            GatewaySettings(
                nats_url=nats_url,
                database_url=gateway_db,
                species_ref_url=species_url,
                permit_verify_url=nowhere,
                risk_score_url=nowhere,
                intel_share_url=nowhere,
            )
        )
        async with running_app(gateway) as client:
            yield Suite(client, species_url, server)


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def assert_valid_openapi_31(doc: dict[str, Any]) -> None:
    """The structure OpenAPI 3.1 asks for, and every reference resolved (no validator is
    installed in this workspace)."""
    assert re.fullmatch(r"3\.1\.\d+", doc["openapi"])
    assert doc["info"]["title"] and doc["info"]["version"]
    schemes = doc["components"]["securitySchemes"]
    declared_tags = {t["name"] for t in doc.get("tags", [])}
    operation_ids: list[str] = []
    for path, item in doc["paths"].items():
        assert path.startswith("/")
        for method, operation in item.items():
            if method not in OPERATIONS:
                continue
            assert operation["responses"], (method, path)
            operation_ids.append(operation["operationId"])
            params = {
                p["name"]
                for p in [*item.get("parameters", []), *operation.get("parameters", [])]
                if p["in"] == "path"
            }
            assert params == set(re.findall(r"{([^}]+)}", path)), (method, path)
            for requirement in operation.get("security", []):
                for scheme, scopes in requirement.items():
                    assert scheme in schemes
                    if schemes[scheme]["type"] == "oauth2":
                        flow = schemes[scheme]["flows"]["clientCredentials"]
                        assert set(scopes) <= set(flow["scopes"])
            for tag in operation.get("tags", []):
                assert tag in declared_tags or not doc.get("tags"), tag
    assert len(operation_ids) == len(set(operation_ids))
    for ref in _refs(doc):
        assert ref.startswith("#/"), ref
        node: Any = doc
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]


async def test_the_gateway_serves_one_document_with_species_ref_paths(
    tmp_path: Path, nats_url: str
) -> None:
    async with gateway_with_species_ref(tmp_path, nats_url) as suite:
        response = await suite.client.get("/openapi.json")

    assert response.status_code == 200
    doc = response.json()
    assert_valid_openapi_31(doc)
    paths = doc["paths"]

    # species-ref's paths, each with the scopes its route rule needs, by token or API key.
    species = {p for p in paths if p.startswith("/v1/species/")}
    assert {"/v1/species/taxa", "/v1/species/taxa/{taxon_id}", "/v1/species/match"} <= species
    for path in species:
        for method, operation in paths[path].items():
            if method not in OPERATIONS:
                continue
            rule = routes.match(method.upper(), path)
            assert rule is not None and rule.upstream == "species-ref"
            assert operation["tags"] == ["species-ref"]
            assert operation["security"] == [
                {scheme: [scope]}
                for scope in sorted(rule.scopes)
                for scheme in ("oauth2", "apiKey")
            ]
    assert paths["/v1/species/taxa"]["get"]["security"][0] == {"oauth2": ["species:read"]}

    # The gateway's own paths; nothing of the services that is not forwarded.
    assert "/health" in paths and "/v1/admin/audit" in paths
    assert paths["/v1/admin/audit"]["get"]["security"] == [
        {"oauth2": ["admin"]},
        {"apiKey": ["admin"]},
    ]
    assert "/ready" in paths  # the gateway's, not species-ref's (species-ref has one too)
    assert all(routes.is_routed(p) or not p.startswith("/v1/species") for p in paths)

    schemes = doc["components"]["securitySchemes"]
    assert schemes["oauth2"]["flows"]["clientCredentials"]["tokenUrl"] == "/oauth/token"
    assert set(schemes["oauth2"]["flows"]["clientCredentials"]["scopes"]) >= routes.all_scopes()
    assert schemes["apiKey"]["in"] == "header" and schemes["apiKey"]["name"] == "X-API-Key"

    # species-ref's schemas came along with the operations that use them.
    assert "TaxonPage" in doc["components"]["schemas"]
    assert doc["x-pangolin-unavailable"] == ["intel-share", "permit-verify", "risk-score"]


async def test_the_document_is_cached_and_still_served_when_a_service_goes(
    tmp_path: Path, nats_url: str
) -> None:
    async with gateway_with_species_ref(tmp_path, nats_url) as suite:
        first = (await suite.client.get("/openapi.json")).json()
        assert "/v1/species/taxa" in first["paths"]
        suite.species_ref.should_exit = True

        async def species_ref_gone() -> bool:
            try:
                async with httpx.AsyncClient() as direct:
                    await direct.get(f"{suite.species_ref_url}/health")
            except httpx.ConnectError:
                return True
            return False

        await eventually(species_ref_gone)
        again = await suite.client.get("/openapi.json")

    assert again.status_code == 200
    assert again.json() == first  # from the cache: species-ref was not asked again


async def test_docs_render_the_merged_document(tmp_path: Path, nats_url: str) -> None:
    async with gateway_with_species_ref(tmp_path, nats_url) as suite:
        response = await suite.client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "swagger-ui" in response.text and "'/openapi.json'" in response.text.replace('"', "'")


async def test_a_gateway_with_no_service_up_still_serves_its_own_paths(
    tmp_path: Path, nats_url: str
) -> None:
    gateway_db = f"sqlite:///{tmp_path / 'gateway.db'}"
    await migrations.upgrade(GATEWAY.migrations, gateway_db)
    nowhere = closed_port_url()
    settings = GatewaySettings(
        nats_url=nats_url,
        database_url=gateway_db,
        species_ref_url=nowhere,
        permit_verify_url=nowhere,
        risk_score_url=nowhere,
        intel_share_url=nowhere,
    )
    async with running_app(create_gateway(settings)) as client:
        response = await client.get("/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert_valid_openapi_31(doc)
    assert not any(routes.is_routed(p) for p in doc["paths"])
    assert "/v1/admin/audit" in doc["paths"]
    assert doc["x-pangolin-unavailable"] == [
        "intel-share",
        "permit-verify",
        "risk-score",
        "species-ref",
    ]


@pytest.mark.parametrize("service", SERVICES, ids=[s.name for s in SERVICES])
async def test_services_serve_their_openapi_without_authentication(
    service: SuiteApp, tmp_path: Path
) -> None:
    """The gateway fetches `/openapi.json` with no identity: no service may guard it."""
    module = importlib.import_module(f"{service.package}.app")
    app = module.create_app(service.settings(database_url=f"sqlite:///{tmp_path / 'x.db'}"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        response = await client.get("/openapi.json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.1")
