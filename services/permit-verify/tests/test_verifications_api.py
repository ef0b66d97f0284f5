"""`POST /v1/verifications` without species-ref running (SPECIES_UNAVAILABLE, still a 200),
with and without a risk-score responder; replay, the stored answer, the event, bad input.
On SQLite and PostgreSQL (the `registry` fixture). The scenario table over the real checklist,
with species-ref running, is `tests/test_verification_scenarios.py`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import nats
import pytest

from pangolin_core import migrations
from pangolin_core.contracts.risk import (
    ASSESS_SUBJECT,
    AssessmentRequest,
    RiskAssessment,
    RiskReason,
)
from pangolin_core.contracts.species import StatusRequest, StatusResponse
from pangolin_core.messaging.rpc import RpcEndpoint, RpcServer
from pangolin_core.telemetry import setup_telemetry
from pangolin_core.testing import eventually, running_app
from permit_support import CUSTOMS, MA_KE, NOBODY, SW_KE, PermitFactory, Registry, today
from permit_verify.app import DEFINITION, create_app
from permit_verify.settings import PermitVerifySettings

DeclarationFactory = Callable[..., dict[str, Any]]


@pytest.fixture
def declaration() -> DeclarationFactory:
    """The issue's example declaration (today, 60 Python regius on KE/2026/E/000123)."""

    def build(**changes: Any) -> dict[str, Any]:
        line: dict[str, Any] = {
            "line_no": 1,
            "permit": {
                "number": "KE/2026/E/000123",
                "issuing_country": "KE",
                "security_stamp": "KE123456",
            },
            "import_permit": None,
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
            "declared_on": today().isoformat(),
            "office": "KEMBA",
            "declarant": {"name": "Swift Clearing Agents", "country": "KE"},
            "exporter": {"name": "Savannah Reptiles Ltd", "country": "KE"},
            "importer": {"name": "Hanoi Pet Trading Co", "country": "VN"},
            "countries": {"export": "KE", "import": "VN", "origin": "KE", "transit": ["AE"]},
            "transport": {"mode": "air", "document": "176-12345675"},
            "lines": [line],
        }
        body.update(changes)
        return body

    return build


def codes(findings: list[dict[str, Any]]) -> set[str]:
    return {f["code"] for f in findings}


async def test_species_ref_down_is_a_finding_not_a_500(
    registry: Registry, export_permit: PermitFactory, declaration: DeclarationFactory
) -> None:
    permit = (await registry.client.post("/v1/permits", json=export_permit(), headers=MA_KE)).json()
    response = await registry.client.post("/v1/verifications", json=declaration(), headers=SW_KE)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["declaration_id"] == "SW-KE-2026-000001"
    [line] = body["lines"]
    assert line["permit_id"] == permit["id"]
    assert codes(line["findings"]) == {"SPECIES_UNAVAILABLE"}
    assert line["findings"][0]["severity"] == "warning"
    assert line["findings"][0]["field"] == "lines[0].species"
    assert line["verdict"] == body["verdict"] == "discrepancies"
    # No risk-score responder: no lane, and the declaration says why.
    assert body["risk"] is None
    assert codes(body["findings"]) == {"RISK_UNAVAILABLE"}


async def test_without_species_ref_the_registry_checks_still_run(
    registry: Registry, export_permit: PermitFactory, declaration: DeclarationFactory
) -> None:
    await registry.client.post("/v1/permits", json=export_permit(), headers=MA_KE)
    body = declaration(
        line={"quantity": "150", "term": "SKI"},
        importer={"name": "Saigon Aquarium Supplies", "country": "VN"},
    )
    answer = (await registry.client.post("/v1/verifications", json=body, headers=SW_KE)).json()
    [line] = answer["lines"]
    # The species is compared by name (same name here); term, quantity, importer are registry's.
    assert codes(line["findings"]) == {
        "SPECIES_UNAVAILABLE",
        "TERM_MISMATCH",
        "QUANTITY_EXCEEDS_BALANCE",
        "IMPORTER_MISMATCH",
    }
    assert answer["verdict"] == "invalid"
    by_code = {f["code"]: f for f in line["findings"]}
    assert by_code["QUANTITY_EXCEEDS_BALANCE"] | {"message": None} == {
        "code": "QUANTITY_EXCEEDS_BALANCE",
        "severity": "error",
        "message": None,
        "field": "lines[0].quantity",
        "expected": "100",
        "actual": "150",
    }


async def test_a_replay_returns_the_stored_verification_and_one_event(
    registry: Registry, export_permit: PermitFactory, declaration: DeclarationFactory
) -> None:
    await registry.client.post("/v1/permits", json=export_permit(), headers=MA_KE)
    first = await registry.client.post("/v1/verifications", json=declaration(), headers=SW_KE)
    again = await registry.client.post("/v1/verifications", json=declaration(), headers=SW_KE)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert await registry.count("verification") == 1

    events = await registry.outbox_events("permits.verification.completed")
    assert len(events) == 1
    data = events[0]["data"]
    assert data["verification_id"] == first.json()["verification_id"]
    assert data["verdict"] == "discrepancies"
    assert data["lines"] == [
        {
            "line_no": 1,
            "verdict": "discrepancies",
            "permit_id": first.json()["lines"][0]["permit_id"],
            "finding_codes": ["SPECIES_UNAVAILABLE"],
        }
    ]
    assert data["finding_codes"] == ["RISK_UNAVAILABLE"]

    read = await registry.client.get(
        f"/v1/verifications/{first.json()['verification_id']}", headers=CUSTOMS
    )
    assert read.status_code == 200
    assert read.json() == first.json()


async def test_the_same_declaration_id_with_other_content_is_a_409(
    registry: Registry, export_permit: PermitFactory, declaration: DeclarationFactory
) -> None:
    await registry.client.post("/v1/permits", json=export_permit(), headers=MA_KE)
    await registry.client.post("/v1/verifications", json=declaration(), headers=SW_KE)
    changed = declaration(line={"quantity": "61"})
    response = await registry.client.post("/v1/verifications", json=changed, headers=SW_KE)
    assert response.status_code == 409
    assert response.json()["code"] == "declaration_changed"
    assert response.json()["errors"][0]["field"] == "declaration_id"
    assert await registry.count("verification") == 1


async def test_another_declaration_on_the_permit_is_a_warning_then_an_error_once_endorsed(
    registry: Registry, export_permit: PermitFactory, declaration: DeclarationFactory
) -> None:
    permit = (await registry.client.post("/v1/permits", json=export_permit(), headers=MA_KE)).json()
    await registry.client.post("/v1/verifications", json=declaration(), headers=SW_KE)
    second = (
        await registry.client.post(
            "/v1/verifications", json=declaration(declaration_id="SW-KE-2026-000002"), headers=SW_KE
        )
    ).json()
    elsewhere = [f for f in second["lines"][0]["findings"] if f["code"] != "SPECIES_UNAVAILABLE"]
    assert [(f["code"], f["severity"], f["actual"]) for f in elsewhere] == [
        ("PERMIT_IN_USE_ELSEWHERE", "warning", "SW-KE-2026-000001")
    ]
    endorsement = {
        "declaration_id": "SW-KE-2026-000001",
        "office": "KEMBA",
        "endorsed_on": today().isoformat(),
        "items": [{"item_id": "A", "quantity": "60"}],
    }
    endorsed = await registry.client.post(
        f"/v1/permits/{permit['id']}/endorsements", json=endorsement, headers=SW_KE
    )
    assert endorsed.status_code == 201
    third = (
        await registry.client.post(
            "/v1/verifications", json=declaration(declaration_id="SW-KE-2026-000003"), headers=SW_KE
        )
    ).json()
    found = {(f["code"], f["severity"], f["actual"]) for f in third["lines"][0]["findings"]}
    assert found == {
        ("SPECIES_UNAVAILABLE", "warning", None),
        ("PERMIT_ALREADY_USED", "error", "used"),
        ("PERMIT_IN_USE_ELSEWHERE", "error", "SW-KE-2026-000001"),
        ("PERMIT_IN_USE_ELSEWHERE", "warning", "SW-KE-2026-000002"),
    }
    assert third["verdict"] == "invalid"


async def test_a_risk_score_responder_gives_the_lane(
    registry: Registry,
    export_permit: PermitFactory,
    declaration: DeclarationFactory,
    nats_url: str,
) -> None:
    """A real NATS micro endpoint on `risk.rpc.assess`, answering the issue 6 contract."""
    await registry.client.post("/v1/permits", json=export_permit(), headers=MA_KE)
    received: list[AssessmentRequest] = []

    async def assess(request: AssessmentRequest) -> RiskAssessment:
        received.append(request)
        return RiskAssessment(
            assessment_id="a-1",
            score=72,
            lane="red",
            controls=["physical_inspection"],
            random=False,
            reasons=[
                RiskReason(
                    source="permit_finding",
                    id=request.findings[0].code,
                    title="species not checked",
                    points=10,
                    detail=None,
                )
            ],
            model_version="m-1",
            profile_versions={"p-1": 3},
        )

    nc = await nats.connect(nats_url)
    server = RpcServer(nc, setup_telemetry("risk-test"), name="risk-score-test", version="0.0.1")
    await server.start([RpcEndpoint(ASSESS_SUBJECT, AssessmentRequest, assess)])
    try:
        response = await registry.client.post(
            "/v1/verifications", json=declaration(), headers=SW_KE
        )
    finally:
        await server.stop()
        await nc.close()
    body = response.json()
    assert body["findings"] == []
    assert body["risk"] == {
        "assessment_id": "a-1",
        "score": 72.0,
        "lane": "red",
        "controls": ["physical_inspection"],
        "random": False,
        "reasons": [
            {
                "source": "permit_finding",
                "id": "SPECIES_UNAVAILABLE",
                "title": "species not checked",
                "points": 10.0,
                "detail": None,
            }
        ],
        "model_version": "m-1",
        "profile_versions": {"p-1": 3},
    }
    [request] = received
    assert request.declaration.declaration_id == "SW-KE-2026-000001"
    # The declaration travels in its contract's names (`import`, not Python's `import_`).
    assert request.declaration.model_dump(mode="json")["countries"] == {
        "export": "KE",
        "import": "VN",
        "origin": "KE",
        "transit": ["AE"],
    }
    assert [f.code for f in request.findings] == ["SPECIES_UNAVAILABLE"]
    events = await registry.outbox_events("permits.verification.completed")
    assert (events[0]["data"]["risk_lane"], events[0]["data"]["risk_score"]) == ("red", 72.0)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"direction": "sideways"}, "direction"),
        ({"declared_on": "2026-02-30"}, "declared_on"),
        ({"declared_on": "2999-01-01"}, "declared_on"),
        ({"lines": []}, "lines"),
        ({"countries": {"export": "QQ", "import": "VN"}}, "countries.export"),
        ({"line": {"quantity": "-1"}}, "lines[0].quantity"),
        ({"line": {"quantity": "1.0000001"}}, "lines[0].quantity"),
        ({"line": {"term": "XYZ"}}, "lines[0].term"),
        ({"line": {"source": "Q"}}, "lines[0].source"),
        ({"line": {"unit": "ZZZ"}}, "lines[0].unit"),
        ({"line": {"purpose": "X"}}, "lines[0].purpose"),
        ({"line": {"permit": {"number": "1", "issuing_country": "Q1"}}}, "lines[0].permit"),
        ({"line": {"species": ""}}, "lines[0].species"),
        ({"line": {"colour": "green"}}, "lines[0].colour"),
        ({"line": {"hs_code": "01-06"}}, "lines[0].hs_code"),
        ({"countries": {"import": "VN"}}, "countries.export"),
        ({"countries": {"export": "KE", "import": "VNM"}}, "countries.import"),
        ({"countries": {"export": "KE", "import": "XQ"}}, "countries.import"),
    ],
)
async def test_bad_declarations_are_422_naming_the_field(
    registry: Registry, declaration: DeclarationFactory, change: dict[str, Any], field: str
) -> None:
    response = await registry.client.post(
        "/v1/verifications", json=declaration(**change), headers=SW_KE
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    fields = [e["field"] for e in response.json()["errors"]]
    assert any(f.startswith(field) for f in fields), fields
    assert await registry.count("verification") == 0


async def test_two_lines_with_one_number_are_a_422(
    registry: Registry, declaration: DeclarationFactory
) -> None:
    body = declaration()
    body["lines"].append(dict(body["lines"][0]))
    response = await registry.client.post("/v1/verifications", json=body, headers=SW_KE)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "lines[1].line_no"


async def test_scopes_and_unknown_ids(registry: Registry, declaration: DeclarationFactory) -> None:
    refused = await registry.client.post("/v1/verifications", json=declaration(), headers=NOBODY)
    assert refused.status_code == 403
    unknown = await registry.client.get(
        "/v1/verifications/9b2f8f65-3c1e-4c4e-9d36-6c0d4d0e7a11", headers=CUSTOMS
    )
    assert unknown.status_code == 404
    not_an_id = await registry.client.get("/v1/verifications/nope", headers=CUSTOMS)
    assert not_an_id.status_code == 422


async def test_concurrent_replays_answer_one_verification(
    registry: Registry, export_permit: PermitFactory, declaration: DeclarationFactory
) -> None:
    await registry.client.post("/v1/permits", json=export_permit(), headers=MA_KE)
    answers = await asyncio.gather(
        *(
            registry.client.post("/v1/verifications", json=declaration(), headers=SW_KE)
            for _ in range(5)
        )
    )
    # Each computes a verification; the first to store wins and the others answer its result
    # (SQLite: seen under the write lock; PostgreSQL: after the unique index made them wait).
    assert [a.status_code for a in answers] == [200] * 5
    assert len({a.json()["verification_id"] for a in answers}) == 1
    assert len(await registry.outbox_events("permits.verification.completed")) == 1
    assert await registry.count("verification") == 1


async def test_concurrent_declarations_with_one_id_and_other_content_store_one(
    registry: Registry, export_permit: PermitFactory, declaration: DeclarationFactory
) -> None:
    await registry.client.post("/v1/permits", json=export_permit(), headers=MA_KE)
    bodies = [declaration(line={"quantity": str(60 + n)}) for n in range(4)]
    answers = await asyncio.gather(
        *(registry.client.post("/v1/verifications", json=b, headers=SW_KE) for b in bodies)
    )
    # The first to store wins; the others' write finds it with another content: a 409, and
    # their unit of work stores nothing (one verification, one event).
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 409, 409, 409]
    [stored] = [a.json() for a in answers if a.status_code == 200]
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"declaration_changed"}
    assert await registry.count("verification") == 1
    assert await registry.count("verification_permit") == 1
    [event] = await registry.outbox_events("permits.verification.completed")
    assert event["data"]["verification_id"] == stored["verification_id"]


async def test_a_species_ref_that_hangs_is_cut_at_the_timeout(
    sqlite_url: str, nats_url: str, export_permit: PermitFactory, declaration: DeclarationFactory
) -> None:
    """A responder on `species.rpc.status` that never answers: the verification answers
    after the configured timeout with SPECIES_UNAVAILABLE, not later and not a 500."""
    await migrations.upgrade(DEFINITION.migrations, sqlite_url)
    settings = PermitVerifySettings(
        database_url=sqlite_url,
        nats_url=nats_url,
        species_rpc_timeout=0.2,
        species_check_at_issue=False,
    )
    never = asyncio.Event()

    async def hang(request: StatusRequest) -> StatusResponse:
        await never.wait()
        raise AssertionError("never answered")

    nc = await nats.connect(nats_url)
    server = RpcServer(nc, setup_telemetry("species-test"), name="species-hang", version="0.0.1")
    await server.start([RpcEndpoint("species.rpc.status", StatusRequest, hang)])
    try:
        app = create_app(settings)
        async with running_app(app) as client:
            await client.post("/v1/permits", json=export_permit(), headers=MA_KE)
            started = time.perf_counter()
            response = await client.post("/v1/verifications", json=declaration(), headers=SW_KE)
            elapsed = time.perf_counter() - started
    finally:
        never.set()
        await server.stop()
        await nc.close()
    assert response.status_code == 200
    assert codes(response.json()["lines"][0]["findings"]) == {"SPECIES_UNAVAILABLE"}
    assert 0.2 <= elapsed < 2.0


async def test_the_completed_event_reaches_the_permits_stream(
    registry: Registry, declaration: DeclarationFactory, nats_url: str
) -> None:
    answer = await registry.client.post("/v1/verifications", json=declaration(), headers=SW_KE)
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()

        async def published() -> int:
            return (await js.stream_info("PERMITS")).state.messages

        assert await eventually(published) == 1
        message = await js.get_last_msg("PERMITS", "permits.verification.completed")
        assert message.data is not None
        assert answer.json()["verification_id"].encode() in message.data
    finally:
        await nc.close()
