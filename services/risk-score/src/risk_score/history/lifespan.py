"""What the lifespan opens for the trade history and the learned model: the in-memory history
loaded from its tables, the promoted model, the trainer and its schedule."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from pangolin_core.service import ServiceRuntime, background_task
from risk_score.features.service import TradeHistoryFeatures
from risk_score.history.service import HistoryFollower, apply_after_commit
from risk_score.models.router import TRAINER
from risk_score.models.service import ModelTrainer, PromotedModel, load_promoted, training_schedule
from risk_score.settings import RiskScoreSettings

TRADE_HISTORY = "trade_history"
FEATURE_SOURCE = "feature_source"  # a `FeatureSource`
MODEL_SCORER = "model_scorer"  # a `ModelScorer`


@asynccontextmanager
async def trade_history_and_model(runtime: ServiceRuntime) -> AsyncIterator[None]:
    settings = runtime.settings
    assert isinstance(settings, RiskScoreSettings)
    follower = HistoryFollower(runtime.db)
    history = await follower.load()
    runtime.db.on_commit(apply_after_commit(history))
    scorer = PromotedModel(await load_promoted(runtime.db))
    trainer = ModelTrainer(runtime.db, scorer)
    runtime.extras[TRADE_HISTORY] = history
    runtime.extras[FEATURE_SOURCE] = TradeHistoryFeatures(history)
    runtime.extras[MODEL_SCORER] = scorer
    runtime.extras[TRAINER] = trainer
    async with AsyncExitStack() as stack:
        # Other replicas' declarations and outcomes (events are split between replicas).
        await stack.enter_async_context(
            background_task(
                follower.follow(interval=settings.trade_history_refresh_seconds),
                name="risk-score-trade-history-refresh",
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
