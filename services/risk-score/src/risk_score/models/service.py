"""Training, promotion and the promoted model's place in memory.

A candidate is trained on the labelled declarations replayed in date order (features as the
service saw them, before each declaration joined the history), all but the most recent
`HOLDOUT_FRACTION`; it is judged on that most recent part, and so is the model promoted
now. It is promoted when there is none, or when it beats it there (`training.beats`: recall
at 5 % inspected, then AUC). The stored model is the one judged (not refitted on the held-out
part), so its report says what it did on declarations it never saw."""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import joblib
import numpy as np
import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from pangolin_core.db import Database
from pangolin_core.errors import PangolinError
from risk_score.features.schemas import Features, ModelView
from risk_score.history import repository as history_repository
from risk_score.history.schemas import OutcomeResult, TradeRecord, is_non_compliant
from risk_score.models import repository
from risk_score.models.models import LearnedModelRow
from risk_score.models.training import (
    Estimator,
    LearnedModel,
    TrainingRow,
    beats,
    catalogue_names,
    feature_importances,
    fit,
    matrix,
    ranking_metrics,
    replay,
)

log = structlog.get_logger(__name__)

MIN_OUTCOMES = 50
HOLDOUT_FRACTION = 0.2
# Chosen by bench/risk_model.py: as good as HistGradientBoosting on the validation year,
# 35x faster to score one declaration, and its TreeSHAP contributions explain the view.
ESTIMATOR: Estimator = "lightgbm"


class NotEnoughOutcomes(PangolinError):
    status, code, title = 422, "not_enough_outcomes", "Not enough outcomes to train a model"


class ModelNotFound(PangolinError):
    status, code, title = 404, "model_not_found", "No such model"


class ModelIntegrityError(PangolinError):
    status, code, title = 500, "model_integrity", "A stored model failed its integrity check"


class PromotedModel:
    """The service's `ModelScorer`: the promoted model, swapped whole when another is
    promoted (a reader sees the old or the new one, never half of each)."""

    def __init__(self, model: LearnedModel | None = None, *, explain_from: float = 0.0) -> None:
        self.model = model
        # TreeSHAP contributions cost ~0.5 ms, 15x the probability (bench/risk_throughput.py):
        # only a view at or above this probability is explained.
        self.explain_from = explain_from

    @property
    def version(self) -> str | None:
        return None if self.model is None else self.model.version

    def view(self, features: Features) -> ModelView | None:
        model = self.model
        return None if model is None else model.view(features, explain_from=self.explain_from)


@dataclass(frozen=True)
class Candidate:
    model: LearnedModel
    promoted: bool
    report: dict[str, Any]


def _split(rows: Sequence[TrainingRow]) -> tuple[list[TrainingRow], list[TrainingRow]]:
    cut = len(rows) - max(1, round(len(rows) * HOLDOUT_FRACTION))
    return list(rows[:cut]), list(rows[cut:])


def _period(rows: Sequence[TrainingRow]) -> dict[str, str]:
    return {"from": rows[0].declared_on.isoformat(), "to": rows[-1].declared_on.isoformat()}


def train_candidate(
    records: Sequence[tuple[TradeRecord, OutcomeResult | None]],
    current: LearnedModel | None,
    *,
    version: str,
) -> Candidate:
    """Replay, fit, judge (synchronous and CPU-bound: run it off the event loop)."""
    rows = replay((r, None if o is None else is_non_compliant(o)) for r, o in records)
    positives = sum(r.label for r in rows)
    train, held_out = _split(rows) if rows else ([], [])
    train_positives = sum(r.label for r in train)
    held_out_positives = sum(r.label for r in held_out)
    if len(rows) < MIN_OUTCOMES or not train_positives or not held_out_positives:
        raise NotEnoughOutcomes(
            f"{len(rows)} declarations have an inspection outcome, {positives} of them "
            f"non-compliant ({train_positives} in the training part, {held_out_positives} in "
            f"the most recent {HOLDOUT_FRACTION:.0%} held out). Training needs at least "
            f"{MIN_OUTCOMES} and a non-compliant one in each part.",
            labelled=len(rows),
            non_compliant=positives,
            minimum=MIN_OUTCOMES,
        )
    names = catalogue_names()
    x = matrix([r.features for r in train], names)
    y = np.array([int(r.label) for r in train])
    model = LearnedModel(
        version,
        fit(x, y, estimator=ESTIMATOR),
        names,
        ESTIMATOR,
        explain_from=base_rate(len(train), train_positives),
    )
    labels = [r.label for r in held_out]
    held_out_features = [r.features for r in held_out]
    mine = ranking_metrics(list(model.probabilities(held_out_features)), labels)
    report: dict[str, Any] = {
        "estimator": ESTIMATOR,
        "rows": len(train),
        "positives": train_positives,
        "period": _period(train),
        "held_out_period": _period(held_out),
        "held_out": mine,
        "feature_importances": feature_importances(model),
        "promotion_rule": "recall at 5 % inspected on the held-out period, then AUC",
    }
    promoted = True
    if current is not None:
        theirs = ranking_metrics(list(current.probabilities(held_out_features)), labels)
        promoted = beats(mine, theirs)
        report["compared_with"] = {"model_version": current.version, "held_out": theirs}
    return Candidate(model, promoted, report)


def base_rate(rows: int, positives: int) -> float:
    return positives / rows if rows else 0.0


def dump(model: LearnedModel) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(model.estimator, buffer)
    return buffer.getvalue()


def load(row: LearnedModelRow) -> LearnedModel:
    """Unpickle a stored model, only when its bytes are the ones this service wrote."""
    if hashlib.sha256(row.payload).hexdigest() != row.sha256:
        raise ModelIntegrityError(f"Model {row.version}'s bytes do not match their digest.")
    estimator = joblib.load(io.BytesIO(row.payload))
    return LearnedModel(
        row.version,
        estimator,
        row.feature_names,
        row.estimator,  # type: ignore[arg-type]
        explain_from=base_rate(int(row.report["rows"]), int(row.report["positives"])),
    )


async def load_promoted(db: Database) -> LearnedModel | None:
    async with db.session(write=False) as session:
        row = await repository.promoted(session)
    return None if row is None else load(row)


class ModelTrainer:
    """Trains one model at a time (a second request waits for the first)."""

    def __init__(self, db: Database, scorer: PromotedModel) -> None:
        self.db = db
        self.scorer = scorer
        self._lock = asyncio.Lock()

    async def train(self, *, trained_by: str) -> LearnedModelRow:
        async with self._lock:
            async with self.db.session(write=False) as session:
                records = await history_repository.records(session)
                sequence = await repository.next_sequence(session)
            version = f"m{sequence}"
            current = self.scorer.model
            # Off the event loop: replay and fitting take seconds on a real history.
            candidate = await asyncio.to_thread(train_candidate, records, current, version=version)
            payload = await asyncio.to_thread(dump, candidate.model)
            async with self.db.session() as session:
                row = await _store(session, candidate, payload, sequence, trained_by)
            if candidate.promoted:
                self.scorer.model = candidate.model
            log.info("model_trained", version=version, promoted=candidate.promoted)
            return row


async def _store(
    session: AsyncSession, candidate: Candidate, payload: bytes, sequence: int, trained_by: str
) -> LearnedModelRow:
    if candidate.promoted:
        await repository.demote_all(session)
    row = LearnedModelRow(
        version=candidate.model.version,
        sequence=sequence,
        estimator=candidate.model.kind,
        feature_names=list(candidate.model.feature_names),
        report=candidate.report,
        payload=payload,
        sha256=hashlib.sha256(payload).hexdigest(),
        promoted=candidate.promoted,
        trained_by=trained_by,
        created_at=datetime.now(UTC),
    )
    session.add(row)
    return row


async def follow_promoted(db: Database, scorer: PromotedModel, *, interval: float) -> None:
    """Every `interval` seconds, load the promoted model when another replica promoted a
    different one (one small query a look; the bytes only on a change)."""
    while True:
        await asyncio.sleep(interval)
        try:
            async with db.session(write=False) as session:
                version = await repository.promoted_version(session)
            if version is not None and version != scorer.version:
                scorer.model = await load_promoted(db)
                log.info("model_promotion_followed", version=scorer.version)
        except Exception:
            log.exception("model_follow_failed")


async def training_schedule(trainer: ModelTrainer, *, interval: float) -> None:
    """Train every `interval` seconds; a refusal (too few outcomes) or failure is logged and
    the next round tries again."""
    while True:
        await asyncio.sleep(interval)
        try:
            await trainer.train(trained_by="schedule")
        except NotEnoughOutcomes as exc:
            log.info("model_training_skipped", reason=exc.detail)
        except Exception:
            log.exception("model_training_failed")
