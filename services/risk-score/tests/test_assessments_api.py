"""End to end on a real nats-server and a real database (SQLite and PostgreSQL): a profile
saved through the API fires on a matching declaration and not on others, with its reason; an
`intel.watchlist.changed` event and a `species.listing.changed` event change the next
assessment; `risk.rpc.assess` answers over NATS; the assessment is stored with its event."""

from __future__ import annotations

import json
import time
from datetime import date
from typing import Any

import nats
import sqlalchemy as sa

from pangolin_core.contracts.intel import Originator, WatchlistChanged, WatchlistEntry
from pangolin_core.contracts.risk import ASSESS_SUBJECT, RiskAssessment
from pangolin_core.contracts.species import ListingChanged
from pangolin_core.messaging.tables import outbox
from pangolin_core.testing import eventually
from risk_support import ANALYST, ASSESSOR, NOBODY, READER, RiskService, declaration

NUTS = declaration(
    declaration_id="SW-NG-1",
    exporter={"name": "Lagos Agro Exports", "country": "NG"},
    countries={"export": "NG", "import": "VN", "origin": "NG", "transit": ["AE"]},
    line={
        "species": "Manis tricuspis",
        "description": "Cashew nuts, dried",
        "term": "SCA",
        "unit": "kg",
        "quantity": "500",
        "hs_code": "0801.32",
    },
)


def watchlist(version: int, entries: list[WatchlistEntry]) -> WatchlistChanged:
    return WatchlistChanged(
        record_id="rec-1",
        record_version=version,
        record_type="entity",
        title="Broker of pangolin scales",
        originator=Originator(agency="KWS", country="KE"),
        tlp="green",
        confidence=80,
        entries=entries,
    )


async def test_a_saved_profile_fires_on_a_matching_declaration_only(risk: RiskService) -> None:
    created = await risk.create_profile()
    fired = await risk.assess(NUTS)
    assert fired["lane"] == "red" and fired["score"] == 70
    assert fired["profile_versions"] == {created["id"]: 1}
    assert fired["controls"] == [
        "document_review",
        "physical_inspection",
        "sampling_for_lab_identification",
    ]
    (reason,) = fired["reasons"]
    assert reason["source"] == "profile" and reason["id"] == created["id"]
    assert reason["title"] == created["name"] and reason["points"] == 70

    not_nuts = json.loads(json.dumps(NUTS))
    not_nuts["lines"][0]["description"] = "dried scales"
    quiet = await risk.assess(not_nuts)
    assert quiet["lane"] == "green" and quiet["reasons"] == [] and quiet["profile_versions"] == {}
    assert (await risk.assess(declaration()))["reasons"] == []

    # A new version scores from now on; the old assessment keeps the version it used.
    url = f"/v1/risk/profiles/{created['id']}"
    await risk.client.patch(url, json={"points": 40}, headers=ANALYST)
    again = await risk.assess(NUTS)
    assert again["score"] == 40 and again["profile_versions"] == {created["id"]: 2}
    stored = (
        await risk.client.get(f"/v1/risk/assessments/{fired['assessment_id']}", headers=READER)
    ).json()
    assert stored["profile_versions"] == {created["id"]: 1} and stored["score"] == 70
    assert stored["facts"]["transit"] == ["AE"] and stored["facts"]["hs_codes"] == ["080132"]

    # Retired: it no longer fires.
    await risk.client.post(f"{url}/status", json={"status": "retired"}, headers=ANALYST)
    assert (await risk.assess(NUTS))["reasons"] == []


async def test_an_assessment_is_stored_with_its_event(risk: RiskService) -> None:
    answer = await risk.assess(
        NUTS,
        findings=[
            {
                "code": "PERMIT_EXPIRED",
                "severity": "error",
                "message": "expired",
                "field": "lines[0].permit",
            }
        ],
    )
    assert answer["score"] == 30 and answer["lane"] == "blue"
    assert answer["reasons"][0]["source"] == "finding"
    async with risk.db.session(write=False) as session:
        rows = (await session.exec(sa.select(outbox.c.subject, outbox.c.payload))).all()
    events = [json.loads(p) for s, p in rows if s == "risk.assessment.completed"]
    assert [e["data"]["assessment_id"] for e in events] == [answer["assessment_id"]]
    assert events[0]["data"]["lane"] == "blue"

    # Assessments do not wake the relay: its short poll publishes the event.
    async def published() -> int | None:
        async with risk.db.session(write=False) as session:
            count = await session.scalar(
                sa.select(sa.func.count())
                .select_from(outbox)
                .where(outbox.c.published_at.is_not(None))
            )
        return count or None

    assert await eventually(published, timeout=3) == 1
    # A declaration sent again is assessed again, as a new assessment.
    second = await risk.assess(NUTS)
    assert second["assessment_id"] != answer["assessment_id"]
    assert await risk.count("assessment") == 2


async def test_a_declaration_that_knows_little_is_scored_and_bad_input_is_422(
    risk: RiskService,
) -> None:
    sparse = {
        "declaration_id": "SPARSE-1",
        "direction": "import",
        "declared_on": date.today().isoformat(),
        "office": "KEMBA",
        "countries": {},
        "lines": [
            {
                "line_no": 1,
                "species": "Psittacus erithacus",
                "term": "LIV",
                "quantity": "2",
                "source": "W",
                "purpose": "P",
            }
        ],
    }
    answer = await risk.assess(sparse)
    assert answer["lane"] == "green"
    bad = await risk.client.post(
        "/v1/risk/assessments", json={"declaration": {**sparse, "lines": []}}, headers=ASSESSOR
    )
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    assert await risk.count("assessment") == 1
    forbidden = await risk.client.post(
        "/v1/risk/assessments", json={"declaration": sparse}, headers=READER
    )
    assert forbidden.status_code == 403
    missing = await risk.client.get("/v1/risk/assessments/nope", headers=READER)
    assert missing.status_code == 404
    assert (
        await risk.client.get(f"/v1/risk/assessments/{answer['assessment_id']}", headers=NOBODY)
    ).status_code == 403


async def test_a_watchlist_event_changes_the_next_assessment(risk: RiskService) -> None:
    before = await risk.assess(NUTS)
    assert before["reasons"] == []
    trader = WatchlistEntry(
        entry_id="rec-1:trader:1",
        kind="trader",
        names=["LAGOS AGRO EXPORT COMPANY LIMITED"],
        country="NG",
    )
    published = time.monotonic()
    await risk.publish(watchlist(1, [trader]))

    async def hit() -> dict[str, Any] | None:
        answer = await risk.assess(NUTS)
        return answer if answer["reasons"] else None

    answer = await eventually(hit, timeout=5)
    assert time.monotonic() - published < 1.0
    # The answer (bound for the single window) says an intelligence hit, never which record.
    (told,) = answer["reasons"]
    assert told == {
        "source": "intel",
        "id": None,
        "title": "Intelligence hit (trader)",
        "points": 40.0,  # 50 points at 80 % confidence
        "detail": None,
    }
    # Customs reads the full reason with the stored assessment.
    stored = await risk.client.get(
        f"/v1/risk/assessments/{answer['assessment_id']}", headers=READER
    )
    (reason,) = stored.json()["reasons"]
    assert reason["source"] == "intel" and reason["id"] == "rec-1:trader:1"
    assert reason["title"] == "Watchlist trader: Broker of pangolin scales"
    assert "Lagos Agro Exports" in reason["detail"]
    assert stored.json()["facts"]["watchlist"] == ["trader"]
    async with risk.db.session(write=False) as session:
        audited = (
            await session.exec(sa.text("SELECT action, object_id, client_id FROM risk_audit"))
        ).all()
    assert [tuple(r) for r in audited] == [("assessment_read", answer["assessment_id"], "auditor")]

    # An older version is ignored; a newer one with no entries removes the record's entries.
    await risk.publish(watchlist(0, []))
    await risk.publish(watchlist(2, []))

    async def cleared() -> dict[str, Any] | None:
        answer = await risk.assess(NUTS)
        return answer if not answer["reasons"] else None

    await eventually(cleared, timeout=5)
    async with risk.db.session(write=False) as session:
        version = await session.scalar(sa.text("SELECT record_version FROM watchlist_record"))
    assert version == 2


async def test_a_listing_change_changes_the_next_assessment(risk: RiskService) -> None:
    await risk.create_profile(criteria={"field": "appendices", "in": ["I"]}, points=35)
    assert (await risk.assess(NUTS))["reasons"] == []
    await risk.publish(
        ListingChanged(
            taxon_id=1,
            full_name="Manis tricuspis",
            appendices=["I"],
            previous_appendices=["II"],
            added=[],
            removed=[],
            source="test",
        )
    )

    async def fired() -> dict[str, Any] | None:
        answer = await risk.assess(NUTS)
        return answer if answer["reasons"] else None

    answer = await eventually(fired, timeout=5)
    assert answer["lane"] == "yellow"


async def test_the_rpc_answers_over_nats(risk: RiskService) -> None:
    await risk.create_profile()
    nc = await nats.connect(risk.nats_url)
    try:
        request = {"declaration": NUTS, "findings": []}
        reply = await nc.request(ASSESS_SUBJECT, json.dumps(request).encode(), timeout=5)
        answer = RiskAssessment.model_validate_json(reply.data)
        assert answer.lane == "red" and answer.reasons[0].source == "profile"
        bad = await nc.request(ASSESS_SUBJECT, b'{"declaration": {}}', timeout=5)
        assert bad.headers and bad.headers["Nats-Service-Error-Code"] == "422"
    finally:
        await nc.close()
    stored = await risk.client.get(f"/v1/risk/assessments/{answer.assessment_id}", headers=READER)
    assert stored.status_code == 200 and stored.json()["lane"] == "red"


async def test_random_selection_is_red_and_marked(risk: RiskService) -> None:
    state = risk.state()
    state.settings.random_rate_by_office["KEMBA"] = 1.0
    answer = await risk.assess(declaration())
    assert answer["random"] is True and answer["lane"] == "red"
    assert answer["reasons"][0]["source"] == "random"
    assert answer["controls"] == ["document_review", "physical_inspection"]
