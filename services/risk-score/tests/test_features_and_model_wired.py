"""risk-score end to end with its trade history and learned model wired in: assessments feed
the history, outcomes recorded through the API label it, a model trained through the API
speaks in the next assessment, and profile criteria on `features.<name>` see real values
(real database on both engines, real nats-server)."""

from __future__ import annotations

from typing import Any

import pytest

from pangolin_core.testing import identity_headers
from risk_history_support import synthetic_trade
from risk_score.features.schemas import FEATURE_CATALOGUE
from risk_score.history.schemas import trader_key
from risk_support import ANALYST, READER, RiskService, declaration

RISK_UNIT = identity_headers("risk:models", client_id="risk-unit", country="KE")


async def record_outcome(
    risk: RiskService, assessment_id: str, result: str, *, inspected: bool = True
) -> None:
    response = await risk.client.post(
        f"/v1/risk/assessments/{assessment_id}/outcome",
        json={"inspected": inspected, "result": result, "controls_applied": []},
        headers=ANALYST,
    )
    assert response.status_code == 201, response.text


async def features_of(risk: RiskService, assessment_id: str) -> dict[str, Any]:
    stored = await risk.client.get(f"/v1/risk/assessments/{assessment_id}", headers=READER)
    assert stored.status_code == 200, stored.text
    features: dict[str, Any] = stored.json()["facts"]["features"]
    return features


async def test_a_model_trained_on_api_outcomes_speaks_in_the_next_assessment(
    risk: RiskService,
) -> None:
    for decl, result in synthetic_trade(150):
        answer = await risk.assess(decl.model_dump(mode="json", by_alias=True))
        assert answer["model_version"] is None
        assert "model" not in {r["source"] for r in answer["reasons"]}
        await record_outcome(risk, answer["assessment_id"], result)
    history = risk.state().history
    assert (len(history), history.labelled, history.non_compliant) == (150, 150, 30)

    trained = await risk.client.post("/v1/risk/models/train", headers=RISK_UNIT)
    assert trained.status_code == 200, trained.text
    assert trained.json()["model_version"] == "m1" and trained.json()["promoted"] is True

    # A shipment like the seized ones (personal purpose, unknown source, through MIA).
    risky = next(d for d, result in synthetic_trade(150) if result == "seizure")
    body = risky.model_dump(mode="json", by_alias=True)
    body["declaration_id"] = "NEXT-1"
    answer = await risk.assess(body)
    assert answer["model_version"] == "m1"
    (model,) = [r for r in answer["reasons"] if r["source"] == "model"]
    assert model["id"] == "m1"
    probability = float(model["title"].split(":")[1].split("%")[0]) / 100
    assert probability > 0.5
    # points = probability x model_points (40 by default), to 0.1
    assert model["points"] == pytest.approx(probability * 40, abs=0.3)
    assert model["detail"]  # the top contributions, "<feature> +0.12, ..."
    assert model["detail"].split(" ")[0] in FEATURE_CATALOGUE
    stored = await risk.client.get(
        f"/v1/risk/assessments/{answer['assessment_id']}", headers=READER
    )
    assert stored.json()["model_version"] == "m1"


async def test_a_new_exporter_profile_fires_until_the_exporter_has_history(
    risk: RiskService,
) -> None:
    profile = await risk.create_profile(
        name="First shipment of an exporter never seen",
        criteria={"field": "features.new_exporter", "op": "==", "value": True},
        points=25,
        controls=["document_review"],
    )
    first = await risk.assess(declaration(declaration_id="NEW-1"))
    fired = [r for r in first["reasons"] if r["source"] == "profile"]
    assert [r["id"] for r in fired] == [profile["id"]]
    assert first["profile_versions"] == {profile["id"]: profile["version"]}
    assert (await features_of(risk, first["assessment_id"]))["new_exporter"] is True

    # The first declaration joined the history when its assessment was stored.
    again = await risk.assess(declaration(declaration_id="NEW-2"))
    assert [r for r in again["reasons"] if r["source"] == "profile"] == []
    features = await features_of(risk, again["assessment_id"])
    assert features["new_exporter"] is False and features["exporter_declarations"] == 1

    # Another exporter is still new; a declaration naming no exporter is not (None).
    other = declaration(
        declaration_id="NEW-3", exporter={"name": "Lake Victoria Exotics", "country": "KE"}
    )
    assert [r["id"] for r in (await risk.assess(other))["reasons"] if r["source"] == "profile"]
    unnamed = await risk.assess(declaration(declaration_id="NEW-4", exporter=None))
    assert [r for r in unnamed["reasons"] if r["source"] == "profile"] == []


async def test_an_outcome_recorded_through_the_api_changes_the_traders_features(
    risk: RiskService,
) -> None:
    first = await risk.assess(declaration(declaration_id="OUT-1"))
    before = await risk.assess(declaration(declaration_id="OUT-2"))
    unlabelled = await features_of(risk, before["assessment_id"])
    # No outcome anywhere: the smoothed rate is the prior, (0 + 1) / (0 + 2).
    assert unlabelled["exporter_non_compliance_rate"] == pytest.approx(0.5)

    # Not inspected: says nothing about compliance, so nothing changes.
    await record_outcome(risk, before["assessment_id"], "compliant", inspected=False)
    still = await risk.assess(declaration(declaration_id="OUT-3"))
    assert (await features_of(risk, still["assessment_id"]))[
        "exporter_non_compliance_rate"
    ] == pytest.approx(0.5)

    await record_outcome(risk, first["assessment_id"], "seizure")
    after = await risk.assess(declaration(declaration_id="OUT-4"))
    labelled = await features_of(risk, after["assessment_id"])
    # (1 + 10 x prior) / (1 + 10), the prior now (1 + 1) / (1 + 2)
    assert labelled["exporter_non_compliance_rate"] == pytest.approx((1 + 10 * 2 / 3) / 11)
    assert labelled["exporter_declarations"] == 3
    exporter = trader_key("Savannah Reptiles Ltd", "KE")
    assert exporter is not None
    tally = risk.state().history.tally("exporter", exporter)
    assert (tally.declarations, tally.labelled, tally.non_compliant) == (4, 1, 1)
    assert await risk.count("trade_outcome") == 1
