"""The trade history and the learned model through the app: declarations and outcomes
recorded as the assessment and outcome paths record them, and `/v1/risk/models` (real
database, real nats-server)."""

from __future__ import annotations

import sqlalchemy as sa

from pangolin_core.db import Database
from pangolin_core.testing import identity_headers
from risk_history_support import RiskApp, declaration, synthetic_trade
from risk_score.dependencies import state_of
from risk_score.history.aggregate import TradeHistory
from risk_score.history.service import record_declaration, record_outcome
from risk_score.models.service import PromotedModel

RISK_UNIT = identity_headers("risk:models", client_id="risk-unit", country="KE")
ASSESSOR = identity_headers("risk:assess", client_id="sw-ke", country="KE")


async def record_trade(risk: RiskApp, count: int) -> None:
    db: Database = risk.app.state.runtime.db
    for decl, outcome in synthetic_trade(count):
        async with db.session() as session:
            assert await record_declaration(session=session, declaration=decl)
        async with db.session() as session:
            assert await record_outcome(
                session=session,
                declaration_id=decl.declaration_id,
                result=outcome,  # type: ignore[arg-type]
            )


async def count_models(risk: RiskApp) -> int:
    db: Database = risk.app.state.runtime.db
    async with db.session(write=False) as session:
        result = await session.exec(sa.text("SELECT count(*) FROM learned_model"))  # type: ignore[call-overload]
        return int(result.scalar_one())


async def test_train_promotes_the_first_model_and_not_an_equal_one(risk_app: RiskApp) -> None:
    await record_trade(risk_app, 150)
    history: TradeHistory = state_of(risk_app.app.state.runtime).history
    assert len(history) == 150 and history.labelled == 150 and history.non_compliant == 30

    first = await risk_app.client.post("/v1/risk/models/train", headers=RISK_UNIT)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["model_version"] == "m1" and body["promoted"] is True
    report = body["report"]
    assert report["rows"] == 120 and report["positives"] == 24
    assert report["held_out_period"] == {"from": "2025-05-01", "to": "2025-05-30"}
    assert {"auc", "precision_at_1", "recall_at_5", "recall_at_10"} <= set(report["held_out"])
    scorer: PromotedModel = state_of(risk_app.app.state.runtime).model
    assert scorer.version == "m1"

    second = await risk_app.client.post("/v1/risk/models/train", headers=RISK_UNIT)
    assert second.status_code == 200
    assert second.json()["model_version"] == "m2" and second.json()["promoted"] is False
    assert second.json()["report"]["compared_with"]["model_version"] == "m1"
    assert scorer.version == "m1"

    listed = await risk_app.client.get("/v1/risk/models?limit=1", headers=RISK_UNIT)
    assert listed.status_code == 200
    assert [m["model_version"] for m in listed.json()["items"]] == ["m2"]
    rest = await risk_app.client.get(
        f"/v1/risk/models?limit=1&cursor={listed.json()['next']}", headers=RISK_UNIT
    )
    assert [(m["model_version"], m["promoted"]) for m in rest.json()["items"]] == [("m1", True)]
    bad_cursor = await risk_app.client.get("/v1/risk/models?cursor=nonsense", headers=RISK_UNIT)
    assert bad_cursor.status_code == 400
    assert bad_cursor.headers["content-type"] == "application/problem+json"
    detail = await risk_app.client.get("/v1/risk/models/m1", headers=RISK_UNIT)
    assert detail.status_code == 200
    assert detail.json()["report"] == report
    assert detail.json()["trained_by"] == "risk-unit"


async def test_too_few_outcomes_is_a_422_and_stores_nothing(risk_app: RiskApp) -> None:
    await record_trade(risk_app, 20)
    refused = await risk_app.client.post("/v1/risk/models/train", headers=RISK_UNIT)
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "not_enough_outcomes"
    assert refused.json()["labelled"] == 20
    assert await count_models(risk_app) == 0
    missing = await risk_app.client.get("/v1/risk/models/m1", headers=RISK_UNIT)
    assert missing.status_code == 404 and missing.json()["code"] == "model_not_found"


async def test_training_needs_the_models_scope(risk_app: RiskApp) -> None:
    refused = await risk_app.client.post("/v1/risk/models/train", headers=ASSESSOR)
    assert refused.status_code == 403
    assert (await risk_app.client.get("/v1/risk/models")).status_code == 401


async def test_a_rolled_back_declaration_leaves_the_history_untouched(risk_app: RiskApp) -> None:
    db: Database = risk_app.app.state.runtime.db
    history: TradeHistory = state_of(risk_app.app.state.runtime).history
    try:
        async with db.session() as session:
            await record_declaration(session=session, declaration=declaration("R1"))
            raise RuntimeError("the assessment failed later")
    except RuntimeError:
        pass
    assert not history.knows("R1")
    async with db.session() as session:
        assert await record_declaration(session=session, declaration=declaration("R1"))
        # assessed again: not counted twice
        assert await record_declaration(session=session, declaration=declaration("R1")) is False
    assert history.knows("R1")
