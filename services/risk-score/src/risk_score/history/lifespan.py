"""What the lifespan opens for the trade history and the learned model: the in-memory history
loaded from its tables, the promoted model, the trainer and its schedule.

The history and the model scorer are the `RiskState`'s own objects (empty until loaded
here), so scoring reads them without any swap; their changes at commit are applied by
`history.service.apply_after_commit`, registered with the consumers (before any can run)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from pangolin_core.service import ServiceRuntime, background_task
from risk_score.history.aggregate import TradeHistory
from risk_score.history.service import HistoryFollower
from risk_score.models.router import TRAINER
from risk_score.models.service import (
    ModelTrainer,
    PromotedModel,
    follow_promoted,
    load_promoted,
    training_schedule,
)
from risk_score.settings import RiskScoreSettings


@asynccontextmanager
async def trade_history_and_model(
    runtime: ServiceRuntime, *, history: TradeHistory, scorer: PromotedModel
) -> AsyncIterator[None]:
    """Load the history, then the promoted model; refresh the history from other replicas'
    rows and train on the schedule (when enabled) while the service runs."""
    settings = runtime.settings
    assert isinstance(settings, RiskScoreSettings)
    follower = HistoryFollower(runtime.db, history)
    await follower.load()
    scorer.model = await load_promoted(runtime.db)
    trainer = ModelTrainer(runtime.db, scorer)
    runtime.extras[TRAINER] = trainer
    async with AsyncExitStack() as stack:
        # Other replicas' declarations and outcomes (events are split between replicas).
        await stack.enter_async_context(
            background_task(
                follower.follow(interval=settings.trade_history_refresh_seconds),
                name="risk-score-trade-history-refresh",
            )
        )
        # ... and the model another replica promoted.
        await stack.enter_async_context(
            background_task(
                follow_promoted(
                    runtime.db, scorer, interval=settings.trade_history_refresh_seconds
                ),
                name="risk-score-promoted-model",
            )
        )
        if settings.model_training_enabled:
            await stack.enter_async_context(
                background_task(
                    training_schedule(trainer, interval=settings.model_training_interval_seconds),
                    name="risk-score-model-training",
                )
            )
        yield
