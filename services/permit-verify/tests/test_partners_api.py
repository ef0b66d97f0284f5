"""The partner exchange inside one registry (KE, with TZ in its directory): the lookup and
confirmations partners call, and verification and endorsement of a TZ permit served by a
fake TZ gateway (httpx.MockTransport: tokens, lookup, JWKS, confirmations; down, slow, 5xx,
tampered). Two whole suites talking for real are `tests/test_partner_exchange.py`."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import httpx
import pytest
from sqlmodel import select

from pangolin_core import migrations
from pangolin_core.contracts.envelope import CloudEvent
from pangolin_core.messaging.consumer import PoisonEvent
from pangolin_core.testing import eventually, identity_headers, running_app
from permit_support import MA_KE, SW_KE, PermitFactory, Registry, today
from permit_verify.app import DEFINITION, create_app
from permit_verify.dependencies import PARTNERS
from permit_verify.partners import service
from permit_verify.partners.client import PartnerDirectory, PartnerUnavailable
from permit_verify.permits.models import Permit, PermitItem
from permit_verify.permits.schemas import PermitIn
from permit_verify.permits.signing import PermitSigner
from permit_verify.settings import PermitVerifySettings

TZ_GATEWAY = "http://tz.partner.test"
PARTNER_TZ = identity_headers("permits:lookup", client_id="tz-at-ke", country="TZ")
PARTNER_KE = identity_headers("permits:lookup", client_id="ke-self", country="KE")


def settings(database_url: str, nats_url: str) -> PermitVerifySettings:
    return PermitVerifySettings(
        database_url=database_url,
        nats_url=nats_url,
        partners={
            "TZ": {"gateway_url": TZ_GATEWAY, "client_id": "ke-at-tz", "client_secret": "s3cret"}
        },
        species_rpc_timeout=0.05,
        risk_rpc_timeout=0.05,
        species_check_at_issue=False,  # no species-ref here (tests/ runs it)
        partner_permit_cache_seconds=0,
    )


@dataclass
class FakePartner:
    """TZ's gateway as the directory sees it: what it serves and what it was sent."""

    permits: dict[str, dict[str, Any]] = field(default_factory=dict)
    jwks: dict[str, Any] = field(default_factory=dict)
    mode: str = "up"  # up | down | slow | error
    confirmations: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    confirm_answer: tuple[int, dict[str, Any]] = (201, {})
    tokens: int = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.mode == "down":
            raise httpx.ConnectError("connection refused", request=request)
        if self.mode == "slow":
            raise httpx.ReadTimeout("timed out", request=request)
        if self.mode == "error":
            return httpx.Response(503, json={"code": "unavailable"})
        path = request.url.path
        if path == "/oauth/token":
            assert request.headers["authorization"].startswith("Basic ")
            self.tokens += 1
            return httpx.Response(200, json={"access_token": "tok", "expires_in": 300})
        assert request.headers["authorization"] == "Bearer tok"
        if path == "/v1/permits/lookup":
            assert request.url.params["issuing_country"] == "TZ"
            found = self.permits.get(request.url.params["number"])
            return httpx.Response(200, json=found) if found else httpx.Response(404, json={})
        if path == "/v1/permits/jwks/TZ":
            return httpx.Response(200, json=self.jwks)
        if path.endswith("/confirmations"):
            self.confirmations.append((path.split("/")[3], json.loads(request.content)))
            status, body = self.confirm_answer
            return httpx.Response(status, json=body)
        return httpx.Response(404, json={})

    def issue(self, number: str = "TZ/2026/E/0001", **changes: Any) -> dict[str, Any]:
        """A TZ export permit to KE, signed with TZ's key, as TZ's lookup serves it."""
        issued = today() - timedelta(days=5)
        boxes: dict[str, Any] = {
            "number": number, "type": "export", "issuing_country": "TZ",
            "issuing_authority": None, "security_stamp": "TZ0001",
            "issued_on": issued.isoformat(),
            "valid_until": (issued + timedelta(days=90)).isoformat(),
            "exporter": {"name": "Kilimanjaro Reptiles Ltd", "address": "Arusha", "country": "TZ"},
            "importer": {"name": "Nairobi Pet Traders Ltd", "address": "Nairobi", "country": "KE"},
            "purpose": "T", "special_conditions": None,
            "items": [{"item_id": "A", "species": "Python regius", "description": "live animals",
                       "term": "LIV", "appendix": "II", "source": "C", "quantity": "100",
                       "unit": None, "origin_country": "TZ", "origin_permit": None,
                       "reexport_certificate": None}],
        }  # fmt: skip
        signer = PermitSigner(PermitVerifySettings())
        signature, key_id = signer.sign("TZ", PermitIn.model_validate(boxes).model_dump())
        self.jwks = signer.jwks("TZ")
        served = {
            **boxes,
            "id": str(uuid4()),
            "status": "valid",
            "items": [{**i, "taxon_id": None, "balance": i["quantity"]} for i in boxes["items"]],
            "signature": signature,
            "signing_key_id": key_id,
            "version": 1,
            "created_at": datetime.now(UTC).isoformat(),
        }
        served.update(changes)
        self.permits[number] = served
        return served


@pytest.fixture
async def partner() -> FakePartner:
    return FakePartner()


@pytest.fixture
async def ke(database_url: str, nats_url: str, partner: FakePartner) -> AsyncIterator[Registry]:
    await migrations.upgrade(DEFINITION.migrations, database_url)
    config = settings(database_url, nats_url)
    app = create_app(config)
    async with running_app(app) as client:
        runtime = app.state.runtime
        await runtime.extras[PARTNERS].aclose()
        transport = httpx.MockTransport(partner.handle)
        runtime.extras[PARTNERS] = PartnerDirectory(
            config, httpx.AsyncClient(transport=transport, timeout=1)
        )
        yield Registry(client, runtime.db)


def import_declaration(number: str, declaration_id: str = "SW-KE-2026-000001") -> dict[str, Any]:
    return {
        "declaration_id": declaration_id, "direction": "import",
        "declared_on": today().isoformat(), "office": "KEJKIA",
        "declarant": {"name": "Nairobi Pet Traders Ltd", "country": "KE"},
        "exporter": {"name": "Kilimanjaro Reptiles Ltd", "country": "TZ"},
        "importer": {"name": "Nairobi Pet Traders Ltd", "country": "KE"},
        "countries": {"export": "TZ", "import": "KE", "origin": "TZ", "transit": []},
        "transport": None,
        "lines": [{"line_no": 1,
                   "permit": {"number": number, "issuing_country": "TZ", "security_stamp": None},
                   "import_permit": None, "species": "Python regius",
                   "description": "live animals", "term": "LIV", "quantity": "60", "unit": None,
                   "source": "C", "purpose": "T", "hs_code": "010620", "value": None}],
    }  # fmt: skip


async def verify(ke: Registry, body: dict[str, Any]) -> dict[str, Any]:
    response = await ke.client.post("/v1/verifications", json=body, headers=SW_KE)
    assert response.status_code == 200, response.text
    line: dict[str, Any] = response.json()["lines"][0]
    return line


def line_codes(line: dict[str, Any]) -> set[str]:
    # species-ref is not running here: SPECIES_UNAVAILABLE is on every line.
    return {f["code"] for f in line["findings"]} - {"SPECIES_UNAVAILABLE"}


async def test_a_partner_permit_is_fetched_checked_stored_and_endorsed_here(
    ke: Registry, partner: FakePartner
) -> None:
    served = partner.issue()
    line = await verify(ke, import_declaration(served["number"]))
    assert line["permit_id"] == served["id"]
    assert line_codes(line) == set()
    assert partner.tokens == 1
    # The copy is kept under TZ's id; the single window endorses it here.
    endorsed = await ke.client.post(
        f"/v1/permits/{served['id']}/endorsements",
        json={"declaration_id": "SW-KE-2026-000001", "office": "KEJKIA",
              "endorsed_on": today().isoformat(), "items": [{"item_id": "A", "quantity": "60"}]},
        headers=SW_KE,
    )  # fmt: skip
    assert endorsed.status_code == 201, endorsed.text
    assert endorsed.json()["balances"] == [{"item_id": "A", "balance": "40"}]
    # Until TZ confirms, its answer still says 100 left: the copy's 40 and `used` count.
    again = await verify(ke, import_declaration(served["number"], "SW-KE-2026-000002"))
    assert {"PERMIT_ALREADY_USED", "PERMIT_IN_USE_ELSEWHERE"} <= line_codes(again)
    # The app's consumer of `permits.permit.endorsed` confirms the quantities back to TZ.
    expected = {
        "declaration_id": "SW-KE-2026-000001",
        "office": "KEJKIA",
        "endorsed_on": today().isoformat(),
        "items": [{"item_id": "A", "quantity": "60"}],
    }

    async def confirmed() -> list[tuple[str, dict[str, Any]]]:
        return partner.confirmations

    assert await eventually(confirmed) == [(served["id"], expected)]
    [event] = await ke.outbox_events("permits.permit.endorsed")
    directory = PartnerDirectory(
        settings("sqlite://", "nats://unused"),
        httpx.AsyncClient(transport=httpx.MockTransport(partner.handle)),
    )
    # Confirmed before: done. Refused for good: a poison event (terminated and logged).
    partner.confirm_answer = (409, {"code": "declaration_already_endorsed"})
    await service.confirm_back(None, CloudEvent.model_validate(event), directory=directory)  # type: ignore[arg-type]
    partner.confirm_answer = (409, {"code": "balance_exceeded"})
    with pytest.raises(PoisonEvent, match="balance_exceeded"):
        await service.confirm_back(None, CloudEvent.model_validate(event), directory=directory)  # type: ignore[arg-type]
    partner.mode = "down"
    with pytest.raises(PartnerUnavailable):  # the consumer naks: retried with backoff
        await service.confirm_back(None, CloudEvent.model_validate(event), directory=directory)  # type: ignore[arg-type]
    await directory.aclose()


async def copy_state(ke: Registry, permit_id: str) -> tuple[str, list[tuple[str, Decimal]]]:
    """The status and the item balances of the copy kept here."""
    async with ke.db.session(write=False) as session:
        status = (await session.exec(select(Permit.status).where(Permit.id == permit_id))).one()
        items = await session.exec(
            select(PermitItem.item_id, PermitItem.balance).where(PermitItem.permit_id == permit_id)
        )
        return status, list(items.all())


async def test_a_copy_follows_its_registry_lower_balances_and_a_final_status(
    ke: Registry, partner: FakePartner
) -> None:
    served = partner.issue()
    await verify(ke, import_declaration(served["number"]))
    assert await copy_state(ke, served["id"]) == ("valid", [("A", Decimal(100))])
    # TZ endorsed 70 elsewhere: the next fetch lowers the copy (an open status is not taken).
    served["status"], served["items"][0]["balance"] = "partially_used", "30"
    await verify(ke, import_declaration(served["number"], "SW-KE-2026-000002"))
    assert await copy_state(ke, served["id"]) == ("valid", [("A", Decimal(30))])
    # A higher balance there never raises the copy's; a final status is taken over.
    served["status"], served["items"][0]["balance"] = "cancelled", "50"
    line = await verify(ke, import_declaration(served["number"], "SW-KE-2026-000003"))
    assert line["verdict"] == "invalid"
    assert await copy_state(ke, served["id"]) == ("cancelled", [("A", Decimal(30))])


async def test_a_copy_altered_before_it_reached_here_fails_naming_the_box(
    ke: Registry, partner: FakePartner
) -> None:
    served = partner.issue()
    served["exporter"] = {**served["exporter"], "name": "Forged Exports Ltd"}
    line = await verify(ke, import_declaration(served["number"]))
    [finding] = [f for f in line["findings"] if f["code"] == "SIGNATURE_INVALID"]
    assert "exporter.name" in finding["message"]
    assert (finding["expected"], finding["actual"]) == (
        "Kilimanjaro Reptiles Ltd",
        "Forged Exports Ltd",
    )
    assert line["verdict"] == "invalid"


@pytest.mark.parametrize("mode", ["down", "slow", "error"])
async def test_a_partner_that_does_not_answer_is_partner_unavailable_not_a_500(
    ke: Registry, partner: FakePartner, mode: str
) -> None:
    partner.issue()
    partner.mode = mode
    line = await verify(ke, import_declaration("TZ/2026/E/0001"))
    assert line["verdict"] == "unverifiable"
    assert line_codes(line) == {"PARTNER_UNAVAILABLE"}


async def test_unknown_at_the_partner_is_not_found_and_outside_the_directory_unavailable(
    ke: Registry, partner: FakePartner
) -> None:
    line = await verify(ke, import_declaration("TZ/2026/E/9999"))
    assert line_codes(line) == {"PERMIT_NOT_FOUND"}
    assert line["verdict"] == "invalid"
    body = import_declaration("UG/2026/E/0001", "SW-KE-2026-000009")
    body["lines"][0]["permit"]["issuing_country"] = "UG"
    line = await verify(ke, body)
    [finding] = [f for f in line["findings"] if f["code"] == "PARTNER_UNAVAILABLE"]
    assert "UG is not in the partner directory" in finding["message"]


async def test_partners_look_up_and_confirm_permits_issued_here_audited(
    ke: Registry, export_permit: PermitFactory, partner: FakePartner
) -> None:
    issued = await ke.client.post("/v1/permits", json=export_permit(), headers=MA_KE)
    permit = issued.json()
    found = await ke.client.get(
        "/v1/permits/lookup",
        params={"number": permit["number"], "issuing_country": "KE"},
        headers=PARTNER_TZ,
    )
    assert found.status_code == 200
    assert found.json() | {"warnings": []} == permit  # the 201 answer also carries warnings
    unknown = await ke.client.get(
        "/v1/permits/lookup", params={"number": "KE/0", "issuing_country": "KE"}, headers=PARTNER_TZ
    )
    assert unknown.status_code == 404
    bad = await ke.client.get(
        "/v1/permits/lookup",
        params={"number": "KE/0", "issuing_country": "kenya"},
        headers=PARTNER_TZ,
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "issuing_country"
    # A copy of a partner's permit kept here is not served: ask its issuing country.
    served = partner.issue()
    await verify(ke, import_declaration(served["number"]))
    copy = await ke.client.get(
        "/v1/permits/lookup",
        params={"number": served["number"], "issuing_country": "TZ"},
        headers=PARTNER_TZ,
    )
    assert copy.status_code == 404

    confirmation = {
        "declaration_id": "SW-TZ-2026-7",
        "office": "TZDAR",
        "endorsed_on": today().isoformat(),
        "items": [{"item_id": "A", "quantity": "30"}],
    }
    path = f"/v1/permits/{permit['id']}/confirmations"
    confirmed = await ke.client.post(path, json=confirmation, headers=PARTNER_TZ)
    assert confirmed.status_code == 201, confirmed.text
    assert confirmed.json()["balances"] == [{"item_id": "A", "balance": "70"}]
    assert confirmed.json()["status"] == "used"
    # Idempotent by the partner's declaration id: the same confirmation again is the first
    # one (200, nothing taken twice); other content under that id is a 409.
    repeated = await ke.client.post(path, json=confirmation, headers=PARTNER_TZ)
    assert repeated.status_code == 200
    assert repeated.json() == confirmed.json()
    changed = {**confirmation, "items": [{"item_id": "A", "quantity": "31"}]}
    refused = await ke.client.post(path, json=changed, headers=PARTNER_TZ)
    assert (refused.status_code, refused.json()["code"]) == (409, "declaration_already_endorsed")
    own = await ke.client.post(
        path, json={**confirmation, "declaration_id": "X"}, headers=PARTNER_KE
    )
    assert (own.status_code, own.json()["code"]) == (403, "not_issuing_country")
    of_copy = await ke.client.post(
        f"/v1/permits/{served['id']}/confirmations", json=confirmation, headers=PARTNER_TZ
    )
    assert of_copy.status_code == 403
    unscoped = await ke.client.post(path, json=confirmation, headers=SW_KE)
    assert unscoped.status_code == 403

    history = await ke.client.get(f"/v1/permits/{permit['id']}/history", headers=MA_KE)
    entries = [(e["action"], e["client_id"], e["country"]) for e in history.json()["entries"]]
    assert entries == [
        ("issued", "ma-ke", "KE"),
        ("looked_up", "tz-at-ke", "TZ"),
        ("confirmed", "tz-at-ke", "TZ"),
    ]
    [event] = [
        e for e in await ke.outbox_events("permits.permit.endorsed") if e["subject"] == permit["id"]
    ]
    assert event["data"]["endorsing_country"] == "TZ"


async def test_a_partner_serving_the_id_of_a_permit_held_here_is_refused(
    ke: Registry, export_permit: PermitFactory, partner: FakePartner
) -> None:
    own = (await ke.client.post("/v1/permits", json=export_permit(), headers=MA_KE)).json()
    served = partner.issue(id=own["id"])
    line = await verify(ke, import_declaration(served["number"]))
    assert line_codes(line) == {"PARTNER_UNAVAILABLE"}
    assert line["permit_id"] is None
    kept = await ke.client.get(f"/v1/permits/{own['id']}", headers=MA_KE)
    assert kept.json() | {"warnings": []} == own  # the 201 answer also carries warnings
