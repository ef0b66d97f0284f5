"""The group-commit writer: concurrent assessments share transactions, each answered only
once stored; a failed write fails every caller of its batch and nothing is half-written."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa

from pangolin_core.db import Database
from risk_score.assessments.writer import AssessmentWriter
from risk_support import RiskService, declaration


async def test_concurrent_assessments_are_all_stored_with_their_events(
    risk: RiskService,
) -> None:
    bodies = [declaration(declaration_id=f"D-{n}") for n in range(40)]
    answers = await asyncio.gather(*(risk.assess(body) for body in bodies))
    assert len({a["assessment_id"] for a in answers}) == 40
    assert await risk.count("assessment") == 40
    async with risk.db.session(write=False) as session:
        events = await session.scalar(
            sa.text("SELECT count(*) FROM outbox WHERE subject = 'risk.assessment.completed'")
        )
    assert events == 40
    # ... and each declaration joined the trade history in the same transaction.
    assert await risk.count("trade_history_line") == 40
    assert len(risk.state().history) == 40


async def test_a_declaration_assessed_twice_joins_the_history_once(risk: RiskService) -> None:
    body = declaration(declaration_id="TWICE-1")
    # Concurrent: one batch of the writer; then once more in a later batch.
    await asyncio.gather(risk.assess(body), risk.assess(body))
    await risk.assess(body)
    assert await risk.count("assessment") == 3
    assert await risk.count("trade_history_line") == 1
    history = risk.state().history
    assert len(history) == 1 and history.knows("TWICE-1")


async def test_a_failed_write_fails_every_caller_of_its_batch(tmp_path: Path) -> None:
    from pangolin_core.contracts.envelope import CloudEvent
    from pangolin_core.contracts.permits import Declaration
    from risk_score.assessments.models import Assessment

    db = Database(f"sqlite:///{tmp_path / 'empty.db'}")  # no tables: every insert fails
    writer = AssessmentWriter(db)

    def row(n: int) -> Assessment:
        return Assessment(id=f"a-{n}")  # table models do not validate: enough to insert

    event = CloudEvent(source="/test", type="risk.assessment.completed", data={})
    declared = Declaration.model_validate(declaration())
    try:
        results = await asyncio.gather(
            *(writer.store(row(n), event, declared) for n in range(5)), return_exceptions=True
        )
        assert all(isinstance(r, sa.exc.OperationalError) for r in results), results
        with pytest.raises(sa.exc.OperationalError):
            await writer.store(row(9), event, declared)  # a later batch is tried again, not stuck
    finally:
        await writer.close()
        await db.dispose()
