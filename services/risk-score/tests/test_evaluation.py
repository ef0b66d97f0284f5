"""Evaluation figures on a small fixed set (exact), and through the API: outcomes recorded
once (a second is 409) with their event, the evaluation they change, a profile's backtest."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from pangolin_core.messaging.tables import outbox
from risk_score.evaluation.service import Case, ProfileInfo, evaluate, wilson
from risk_support import ANALYST, READER, RiskService, declaration


def case(
    n: int,
    *,
    fired: str = "",
    random: bool = False,
    lane: str = "green",
    inspected: bool = False,
    hit: bool = False,
) -> Case:
    return Case(
        assessment_id=f"a{n}",
        random=random,
        targeted=bool(fired),
        lane=lane,
        fired=frozenset(fired),
        inspected=inspected,
        hit=hit,
    )


FIXED = [
    case(1, fired="A", lane="red", inspected=True, hit=True),
    case(2, fired="A", lane="red", inspected=True, hit=True),
    case(3, fired="A", lane="red", inspected=True, hit=True),
    case(4, fired="AB", lane="red", inspected=True),
    case(5, fired="B", lane="yellow", inspected=True),
    case(6, random=True, lane="red", inspected=True, hit=True),
    case(7, random=True, lane="red", inspected=True),
    case(8),
    case(9),
    case(10),
]
KNOWN = {
    "A": ProfileInfo(name="A", status="active", review_date=None),
    "B": ProfileInfo(name="B", status="active", review_date=date(2027, 1, 1)),
    "C": ProfileInfo(name="C", status="active", review_date=date(2026, 1, 1)),
    "D": ProfileInfo(name="D", status="retired", review_date=None),
}


def test_figures_on_a_fixed_set() -> None:
    result = evaluate(FIXED, KNOWN, today=date(2026, 12, 6), expected_lane_shares={"red": 0.05})
    overall = result.overall
    assert (overall.assessments, overall.inspections, overall.hits) == (10, 7, 4)
    assert overall.inspection_rate == 0.7
    assert (overall.targeted, overall.targeted_inspections, overall.targeted_hits) == (5, 5, 3)
    assert overall.precision == 0.6
    # recall = 3 / (3 + 0.5 x 5 untargeted): q = 1 hit in 2 untargeted random inspections
    assert overall.recall == 0.545455
    assert overall.lane_shares == {"green": 0.3, "blue": 0.0, "yellow": 0.1, "red": 0.6}
    assert overall.expected_lane_shares == {"red": 0.05}
    sample = result.random_sample
    assert (sample.selections, sample.inspections, sample.hits) == (2, 2, 1)
    assert sample.non_compliance_rate == 0.5
    assert sample.confidence_95 is not None
    assert (sample.confidence_95.low, sample.confidence_95.high) == (0.094531, 0.905469)
    by_id = {p.profile_id: p for p in result.profiles}
    assert sorted(by_id) == ["A", "B", "C"]  # D is retired and never fired
    a, b, c = by_id["A"], by_id["B"], by_id["C"]
    assert (a.selections, a.inspections, a.hits, a.hit_rate) == (4, 4, 3, 0.75)
    assert (a.share_of_detections, a.lift, a.flags) == (0.75, 1.5, [])
    assert (b.selections, b.inspections, b.hits, b.hit_rate, b.lift) == (2, 2, 0, 0.0, 0.0)
    assert b.flags == ["worse_than_random"]
    assert (c.selections, c.hit_rate, c.lift) == (0, None, None)
    assert c.flags == ["never_fired", "past_review_date"]


def test_wilson_interval() -> None:
    assert wilson(0, 0) is None
    interval = wilson(3, 40)
    assert interval is not None and (interval.low, interval.high) == (0.025836, 0.198642)
    zero = wilson(0, 10)
    assert zero is not None and zero.low == 0.0 and 0.27 < zero.high < 0.28


def test_no_random_inspection_means_no_recall_and_no_lift() -> None:
    result = evaluate(FIXED[:5], KNOWN, today=date(2026, 12, 6), expected_lane_shares={})
    assert result.overall.recall is None and result.random_sample.non_compliance_rate is None
    assert all(p.lift is None for p in result.profiles)


async def test_outcomes_feed_the_evaluation(risk: RiskService) -> None:
    profile = await risk.create_profile(
        criteria={"field": "export_country", "in": ["NG"]}, points=60
    )
    ng = [
        await risk.assess(
            declaration(declaration_id=f"NG-{n}", countries={"export": "NG", "import": "VN"})
        )
        for n in range(3)
    ]
    ke = await risk.assess(declaration(declaration_id="KE-1"))
    assert [a["lane"] for a in ng] == ["red"] * 3 and ke["lane"] == "green"

    async def record(answer: dict, result: str, inspected: bool = True) -> int:
        response = await risk.client.post(
            f"/v1/risk/assessments/{answer['assessment_id']}/outcome",
            json={
                "inspected": inspected,
                "result": result,
                "controls_applied": ["physical_inspection"],
                "notes": "x",
            },
            headers=ANALYST,
        )
        return response.status_code

    assert await record(ng[0], "seizure") == 201
    assert await record(ng[1], "compliant") == 201
    assert await record(ke, "non_compliant") == 201
    assert await record(ng[0], "compliant") == 409
    assert (
        await risk.client.post(
            "/v1/risk/assessments/nope/outcome",
            json={"inspected": True, "result": "seizure"},
            headers=ANALYST,
        )
    ).status_code == 404
    bad = await risk.client.post(
        f"/v1/risk/assessments/{ng[2]['assessment_id']}/outcome",
        json={"inspected": True, "result": "fine"},
        headers=ANALYST,
    )
    assert bad.status_code == 422
    assert (
        await risk.client.post(
            f"/v1/risk/assessments/{ng[2]['assessment_id']}/outcome",
            json={"inspected": True, "result": "seizure"},
            headers=READER,
        )
    ).status_code == 403

    async with risk.db.session(write=False) as session:
        rows = (await session.exec(sa.select(outbox.c.subject, outbox.c.payload))).all()
        audited = (
            await session.exec(
                sa.text("SELECT object_id FROM risk_audit WHERE action = 'outcome_recorded'")
            )
        ).all()
    assert sorted(r[0] for r in audited) == sorted(a["assessment_id"] for a in (ng[0], ng[1], ke))
    events = [json.loads(p)["data"] for s, p in rows if s == "risk.outcome.recorded"]
    assert len(events) == 3
    (first,) = [e for e in events if e["assessment_id"] == ng[0]["assessment_id"]]
    assert first["result"] == "seizure" and first["exporter"]["name"] == "Savannah Reptiles Ltd"
    assert first["countries"]["export"] == "NG" and first["lines"][0]["species"] == "Python regius"
    assert first["lines"][0]["quantity"] == "60" and first["profile_versions"] == {profile["id"]: 1}

    today = datetime.now(UTC).date()
    response = await risk.client.get(f"/v1/risk/evaluation?from={today}&to={today}", headers=READER)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["overall"]["assessments"] == 4 and body["overall"]["inspections"] == 3
    assert body["overall"]["targeted_hits"] == 1 and body["overall"]["precision"] == 0.5
    (figures,) = body["profiles"]
    assert (figures["selections"], figures["inspections"], figures["hits"]) == (3, 2, 1)
    assert figures["hit_rate"] == 0.5 and figures["share_of_detections"] == 0.5
    yesterday = today - timedelta(days=1)
    empty = (await risk.client.get(f"/v1/risk/evaluation?to={yesterday}", headers=READER)).json()
    assert empty["overall"]["assessments"] == 0 and empty["profiles"][0]["flags"] == ["never_fired"]
    bad_window = await risk.client.get(
        f"/v1/risk/evaluation?from={today}&to={yesterday}", headers=READER
    )
    assert bad_window.status_code == 400

    # Backtest: a draft profile on KE would have selected only the KE declaration (a hit).
    draft = await risk.create_profile(
        criteria={"field": "export_country", "in": ["KE"]}, status="draft"
    )
    response = await risk.client.post(
        f"/v1/risk/profiles/{draft['id']}/backtest?from={today}&to={today}", headers=ANALYST
    )
    assert response.status_code == 200, response.text
    test = response.json()
    assert (test["assessments"], test["selected"], test["inspected"], test["hits"]) == (4, 1, 1, 1)
    assert test["selected_ids"] == [ke["assessment_id"]] and test["hit_rate"] == 1.0
    response = await risk.client.post(
        f"/v1/risk/profiles/{profile['id']}/backtest?version=1&limit=2", headers=ANALYST
    )
    test = response.json()
    assert (test["selected"], test["hits"], test["truncated"]) == (3, 1, True)
    assert len(test["selected_ids"]) == 2
    missing = await risk.client.post(
        f"/v1/risk/profiles/{profile['id']}/backtest?version=9", headers=ANALYST
    )
    assert missing.status_code == 404
