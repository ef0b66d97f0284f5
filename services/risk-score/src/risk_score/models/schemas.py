"""Request and response models of the learned-model API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class TrainResponse(BaseModel):
    model_config = {"protected_namespaces": ()}

    model_version: str
    promoted: bool
    report: dict[str, Any] = Field(
        description="rows, positives, period, held-out period, AUC, precision / recall at "
        "1, 2, 5, 10 % inspection rates, feature importances, and the comparison with the "
        "model promoted before"
    )


class ModelSummary(BaseModel):
    model_config = {"protected_namespaces": ()}

    model_version: str
    estimator: str
    promoted: bool
    created_at: datetime
    trained_by: str


class ModelDetail(ModelSummary):
    feature_names: list[str]
    report: dict[str, Any]


class ModelPage(BaseModel):
    items: list[ModelSummary]
    next: str | None = None
