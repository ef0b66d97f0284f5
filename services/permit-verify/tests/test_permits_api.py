"""`/v1/permits` over a real database (SQLite and PostgreSQL) and a real nats-server: issue,
refusals that store nothing, duplicates, idempotent replays, status changes, JWKS, history."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import nats
import pytest

from pangolin_core.testing import eventually, identity_headers
from permit_support import CUSTOMS, MA_KE, MA_VN, NOBODY, SW_KE, PermitFactory, Registry, today
from permit_verify.permits.signing import verify_permit

pytestmark = pytest.mark.asyncio


async def issue(registry: Registry, body: dict[str, Any], **headers: str) -> Any:
    return await registry.client.post("/v1/permits", json=body, headers={**MA_KE, **headers})


async def test_issue_answers_the_stored_permit_with_balances_signed_audited_and_announced(
    registry: Registry, export_permit: PermitFactory
) -> None:
    body = export_permit()
    body["items"].append(
        {**body["items"][0], "item_id": "B", "quantity": 12.5, "unit": "KIL", "term": "SKI"}
    )
    answer = await issue(registry, body)
    assert answer.status_code == 201, answer.text
    permit = answer.json()
    assert permit["status"] == "valid" and permit["version"] == 1
    assert permit["number"] == "KE/2026/E/000123" and permit["type"] == "export"
    assert [(i["item_id"], i["quantity"], i["balance"], i["unit"]) for i in permit["items"]] == [
        ("A", "100", "100", None),
        ("B", "12.5", "12.5", "KIL"),
    ]
    assert permit["items"][0]["taxon_id"] is None

    stored = await registry.client.get(f"/v1/permits/{permit['id']}", headers=CUSTOMS)
    assert stored.status_code == 200 and stored.json() | {"warnings": []} == permit

    jwks = await registry.client.get("/v1/permits/jwks/KE", headers=SW_KE)
    assert jwks.status_code == 200
    assert verify_permit(permit, permit["signature"], jwks.json()).valid
    altered = {**permit, "items": [{**permit["items"][0], "quantity": "1000"}, permit["items"][1]]}
    check = verify_permit(altered, permit["signature"], jwks.json())
    assert [d.field for d in check.differences] == ["items[0].quantity"]

    events = await registry.outbox_events("permits.permit.issued")
    assert len(events) == 1 and events[0]["subject"] == permit["id"]
    data = events[0]["data"]
    assert data["number"] == "KE/2026/E/000123" and data["issued_by"] == "ma-ke"
    assert data["exporter"]["name"] == "Savannah Reptiles Ltd"
    assert [(i["item_id"], i["balance"]) for i in data["items"]] == [("A", "100"), ("B", "12.5")]

    history = await registry.client.get(f"/v1/permits/{permit['id']}/history", headers=MA_KE)
    entries = history.json()["entries"]
    assert [(e["action"], e["client_id"], e["country"]) for e in entries] == [
        ("issued", "ma-ke", "KE")
    ]


async def test_the_issued_event_reaches_the_permits_stream(
    registry: Registry, export_permit: PermitFactory, nats_url: str
) -> None:
    answer = await issue(registry, export_permit())
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()

        async def stored() -> int:
            return (await js.stream_info("PERMITS")).state.messages

        assert await eventually(stored) == 1
        message = await js.get_last_msg("PERMITS", "permits.permit.issued")
        assert message.data is not None and answer.json()["id"].encode() in message.data
    finally:
        await nc.close()


async def test_only_the_issuing_country_issues(
    registry: Registry, export_permit: PermitFactory
) -> None:
    answer = await registry.client.post("/v1/permits", json=export_permit(), headers=MA_VN)
    assert answer.status_code == 403
    problem = answer.json()
    assert answer.headers["content-type"] == "application/problem+json"
    assert problem["code"] == "not_issuing_country" and "VN" in problem["detail"]
    assert await registry.count("permit") == 0
    wrong_scope = await registry.client.post("/v1/permits", json=export_permit(), headers=SW_KE)
    assert wrong_scope.status_code == 403 and wrong_scope.json()["missing_scopes"] == [
        "permits:issue"
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"items": [{"term": "XXX"}]}, "items[0].term"),
        ({"items": [{"unit": "BAD"}]}, "items[0].unit"),
        ({"items": [{"source": "Q"}]}, "items[0].source"),
        ({"purpose": "K"}, "purpose"),
        ({"importer": {"name": "x", "country": "QQ"}}, "importer.country"),
        ({"valid_until": "days"}, "valid_until"),
        ({"valid_until": "+1y"}, "valid_until"),  # beyond 6 months for an export permit
        ({"valid_until": "-20d"}, "valid_until"),  # before the issue date
        ({"items": [{"appendix": "I", "source": "W"}]}, "purpose"),
        ({"items": [{"quantity": "0"}]}, "items[0].quantity"),
        ({"items": [{"quantity": "-3"}]}, "items[0].quantity"),
        ({"items": [{"quantity": "1.0000001"}]}, "items[0].quantity"),
        ({"items": [{"quantity": "lots"}]}, "items[0].quantity"),
        ({"items": [{"quantity": "1e13"}]}, "items[0].quantity"),
        ({"items": [{"quantity": "NaN"}]}, "items[0].quantity"),
        ({"issued_on": "9999-12-31", "valid_until": "9999-12-31"}, "issued_on"),
        ({"number": "N" * 65}, "number"),
        ({"items": [{"appendix": "IV"}]}, "items[0].appendix"),
        ({"type": "permit"}, "type"),
        ({"items": []}, "items"),
        ({"items": [{}, {}]}, "items[1].item_id"),  # the same item id twice
    ],
)
async def test_bad_input_is_a_422_naming_the_field_and_nothing_is_stored(
    registry: Registry, export_permit: PermitFactory, change: dict[str, Any], field: str
) -> None:
    body = export_permit()
    for key, value in change.items():
        if key == "items":
            body["items"] = [{**body["items"][0], **item} for item in value]
        elif key == "valid_until" and value.startswith(("+", "-")):
            issued = today() - timedelta(days=10)
            delta = timedelta(days=366) if value == "+1y" else timedelta(days=-20)
            body["valid_until"] = (issued + delta).isoformat()
        else:
            body[key] = value
    answer = await issue(registry, body)
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert answer.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in problem["errors"]], problem
    assert await registry.count("permit") == 0
    assert await registry.count("permit_item") == 0
    assert await registry.outbox_events() == []


async def test_an_expired_back_filled_permit_is_registered_with_its_own_dates(
    registry: Registry, export_permit: PermitFactory
) -> None:
    answer = await issue(registry, export_permit(issued_on="2019-03-01", valid_until="2019-08-31"))
    assert answer.status_code == 201, answer.text
    assert (answer.json()["issued_on"], answer.json()["valid_until"]) == (
        "2019-03-01",
        "2019-08-31",
    )


async def test_a_number_is_registered_once_per_country(
    registry: Registry, export_permit: PermitFactory
) -> None:
    assert (await issue(registry, export_permit())).status_code == 201
    again = await issue(registry, export_permit(security_stamp="KE999999"))
    assert again.status_code == 409
    assert again.json()["code"] == "permit_number_taken"
    assert again.json()["errors"][0]["field"] == "number"
    # The same number from another country is another permit.
    vn = export_permit(
        issuing_country="VN",
        exporter={"name": "Hanoi Pet Trading Co", "country": "VN"},
        importer={"name": "Savannah Reptiles Ltd", "country": "KE"},
    )
    answer = await registry.client.post("/v1/permits", json=vn, headers=MA_VN)
    assert answer.status_code == 201, answer.text
    assert await registry.count("permit") == 2


async def test_an_idempotent_replay_returns_the_first_result(
    registry: Registry, export_permit: PermitFactory
) -> None:
    key = {"Idempotency-Key": "issue-123"}
    first = await issue(registry, export_permit(), **key)
    replay = await issue(registry, export_permit(), **key)
    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json()
    assert replay.headers.get("idempotent-replayed") == "true"
    assert await registry.count("permit") == 1
    assert len(await registry.outbox_events("permits.permit.issued")) == 1

    other = await issue(registry, export_permit(number="KE/2026/E/000124"), **key)
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    # Keys are per client: another client's same key is its own request.
    vn = export_permit(
        issuing_country="VN",
        number="VN/1",
        exporter={"name": "Hanoi Pet Trading Co", "country": "VN"},
        importer={"name": "Savannah Reptiles Ltd", "country": "KE"},
    )
    answer = await registry.client.post("/v1/permits", json=vn, headers={**MA_VN, **key})
    assert answer.status_code == 201 and answer.json()["id"] != first.json()["id"]


async def test_status_change_by_the_issuing_authority_and_final_statuses(
    registry: Registry, export_permit: PermitFactory
) -> None:
    permit = (await issue(registry, export_permit())).json()
    url = f"/v1/permits/{permit['id']}/status"
    by_vn = await registry.client.post(
        url, json={"status": "cancelled", "reason": "x"}, headers=MA_VN
    )
    assert by_vn.status_code == 403 and by_vn.json()["code"] == "not_issuing_country"
    not_a_status = await registry.client.post(
        url, json={"status": "valid", "reason": "undo"}, headers=MA_KE
    )
    assert not_a_status.status_code == 422
    assert not_a_status.json()["errors"][0]["field"] == "status"

    stolen = await registry.client.post(
        url, json={"status": "stolen", "reason": "reported by the holder"}, headers=MA_KE
    )
    assert stolen.status_code == 200, stolen.text
    assert stolen.json()["status"] == "stolen" and stolen.json()["version"] == 2
    for status in ("cancelled", "stolen", "replaced"):
        again = await registry.client.post(
            url, json={"status": status, "reason": "again"}, headers=MA_KE
        )
        assert again.status_code == 409
        assert again.json()["code"] == "permit_status_final"
        assert again.json()["status"] == "stolen"
    current = await registry.client.get(f"/v1/permits/{permit['id']}", headers=SW_KE)
    assert current.json()["status"] == "stolen"

    events = await registry.outbox_events("permits.permit.status_changed")
    assert [
        (e["data"]["previous_status"], e["data"]["status"], e["data"]["reason"]) for e in events
    ] == [("valid", "stolen", "reported by the holder")]
    history = (
        await registry.client.get(f"/v1/permits/{permit['id']}/history", headers=MA_KE)
    ).json()
    assert [e["action"] for e in history["entries"]] == ["issued", "status_changed"]
    assert history["entries"][1]["details"] == {
        "from": "valid",
        "to": "stolen",
        "reason": "reported by the holder",
    }


async def test_reading_needs_a_permit_scope_and_an_existing_permit(
    registry: Registry, export_permit: PermitFactory
) -> None:
    permit = (await issue(registry, export_permit())).json()
    assert (
        await registry.client.get(f"/v1/permits/{permit['id']}", headers=NOBODY)
    ).status_code == 403
    missing = await registry.client.get(f"/v1/permits/{uuid4()}", headers=CUSTOMS)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert "No permit" in missing.json()["detail"]
    # Paths that are not a permit id are not routed as one (`/lookup` is for partners).
    lookup = await registry.client.get("/v1/permits/lookup", headers=CUSTOMS)
    assert lookup.status_code == 422  # the partners' lookup, without its query
    assert {e["field"] for e in lookup.json()["errors"]} == {"number", "issuing_country"}
    history = await registry.client.get("/v1/permits/no-such-permit/history", headers=CUSTOMS)
    assert history.status_code == 404
    unsigned = await registry.client.get(f"/v1/permits/{permit['id']}")
    assert unsigned.status_code == 401


async def test_the_history_pages_with_a_cursor(
    registry: Registry, export_permit: PermitFactory
) -> None:
    permit = (
        await issue(registry, export_permit(type="travelling_exhibition", purpose="Q"))
    ).json()
    for n in range(3):
        answer = await registry.client.post(
            f"/v1/permits/{permit['id']}/endorsements",
            json={
                "declaration_id": f"SW-{n}",
                "office": "KEMBA",
                "endorsed_on": today().isoformat(),
                "items": [{"item_id": "A", "quantity": "1"}],
            },
            headers=SW_KE,
        )
        assert answer.status_code == 201, answer.text
    url = f"/v1/permits/{permit['id']}/history"
    first = (await registry.client.get(url, params={"limit": 2}, headers=CUSTOMS)).json()
    assert [e["action"] for e in first["entries"]] == ["issued", "endorsed"]
    rest = (
        await registry.client.get(
            url, params={"limit": 2, "cursor": first["next"]}, headers=CUSTOMS
        )
    ).json()
    assert [e["action"] for e in rest["entries"]] == ["endorsed", "endorsed"]
    assert rest["next"] is None
    bad = await registry.client.get(url, params={"cursor": "not-ours"}, headers=CUSTOMS)
    assert bad.status_code == 400 and bad.json()["code"] == "bad_request"
    assert [Decimal(e["details"]["items"][0]["balance"]) for e in rest["entries"]] == [
        Decimal(98),
        Decimal(97),
    ]


async def test_one_number_issued_twice_at_once_is_registered_once(
    registry: Registry, export_permit: PermitFactory
) -> None:
    answers = await asyncio.gather(*(issue(registry, export_permit()) for _ in range(5)))
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409, 409]
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"permit_number_taken"}
    assert await registry.count("permit") == 1
    assert len(await registry.outbox_events("permits.permit.issued")) == 1


async def test_partners_read_the_signing_keys_but_not_the_permits(
    registry: Registry, export_permit: PermitFactory
) -> None:
    partner = identity_headers("permits:lookup", client_id="partner-vn", country="VN")
    permit = (await issue(registry, export_permit())).json()
    jwks = await registry.client.get("/v1/permits/jwks/KE", headers=partner)
    assert jwks.status_code == 200
    assert [k["kid"] for k in jwks.json()["keys"]] == [permit["signing_key_id"]]
    assert (
        await registry.client.get(f"/v1/permits/{permit['id']}", headers=partner)
    ).status_code == 403
    bad = await registry.client.get("/v1/permits/jwks/k1", headers=partner)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "country"
    assert (await registry.client.get("/v1/permits/jwks/KE", headers=NOBODY)).status_code == 403


async def test_one_idempotency_key_sent_five_times_at_once_issues_one_permit(
    registry: Registry, export_permit: PermitFactory
) -> None:
    key = {"Idempotency-Key": "burst"}
    answers = await asyncio.gather(*(issue(registry, export_permit(), **key) for _ in range(5)))
    created = [a.json()["id"] for a in answers if a.status_code == 201]
    # SQLite queues the writers, so the later ones replay; on PostgreSQL a request racing the
    # first may instead be refused (409), its change rolled back.
    assert created and len(set(created)) == 1
    assert all(a.status_code in (201, 409) for a in answers)
    assert await registry.count("permit") == 1
    assert await registry.count("idempotent_request") == 1
