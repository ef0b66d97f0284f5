"""The trade history and the promoted model across the app's life: traders first seen on
permits (PERMITS events), a restart rebuilding both from the database, the schedule, and
training off the event loop."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
import sqlalchemy as sa

from pangolin_core import migrations
from pangolin_core.db import Database
from pangolin_core.testing import eventually, identity_headers, running_app
from risk_history_support import RiskApp, declaration, permit_issued, synthetic_trade
from risk_score.app import DEFINITION, create_app
from risk_score.dependencies import state_of
from risk_score.features.service import TradeHistoryFeatures
from risk_score.history.aggregate import TradeHistory
from risk_score.history.schemas import trader_key
from risk_score.history.service import record_declaration, record_outcome
from risk_score.models.service import ModelIntegrityError, PromotedModel, load_promoted
from risk_score.settings import RiskScoreSettings

RISK_UNIT = identity_headers("risk:models", client_id="risk-unit", country="KE")


async def record_trade(db: Database, count: int) -> None:
    for decl, outcome in synthetic_trade(count):
        async with db.session() as session:
            await record_declaration(session=session, declaration=decl)
            await record_outcome(
                session=session,
                declaration_id=decl.declaration_id,
                result=outcome,  # type: ignore[arg-type]
            )


async def test_a_permit_makes_its_traders_known_from_its_date(risk_app: RiskApp) -> None:
    runtime = risk_app.app.state.runtime
    history: TradeHistory = state_of(runtime).history
    event = permit_issued(
        "Savannah Reptiles Ltd", "Hanoi Pet Trading Co", issued_on=date(2025, 12, 1)
    ).to_event(source="permit-verify")
    await runtime.js.publish(
        "permits.permit.issued", event.to_json(), headers={"Nats-Msg-Id": event.id}
    )
    exporter = trader_key("Savannah Reptiles Ltd", "KE")
    assert exporter is not None

    async def seen() -> bool:
        return exporter in history.first_seen

    await eventually(seen)
    source: TradeHistoryFeatures = state_of(runtime).features
    features = source.features_for(declaration("D1", on=date(2026, 1, 10)), [])
    assert features["new_exporter"] is False
    assert features["exporter_first_seen_days"] == 40
    assert features["exporter_declarations"] == 0  # a permit is not a declaration


async def test_a_restart_rebuilds_the_history_and_the_promoted_model(
    database_url: str, nats_url: str
) -> None:
    await migrations.upgrade(DEFINITION.migrations, database_url)
    settings = RiskScoreSettings(database_url=database_url, nats_url=nats_url)
    first = create_app(settings)
    async with running_app(first) as client:
        await record_trade(first.state.runtime.db, 150)
        trained = await client.post("/v1/risk/models/train", headers=RISK_UNIT)
        assert trained.status_code == 200
        before: TradeHistory = state_of(first.state.runtime).history
        probe = declaration("P", on=date(2025, 7, 1), purpose="P", source="U", office="MIA")
        expected = state_of(first.state.runtime).features.features_for(probe, [])
        view = state_of(first.state.runtime).model.view(expected)

    again = create_app(settings)
    async with running_app(again):
        after: TradeHistory = state_of(again.state.runtime).history
        assert (len(after), after.labelled, after.non_compliant) == (
            len(before),
            before.labelled,
            before.non_compliant,
        )
        assert state_of(again.state.runtime).features.features_for(probe, []) == expected
        scorer: PromotedModel = state_of(again.state.runtime).model
        assert scorer.version == "m1"
        assert scorer.view(expected) == view


async def test_a_tampered_model_is_never_loaded(risk_app: RiskApp) -> None:
    db: Database = risk_app.app.state.runtime.db
    await record_trade(db, 150)
    assert (await risk_app.client.post("/v1/risk/models/train", headers=RISK_UNIT)).is_success
    async with db.session() as session:
        await session.exec(  # type: ignore[call-overload]
            sa.text("UPDATE learned_model SET payload = :p"), params={"p": b"not ours"}
        )
    with pytest.raises(ModelIntegrityError, match="digest"):
        await load_promoted(db)


async def test_the_schedule_trains_and_training_does_not_block_requests(
    sqlite_url: str, nats_url: str
) -> None:
    await migrations.upgrade(DEFINITION.migrations, sqlite_url)
    settings = RiskScoreSettings(
        database_url=sqlite_url,
        nats_url=nats_url,
        model_training_enabled=True,
        model_training_interval_seconds=1.0,
    )
    app = create_app(settings)
    async with running_app(app) as client:
        db: Database = app.state.runtime.db
        await record_trade(db, 150)
        scorer: PromotedModel = state_of(app.state.runtime).model

        async def promoted() -> bool:
            return scorer.version is not None

        await eventually(promoted, timeout=30)

        # While a training runs in its thread, the app keeps answering.
        training = asyncio.create_task(client.post("/v1/risk/models/train", headers=RISK_UNIT))
        answered_meanwhile = 0

        async def health_until_trained() -> bool:
            nonlocal answered_meanwhile
            if training.done():
                return True
            assert (await client.get("/health")).status_code == 200
            answered_meanwhile += 1
            return False

        await eventually(health_until_trained, timeout=60)
        assert (await training).status_code == 200
        assert answered_meanwhile > 1


async def test_a_replica_learns_what_another_recorded(database_url: str, nats_url: str) -> None:
    """Two replicas on one database: declarations, outcomes and permits recorded through one
    reach the other's in-memory history (events are split between replicas, not copied)."""
    await migrations.upgrade(DEFINITION.migrations, database_url)
    settings = RiskScoreSettings(
        database_url=database_url, nats_url=nats_url, trade_history_refresh_seconds=0.05
    )
    one, two = create_app(settings), create_app(settings)
    async with running_app(one), running_app(two):
        db: Database = one.state.runtime.db
        other: TradeHistory = state_of(two.state.runtime).history
        async with db.session() as session:
            await record_declaration(session=session, declaration=declaration("A1"))
            await record_declaration(session=session, declaration=declaration("A2"))
        async with db.session() as session:
            await record_outcome(session=session, declaration_id="A1", result="seizure")
            await record_outcome(session=session, declaration_id="A2", result="compliant")
        async with db.session() as session:
            await record_outcome(session=session, declaration_id="A2", result="non_compliant")

        async def caught_up() -> bool:
            return (len(other), other.labelled, other.non_compliant) == (2, 2, 2)

        await eventually(caught_up)
        exporter = trader_key("Savannah Reptiles Ltd", "KE") or ""
        assert other.tally("exporter", exporter).non_compliant == 2
        mine: TradeHistory = state_of(one.state.runtime).history
        assert (len(mine), mine.labelled, mine.non_compliant) == (2, 2, 2)


async def test_a_replica_follows_the_model_another_promoted(
    database_url: str, nats_url: str
) -> None:
    await migrations.upgrade(DEFINITION.migrations, database_url)
    settings = RiskScoreSettings(
        database_url=database_url, nats_url=nats_url, trade_history_refresh_seconds=0.05
    )
    one, two = create_app(settings), create_app(settings)
    async with running_app(one) as client, running_app(two):
        await record_trade(one.state.runtime.db, 150)
        trained = await client.post("/v1/risk/models/train", headers=RISK_UNIT)
        assert trained.status_code == 200 and trained.json()["promoted"] is True
        other: PromotedModel = state_of(two.state.runtime).model

        async def followed() -> bool:
            return other.version == "m1"

        await eventually(followed)
        probe = state_of(two.state.runtime).features.features_for(declaration("P2"), [])
        assert other.view(probe) == state_of(one.state.runtime).model.view(probe)
