"""Features of a declaration computed from the trade history: pure given the history.

Features are always computed *before* the declaration is added to the history, so a
declaration never explains itself (no leakage, in the service as in training)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from pangolin_core.contracts.permits import Declaration, Finding
from risk_score.features.schemas import FEATURE_CATALOGUE, Features, FeatureValue
from risk_score.history.aggregate import TradeHistory, line_keys, statistics_key
from risk_score.history.schemas import TradeRecord

# The weight of the prior in a smoothed rate, in declarations: a key with 10 labelled
# declarations is trusted half and half with the global rate. Chosen a priori (a handful of
# inspections is not evidence), not tuned on any test period.
PRIOR_WEIGHT = 10.0
# Robust z-scores beyond this say nothing more and would only stretch the trees' bins.
MAX_ZSCORE = 50.0

_RATE_FEATURES = {
    "route": "route_non_compliance_rate",
    "species": "species_non_compliance_rate",
    "origin": "origin_non_compliance_rate",
    "export_country": "export_country_non_compliance_rate",
    "office": "office_non_compliance_rate",
    "office_route": "office_route_non_compliance_rate",
    "term": "term_non_compliance_rate",
    "purpose": "purpose_non_compliance_rate",
    "source": "source_non_compliance_rate",
    "species_term": "species_term_non_compliance_rate",
    "trade_profile": "trade_profile_non_compliance_rate",
}


def global_rate(history: TradeHistory) -> float:
    return (history.non_compliant + 1) / (history.labelled + 2)


def smoothed_rate(
    non_compliant: int, labelled: int, prior: float, *, weight: float = PRIOR_WEIGHT
) -> float:
    return (non_compliant + weight * prior) / (labelled + weight)


def compute_features(
    history: TradeHistory, record: TradeRecord, *, prior_weight: float = PRIOR_WEIGHT
) -> dict[str, FeatureValue]:
    """Every `FEATURE_CATALOGUE` entry for `record` against `history` as it stands."""
    prior = global_rate(history)

    def rate(kind: str, key: str) -> float:
        tally = history.tally(kind, key)
        return smoothed_rate(tally.non_compliant, tally.labelled, prior, weight=prior_weight)

    features: dict[str, FeatureValue] = {}
    for role, trader in (("exporter", record.exporter), ("importer", record.importer)):
        if trader is None:
            features[f"{role}_declarations"] = None
            features[f"{role}_first_seen_days"] = None
            features[f"{role}_non_compliance_rate"] = None
            features[f"new_{role}"] = None
            continue
        first = history.first_seen.get(trader)
        features[f"{role}_declarations"] = history.tally(role, trader).declarations
        features[f"{role}_first_seen_days"] = (
            None if first is None else max((record.declared_on - first).days, 0)
        )
        features[f"{role}_non_compliance_rate"] = rate(role, trader)
        features[f"new_{role}"] = first is None

    features["new_route"] = history.tally("route", record.route).declarations == 0
    traders = [t for t in (record.exporter, record.importer) if t is not None]
    features["new_species_for_trader"] = (
        None
        if not traders
        else any(
            line.species not in history.trader_species.get(trader, ())
            for line in record.lines
            for trader in traders
        )
    )
    species_counts = [history.tally("species", line.species).declarations for line in record.lines]
    features["new_species"] = min(species_counts) == 0
    features["species_declarations"] = min(species_counts)

    rates = dict.fromkeys(_RATE_FEATURES.values(), 0.0)
    largest_z: float | None = None
    extreme_ratio: float | None = None
    total_value: float | None = None
    for line in record.lines:
        for kind, key in line_keys(record, line).items():
            name = _RATE_FEATURES.get(kind)
            if name is not None:
                rates[name] = max(rates[name], rate(kind, key))
        stats_key = statistics_key(record, line)
        quantity = float(line.quantity)
        quantity_stats = history.quantities.get(stats_key)
        spread = quantity_stats.median_and_spread() if quantity_stats is not None else None
        if spread is not None:
            z = min(abs(math.log(quantity) - spread[0]) / spread[1], MAX_ZSCORE)
            largest_z = z if largest_z is None else max(largest_z, z)
        value = line.value_usd
        if value is not None:
            total_value = (total_value or 0.0) + float(value)
            value_stats = history.unit_values.get(stats_key)
            centre = value_stats.median_and_spread() if value_stats is not None else None
            if centre is not None and value > 0:
                log_ratio = math.log(float(value) / quantity) - centre[0]
                if extreme_ratio is None or abs(log_ratio) > abs(math.log(extreme_ratio)):
                    extreme_ratio = math.exp(log_ratio)
    features.update(rates)
    features["quantity_zscore"] = largest_z
    features["unit_value_ratio"] = extreme_ratio
    features["lines"] = len(record.lines)
    features["total_value_usd"] = total_value
    assert features.keys() == FEATURE_CATALOGUE.keys(), "the catalogue and the code disagree"
    return features


class TradeHistoryFeatures:
    """The `FeatureSource` of the trade history (the permit findings are not read here:
    they reach the score as their own reasons)."""

    def __init__(self, history: TradeHistory, *, prior_weight: float = PRIOR_WEIGHT) -> None:
        self.history = history
        self.prior_weight = prior_weight

    def features_for(self, declaration: Declaration, findings: Sequence[Finding]) -> Features:
        return compute_features(
            self.history, TradeRecord.from_declaration(declaration), prior_weight=self.prior_weight
        )
