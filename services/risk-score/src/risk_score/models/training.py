"""Training and judging the learned model: pure functions over replayed history.

Training rows come from replaying labelled declarations in date order through the same
`TradeHistory` and `compute_features` the service scores with: each row's features are what
the service would have seen *before* that declaration was added, never after."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from risk_score.features.schemas import FEATURE_CATALOGUE, Features, ModelView
from risk_score.features.service import compute_features
from risk_score.history.aggregate import TradeHistory
from risk_score.history.schemas import TradeRecord

Estimator = Literal["lightgbm", "hist_gradient_boosting"]
INSPECTION_RATES = (1, 2, 5, 10)  # percent of declarations inspected
# The promotion metric: recall at this inspection rate on the held-out period (AUC breaks ties).
PROMOTION_RATE = 5
CONTRIBUTIONS_KEPT = 5


@dataclass(frozen=True)
class TrainingRow:
    declaration_id: str
    declared_on: date
    features: Features
    label: bool  # non-compliant


def replay(
    records: Iterable[tuple[TradeRecord, bool | None]], history: TradeHistory | None = None
) -> list[TrainingRow]:
    """Replay (record, label) pairs in the given order: features first, then the record and
    its outcome join the history. Unlabelled records feed the history but make no row."""
    history = history if history is not None else TradeHistory()
    rows = []
    for record, label in records:
        if history.knows(record.declaration_id):
            continue
        features = compute_features(history, record)
        history.add_declaration(record)
        if label is not None:
            history.add_outcome(record.declaration_id, non_compliant=label)
            rows.append(TrainingRow(record.declaration_id, record.declared_on, features, label))
    return rows


def vectorise(features: Features, names: Sequence[str]) -> list[float]:
    """Numbers in `names` order; unknown (None, text) is NaN, which both estimators read as
    missing."""
    vector = []
    for name in names:
        value = features.get(name)
        if isinstance(value, bool):
            vector.append(1.0 if value else 0.0)
        elif isinstance(value, int | float):
            vector.append(float(value))
        else:
            vector.append(math.nan)
    return vector


def matrix(rows: Sequence[Features], names: Sequence[str]) -> NDArray[np.float64]:
    return np.array([vectorise(f, names) for f in rows], dtype=np.float64).reshape(
        len(rows), len(names)
    )


def fit(x: NDArray[np.float64], y: NDArray[np.int_], *, estimator: Estimator = "lightgbm") -> Any:
    """A gradient-boosted tree classifier with fixed, a-priori parameters (one thread: the
    machine is shared with the request path)."""
    if estimator == "lightgbm":
        import lightgbm

        model = lightgbm.LGBMClassifier(
            n_estimators=300,
            learning_rate=0.03,
            num_leaves=15,
            min_child_samples=20,
            subsample=0.8,
            subsample_freq=1,
            colsample_bytree=0.8,
            reg_lambda=1.0,
            random_state=0,
            n_jobs=1,
            verbose=-1,
        )
    else:
        from sklearn.ensemble import HistGradientBoostingClassifier

        model = HistGradientBoostingClassifier(
            max_iter=300,
            learning_rate=0.03,
            max_leaf_nodes=15,
            min_samples_leaf=20,
            l2_regularization=1.0,
            random_state=0,
        )
        # Its binning fails on a column that is all missing (no trader named anywhere):
        # a constant says the same (nothing) and is never split on.
        x = np.where(np.isnan(x).all(axis=0), 0.0, x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        model.fit(x, y)
    return model


def probabilities(model: Any, x: NDArray[np.float64]) -> NDArray[np.float64]:
    booster = getattr(model, "booster_", None)
    if booster is not None:
        # LightGBM's booster directly, one thread: the sklearn wrapper's checks cost more
        # than the trees for the one row an assessment scores.
        direct: NDArray[np.float64] = booster.predict(x, num_threads=1)
        return direct
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        result: NDArray[np.float64] = model.predict_proba(x)[:, 1]
    return result


def ranking_metrics(scores: Sequence[float], labels: Sequence[bool]) -> dict[str, Any]:
    """AUC and precision / recall when the top k % by score are inspected.

    Ties at the cut are broken by order, as an officer working down a list would."""
    n = len(scores)
    positives = sum(labels)
    order = sorted(range(n), key=lambda i: -scores[i])
    report: dict[str, Any] = {"rows": n, "positives": positives, "auc": _auc(scores, labels)}
    for rate in INSPECTION_RATES:
        selected = max(1, math.ceil(n * rate / 100)) if n else 0
        hits = sum(labels[i] for i in order[:selected])
        report[f"precision_at_{rate}"] = hits / selected if selected else None
        report[f"recall_at_{rate}"] = hits / positives if positives else None
    return report


def _auc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    positives = sum(labels)
    negatives = len(labels) - positives
    if not positives or not negatives:
        return None
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(np.array(labels, dtype=np.int_), np.array(scores)))


def beats(candidate: Mapping[str, Any], current: Mapping[str, Any]) -> bool:
    """Is the candidate better on the same held-out rows? Recall at `PROMOTION_RATE` %
    first (what an office inspecting that share would catch), then AUC."""
    key = f"recall_at_{PROMOTION_RATE}"
    mine, theirs = candidate.get(key) or 0.0, current.get(key) or 0.0
    if mine != theirs:
        return bool(mine > theirs)
    return bool((candidate.get("auc") or 0.0) > (current.get("auc") or 0.0))


class LearnedModel:
    """A trained estimator with its feature names: the service's `ModelScorer`.

    Its reasons (TreeSHAP contributions) cost ~10x the probability itself, so they are
    computed only for a declaration the model rates at or above `explain_from` (the service
    uses the training base rate: below it the model has nothing to point at)."""

    def __init__(
        self,
        version: str,
        estimator: Any,
        feature_names: Sequence[str],
        kind: Estimator,
        *,
        explain_from: float = 0.0,
    ) -> None:
        self.version = version
        self.estimator = estimator
        self.feature_names = tuple(feature_names)
        self.kind = kind
        self.explain_from = explain_from

    def probabilities(self, rows: Sequence[Features]) -> NDArray[np.float64]:
        return probabilities(self.estimator, matrix(rows, self.feature_names))

    def view(self, features: Features, *, explain_from: float = 0.0) -> ModelView | None:
        """The probability, with the contributions when it is at or above both the training
        base rate and `explain_from` (the service's own floor, `PromotedModel`)."""
        x = matrix([features], self.feature_names)
        probability = float(probabilities(self.estimator, x)[0])
        if probability < max(self.explain_from, explain_from):
            return ModelView(self.version, probability)
        return ModelView(self.version, probability, self._contributions(x))

    def _contributions(self, x: NDArray[np.float64]) -> tuple[tuple[str, float], ...]:
        if self.kind != "lightgbm":
            return ()
        # TreeSHAP values in log-odds, one per feature plus the bias (last column).
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            contrib = self.estimator.booster_.predict(x, pred_contrib=True, num_threads=1)[0][:-1]
        pairs = sorted(
            ((name, float(v)) for name, v in zip(self.feature_names, contrib, strict=True) if v),
            key=lambda pair: -abs(pair[1]),
        )
        return tuple((name, round(v, 4)) for name, v in pairs[:CONTRIBUTIONS_KEPT])


def feature_importances(model: LearnedModel) -> dict[str, float]:
    raw = getattr(model.estimator, "feature_importances_", None)
    if raw is None:
        return {}
    total = float(sum(raw)) or 1.0
    pairs = sorted(zip(model.feature_names, raw, strict=True), key=lambda p: -float(p[1]))
    return {name: round(float(v) / total, 4) for name, v in pairs}


def catalogue_names() -> tuple[str, ...]:
    return tuple(FEATURE_CATALOGUE)
