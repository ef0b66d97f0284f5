"""Training and promotion rules of the learned model, without the app."""

from __future__ import annotations

import numpy as np
import pytest

from risk_history_support import synthetic_trade
from risk_score.history.schemas import TradeRecord
from risk_score.models.service import (
    MIN_OUTCOMES,
    NotEnoughOutcomes,
    PromotedModel,
    dump,
    train_candidate,
)
from risk_score.models.training import (
    LearnedModel,
    beats,
    catalogue_names,
    ranking_metrics,
    replay,
)


def records(count: int = 150) -> list[tuple[TradeRecord, str | None]]:
    return [(TradeRecord.from_declaration(d), o) for d, o in synthetic_trade(count)]


class Constant:
    """An estimator that thinks the same of everything: the worst ranking there is."""

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return np.tile([0.5, 0.5], (len(x), 1))


def test_the_first_model_is_promoted_and_learns_the_pattern() -> None:
    candidate = train_candidate(records(), None, version="m1")  # type: ignore[arg-type]
    assert candidate.promoted is True
    report = candidate.report
    assert report["rows"] == 120 and report["positives"] == 24
    assert report["held_out"]["rows"] == 30
    # 10 % of 30 is 3 inspections, all of them seizures; every seizure ranks above every
    # compliant declaration
    assert report["held_out"]["precision_at_10"] == 1.0
    assert report["held_out"]["auc"] == 1.0
    assert report["period"] == {"from": "2025-01-01", "to": "2025-04-30"}
    assert set(report["feature_importances"]) == set(catalogue_names())
    assert candidate.model.explain_from == pytest.approx(24 / 120)  # the base rate
    rows = replay((r, o != "compliant") for r, o in records())
    seized = next(r for r in reversed(rows) if r.label)
    cleared = next(r for r in reversed(rows) if not r.label)
    scorer = PromotedModel(candidate.model)
    risky, plain = scorer.view(seized.features), scorer.view(cleared.features)
    assert risky is not None and plain is not None
    assert risky.model_version == "m1"
    assert risky.probability > 0.5 > plain.probability
    # reasons for the risky one only (below the base rate there is nothing to point at),
    # five at most, largest first, and the seizure pattern among them
    assert plain.contributions == ()
    assert 0 < len(risky.contributions) <= 5
    magnitudes = [abs(v) for _, v in risky.contributions]
    assert magnitudes == sorted(magnitudes, reverse=True)
    assert {name for name, _ in risky.contributions} & {
        "purpose_non_compliance_rate",
        "source_non_compliance_rate",
        "trade_profile_non_compliance_rate",
        "office_non_compliance_rate",
        "office_route_non_compliance_rate",
    }
    assert dump(candidate.model)  # it pickles


def test_a_better_model_replaces_a_worse_one_and_a_tie_does_not() -> None:
    worse = LearnedModel("m0", Constant(), catalogue_names(), "hist_gradient_boosting")
    better = train_candidate(records(), worse, version="m1")  # type: ignore[arg-type]
    assert better.promoted is True
    assert better.report["compared_with"]["model_version"] == "m0"
    same = train_candidate(records(), better.model, version="m2")  # type: ignore[arg-type]
    assert same.promoted is False  # it must beat the current one, not equal it


def test_the_promotion_metric_is_recall_at_5_then_auc() -> None:
    assert beats({"recall_at_5": 0.9, "auc": 0.7}, {"recall_at_5": 0.8, "auc": 0.99})
    assert not beats({"recall_at_5": 0.8, "auc": 0.99}, {"recall_at_5": 0.9, "auc": 0.7})
    assert beats({"recall_at_5": 0.9, "auc": 0.8}, {"recall_at_5": 0.9, "auc": 0.7})
    assert not beats({"recall_at_5": 0.9, "auc": 0.7}, {"recall_at_5": 0.9, "auc": 0.7})


@pytest.mark.parametrize(("count", "all_compliant"), [(MIN_OUTCOMES - 1, False), (150, True)])
def test_too_few_outcomes_or_no_positive_is_refused(count: int, all_compliant: bool) -> None:
    data = records(count)
    if all_compliant:
        data = [(r, "compliant") for r, _ in data]
    with pytest.raises(NotEnoughOutcomes) as refused:
        train_candidate(data, None, version="m1")  # type: ignore[arg-type]
    assert refused.value.status == 422


def test_ranking_metrics_at_inspection_rates() -> None:
    scores = [float(i) for i in range(100)]
    labels = [i >= 95 for i in range(100)]  # the five best-scored are the five positives
    metrics = ranking_metrics(scores, labels)
    assert metrics["precision_at_1"] == 1.0 and metrics["recall_at_1"] == 0.2
    assert metrics["precision_at_5"] == 1.0 and metrics["recall_at_5"] == 1.0
    assert metrics["precision_at_10"] == 0.5
    assert metrics["auc"] == 1.0
