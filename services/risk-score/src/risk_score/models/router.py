"""`/v1/risk/models`: train, list and read the learned models (scope `risk:models`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from pangolin_core.db import SessionDep
from pangolin_core.errors import BadRequest
from pangolin_core.identity import Caller, requires_scope
from pangolin_core.pagination import decode_cursor, encode_cursor
from risk_score.models import repository
from risk_score.models.models import LearnedModelRow
from risk_score.models.schemas import ModelDetail, ModelPage, ModelSummary, TrainResponse
from risk_score.models.service import ModelNotFound, ModelTrainer

TRAINER = "model_trainer"

router = APIRouter(prefix="/v1/risk/models", tags=["learned model"])
ModelsCaller = Annotated[Caller, Depends(requires_scope("risk:models"))]


async def model_trainer(request: Request) -> ModelTrainer:
    trainer: ModelTrainer = request.app.state.runtime.extras[TRAINER]
    return trainer


TrainerDep = Annotated[ModelTrainer, Depends(model_trainer)]


def _summary(row: LearnedModelRow) -> ModelSummary:
    return ModelSummary(
        model_version=row.version,
        estimator=row.estimator,
        promoted=row.promoted,
        created_at=row.created_at,
        trained_by=row.trained_by,
    )


@router.post("/train", response_model=TrainResponse, summary="Train a model from the outcomes")
async def train(caller: ModelsCaller, trainer: TrainerDep) -> TrainResponse:
    row = await trainer.train(trained_by=caller.client_id)
    return TrainResponse(model_version=row.version, promoted=row.promoted, report=row.report)


@router.get("", response_model=ModelPage, summary="The trained models, newest first")
async def list_models(
    caller: ModelsCaller,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
) -> ModelPage:
    before = None
    if cursor is not None:
        position = decode_cursor(cursor).get("before")
        if not isinstance(position, int):
            raise BadRequest("The cursor is not valid: pass back the `next` of a page.")
        before = position
    rows = await repository.page(session, limit=limit, before=before)
    next_cursor = encode_cursor({"before": rows[-1].sequence}) if len(rows) == limit else None
    return ModelPage(items=[_summary(r) for r in rows], next=next_cursor)


@router.get("/{version}", response_model=ModelDetail, summary="A model and its report")
async def get_model(caller: ModelsCaller, session: SessionDep, version: str) -> ModelDetail:
    row = await repository.get(session, version)
    if row is None:
        raise ModelNotFound(f"No model has the version {version!r}.")
    return ModelDetail(
        **_summary(row).model_dump(), feature_names=row.feature_names, report=row.report
    )
