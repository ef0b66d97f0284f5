"""`POST /v1/permits/{id}/endorsements` over a real database (SQLite and PostgreSQL): balances,
single- and multi-use documents, refusals with the balances, idempotent replays, events,
audit rows, and the must-show: concurrent endorsements never take more than the balance."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from permit_support import MA_KE, SW_KE, PermitFactory, Registry, today
from permit_verify.endorsements.models import Endorsement, EndorsementLine
from permit_verify.permits.models import PermitItem

pytestmark = pytest.mark.asyncio


async def issue(registry: Registry, body: dict[str, Any]) -> dict[str, Any]:
    answer = await registry.client.post("/v1/permits", json=body, headers=MA_KE)
    assert answer.status_code == 201, answer.text
    permit: dict[str, Any] = answer.json()
    return permit


def endorsement(declaration: str, *items: tuple[str, str], on: str | None = None) -> dict[str, Any]:
    return {
        "declaration_id": declaration,
        "office": "KEMBA",
        "endorsed_on": on or today().isoformat(),
        "items": [{"item_id": item_id, "quantity": quantity} for item_id, quantity in items],
    }


async def endorse(registry: Registry, permit_id: str, body: dict[str, Any], **headers: str) -> Any:
    return await registry.client.post(
        f"/v1/permits/{permit_id}/endorsements", json=body, headers={**SW_KE, **headers}
    )


def exhibition(export_permit: PermitFactory, *quantities: str) -> dict[str, Any]:
    """A travelling-exhibition certificate (multi-use) with items A, B, ... of `quantities`."""
    body = export_permit(type="travelling_exhibition", purpose="Q")
    template = body["items"][0]
    body["items"] = [
        {**template, "item_id": chr(ord("A") + n), "quantity": q} for n, q in enumerate(quantities)
    ]
    return body


async def test_a_single_use_permit_is_used_by_its_first_endorsement(
    registry: Registry, export_permit: PermitFactory
) -> None:
    permit = await issue(registry, export_permit())
    answer = await endorse(registry, permit["id"], endorsement("SW-KE-2026-000001", ("A", "60")))
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["status"] == "used" and body["declaration_id"] == "SW-KE-2026-000001"
    assert body["items"] == [{"item_id": "A", "quantity": "60", "balance": "40"}]
    assert body["balances"] == [{"item_id": "A", "balance": "40"}]

    again = await endorse(registry, permit["id"], endorsement("SW-KE-2026-000002", ("A", "10")))
    assert again.status_code == 409
    problem = again.json()
    assert problem["code"] == "permit_closed" and problem["status"] == "used"
    assert problem["balances"] == [{"item_id": "A", "balance": "40"}]
    stored = (await registry.client.get(f"/v1/permits/{permit['id']}", headers=SW_KE)).json()
    assert stored["status"] == "used" and stored["items"][0]["balance"] == "40"


async def test_a_multi_use_certificate_is_partially_used_until_nothing_is_left(
    registry: Registry, export_permit: PermitFactory
) -> None:
    permit = await issue(registry, exhibition(export_permit, "3", "0.75"))
    first = await endorse(registry, permit["id"], endorsement("D1", ("A", "1"), ("B", "0.25")))
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "partially_used"
    assert first.json()["balances"] == [
        {"item_id": "A", "balance": "2"},
        {"item_id": "B", "balance": "0.5"},
    ]
    last = await endorse(registry, permit["id"], endorsement("D2", ("A", "2"), ("B", "0.5")))
    assert last.status_code == 201, last.text
    assert last.json()["status"] == "used"
    assert last.json()["balances"] == [
        {"item_id": "A", "balance": "0"},
        {"item_id": "B", "balance": "0"},
    ]


async def test_over_the_balance_is_a_409_with_the_balances_and_nothing_is_taken(
    registry: Registry, export_permit: PermitFactory
) -> None:
    permit = await issue(registry, exhibition(export_permit, "10", "5"))
    answer = await endorse(registry, permit["id"], endorsement("D1", ("A", "4"), ("B", "5.5")))
    assert answer.status_code == 409
    problem = answer.json()
    assert answer.headers["content-type"] == "application/problem+json"
    assert problem["code"] == "balance_exceeded"
    assert problem["balances"] == [
        {"item_id": "A", "balance": "10", "requested": "4"},
        {"item_id": "B", "balance": "5", "requested": "5.5"},
    ]
    assert [e["field"] for e in problem["errors"]] == ["items[1].quantity"]
    stored = (await registry.client.get(f"/v1/permits/{permit['id']}", headers=SW_KE)).json()
    assert [i["balance"] for i in stored["items"]] == ["10", "5"]
    assert stored["status"] == "valid" and stored["version"] == 1
    assert await registry.count("endorsement") == 0
    assert await registry.outbox_events("permits.permit.endorsed") == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (endorsement("D1", ("Z", "1")), "items[0].item_id"),
        (endorsement("D1", ("A", "1"), ("A", "2")), "items[1].item_id"),
        (endorsement("D1", ("A", "0")), "items[0].quantity"),
        (endorsement("D1", ("A", "-1")), "items[0].quantity"),
        (endorsement("D1", ("A", "many")), "items[0].quantity"),
        (endorsement("D1", ("A", "999999999999999999")), "items[0].quantity"),
        (endorsement("D1", ("A", "0.0000001")), "items[0].quantity"),
        (endorsement("D1", ("A", "1"), on="2099-01-01"), "endorsed_on"),
        ({**endorsement("D1", ("A", "1")), "items": []}, "items"),
        ({**endorsement("D1", ("A", "1")), "declaration_id": ""}, "declaration_id"),
    ],
)
async def test_bad_endorsements_are_422s_naming_the_field(
    registry: Registry, export_permit: PermitFactory, body: dict[str, Any], field: str
) -> None:
    permit = await issue(registry, export_permit())
    answer = await endorse(registry, permit["id"], body)
    assert answer.status_code == 422, answer.text
    assert field in [e["field"] for e in answer.json()["errors"]]
    stored = (await registry.client.get(f"/v1/permits/{permit['id']}", headers=SW_KE)).json()
    assert stored["items"][0]["balance"] == "100" and stored["status"] == "valid"


async def test_closed_permits_are_409s(registry: Registry, export_permit: PermitFactory) -> None:
    expired = await issue(
        registry, export_permit(number="OLD/1", issued_on="2019-03-01", valid_until="2019-08-31")
    )
    answer = await endorse(registry, expired["id"], endorsement("D1", ("A", "1")))
    assert answer.status_code == 409 and answer.json()["code"] == "permit_closed"
    assert "expired on 2019-08-31" in answer.json()["detail"]
    # On a date inside its validity the same back-filled permit could be endorsed.
    back_then = await endorse(
        registry, expired["id"], endorsement("D0", ("A", "1"), on="2019-05-01")
    )
    assert back_then.status_code == 201, back_then.text

    cancelled = await issue(registry, export_permit(number="C/1"))
    status = await registry.client.post(
        f"/v1/permits/{cancelled['id']}/status",
        json={"status": "cancelled", "reason": "replaced by C/2"},
        headers=MA_KE,
    )
    assert status.status_code == 200
    answer = await endorse(registry, cancelled["id"], endorsement("D1", ("A", "1")))
    assert answer.status_code == 409
    assert answer.json()["status"] == "cancelled"
    assert answer.json()["balances"] == [{"item_id": "A", "balance": "100"}]

    missing = await endorse(registry, "no-such-permit", endorsement("D1", ("A", "1")))
    assert missing.status_code == 404
    not_allowed = await endorse(registry, cancelled["id"], endorsement("D1", ("A", "1")), **MA_KE)
    assert not_allowed.status_code == 403


async def test_a_declaration_endorses_a_permit_once_and_a_replay_returns_the_first_result(
    registry: Registry, export_permit: PermitFactory
) -> None:
    permit = await issue(registry, exhibition(export_permit, "10"))
    key = {"Idempotency-Key": "endorse-D1"}
    first = await endorse(registry, permit["id"], endorsement("D1", ("A", "4")), **key)
    replay = await endorse(registry, permit["id"], endorsement("D1", ("A", "4")), **key)
    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json()
    assert replay.headers.get("idempotent-replayed") == "true"
    other = await endorse(registry, permit["id"], endorsement("D2", ("A", "4")), **key)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    # Without a key, the same declaration cannot take the quantities a second time.
    retry = await endorse(registry, permit["id"], endorsement("D1", ("A", "4")))
    assert retry.status_code == 409 and retry.json()["code"] == "declaration_already_endorsed"
    stored = (await registry.client.get(f"/v1/permits/{permit['id']}", headers=SW_KE)).json()
    assert stored["items"][0]["balance"] == "6"
    assert len(await registry.outbox_events("permits.permit.endorsed")) == 1


async def test_an_endorsement_is_announced_and_audited(
    registry: Registry, export_permit: PermitFactory
) -> None:
    permit = await issue(registry, export_permit())
    answer = await endorse(registry, permit["id"], endorsement("SW-1", ("A", "60")))
    assert answer.status_code == 201
    [event] = await registry.outbox_events("permits.permit.endorsed")
    assert event["subject"] == permit["id"] and event["dataversion"] == "1"
    assert event["data"] == {
        "permit_id": permit["id"],
        "number": "KE/2026/E/000123",
        "issuing_country": "KE",
        "endorsement_id": answer.json()["id"],
        "declaration_id": "SW-1",
        "office": "KEMBA",
        "endorsed_on": today().isoformat(),
        "items": [{"item_id": "A", "quantity": "60", "balance": "40"}],
        "status": "used",
        "endorsed_by": "sw-ke",
        "endorsing_country": "KE",
    }
    history = (
        await registry.client.get(f"/v1/permits/{permit['id']}/history", headers=SW_KE)
    ).json()
    endorsed = history["entries"][-1]
    assert (endorsed["action"], endorsed["client_id"], endorsed["country"]) == (
        "endorsed",
        "sw-ke",
        "KE",
    )
    assert endorsed["details"]["declaration_id"] == "SW-1"
    assert endorsed["details"]["items"] == [{"item_id": "A", "quantity": "60", "balance": "40"}]


async def stored_totals(registry: Registry, permit_id: str) -> tuple[Decimal, Decimal, int]:
    """(balance of item A, sum of the endorsed lines, number of endorsements) as stored."""
    async with registry.db.session(write=False) as session:
        balance = (
            await session.exec(
                sa.select(PermitItem.balance).where(PermitItem.permit_id == permit_id)
            )
        ).scalar_one()
        lines = (
            (
                await session.exec(
                    sa.select(EndorsementLine.quantity)
                    .join(Endorsement, Endorsement.id == EndorsementLine.endorsement_id)
                    .where(Endorsement.permit_id == permit_id)
                )
            )
            .scalars()
            .all()
        )
        count = (
            await session.exec(sa.select(sa.func.count()).where(Endorsement.permit_id == permit_id))
        ).scalar_one()
    return balance, sum(lines, Decimal(0)), count


async def test_fifty_concurrent_endorsements_never_take_more_than_the_balance(
    registry: Registry, export_permit: PermitFactory
) -> None:
    """The must-show: 50 endorsements at once whose quantities add up to 225.5 against a
    balance of 100. The successful answers account for every unit taken, the balance never
    goes below zero, and the refusals are 409s with the balance."""
    permit = await issue(registry, exhibition(export_permit, "100"))
    quantities = [Decimal(q) for q in ("1", "2.5", "3", "4", "7")] * 10
    assert sum(quantities) > 100
    answers = await asyncio.gather(
        *(
            endorse(registry, permit["id"], endorsement(f"D{n}", ("A", str(q))))
            for n, q in enumerate(quantities)
        )
    )
    codes = sorted({a.status_code for a in answers})
    assert set(codes) <= {201, 409}, [a.text for a in answers if a.status_code not in (201, 409)]
    won = [q for q, a in zip(quantities, answers, strict=True) if a.status_code == 201]
    refused = [a.json() for a in answers if a.status_code == 409]
    assert won and refused
    balance, endorsed_lines, count = await stored_totals(registry, permit["id"])
    assert sum(won) == endorsed_lines == Decimal(100) - balance
    assert balance >= 0 and sum(won) <= 100
    assert count == len(won)
    assert all(p["code"] in ("balance_exceeded", "permit_closed") for p in refused)
    # The balances the answers reported go down one endorsement at a time to what is stored.
    reported = sorted(
        (Decimal(a.json()["balances"][0]["balance"]) for a in answers if a.status_code == 201),
        reverse=True,
    )
    assert reported[-1] == balance
    assert len(set(reported)) == len(reported)
    assert len(await registry.outbox_events("permits.permit.endorsed")) == len(won)


async def test_fifty_concurrent_endorsements_of_a_single_use_permit_one_wins(
    registry: Registry, export_permit: PermitFactory
) -> None:
    permit = await issue(registry, export_permit())
    answers = await asyncio.gather(
        *(endorse(registry, permit["id"], endorsement(f"D{n}", ("A", "10"))) for n in range(50))
    )
    assert sorted(a.status_code for a in answers) == [201] + [409] * 49
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"permit_closed"}
    balance, endorsed_lines, count = await stored_totals(registry, permit["id"])
    assert (balance, endorsed_lines, count) == (Decimal(90), Decimal(10), 1)


async def test_the_conditional_update_alone_holds_the_balance_under_concurrent_writers(
    registry: Registry, export_permit: PermitFactory
) -> None:
    """Below the permit's row lock: 50 transactions, each taking from the same item through
    `take_from_balance` in its own session at once. Only the conditional UPDATE decides."""
    from permit_verify.permits import repository

    permit = await issue(registry, exhibition(export_permit, "100"))
    async with registry.db.session(write=False) as session:
        [item] = await repository.items_of(session, permit["id"])
    assert item.id is not None
    quantities = [Decimal(q) for q in ("1", "2.5", "3", "4", "7")] * 10

    async def take(quantity: Decimal) -> bool:
        async with registry.db.session() as session:
            taken = await repository.take_from_balance(session, item_pk=item.id, quantity=quantity)
            await asyncio.sleep(0)  # let the others run while this transaction is open
            return taken

    results = await asyncio.gather(*(take(q) for q in quantities))
    won = sum((q for q, ok in zip(quantities, results, strict=True) if ok), Decimal(0))
    balance, _, _ = await stored_totals(registry, permit["id"])
    assert balance >= 0 and won == Decimal(100) - balance
    assert not all(results)


async def test_one_declaration_sent_twice_at_once_is_endorsed_once(
    registry: Registry, export_permit: PermitFactory
) -> None:
    permit = await issue(registry, exhibition(export_permit, "10"))
    answers = await asyncio.gather(
        *(endorse(registry, permit["id"], endorsement("SAME", ("A", "1"))) for _ in range(5))
    )
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409, 409]
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {
        "declaration_already_endorsed"
    }
    assert await stored_totals(registry, permit["id"]) == (Decimal(9), Decimal(1), 1)
