"""The seam between scoring and what feeds it: computed features and the learned model's view.

Targeting-profile criteria name features as `features.<name>`; a name outside
`FEATURE_CATALOGUE` is refused when the profile is saved. Feature values are computed from
local read models only (no network hop on the hot path)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from pangolin_core.contracts.permits import Declaration, Finding

FeatureValue = float | int | str | bool | None
Features = Mapping[str, FeatureValue]

# name -> what it means. Over several lines, a feature takes the riskiest line's value.
# A "smoothed" rate is (non-compliant + w * prior) / (labelled + w): w is
# `service.PRIOR_WEIGHT`, prior the global non-compliance rate (Laplace-smoothed); a key
# without outcomes reads the prior.
FEATURE_CATALOGUE: Mapping[str, str] = {
    "exporter_declarations": "Declarations seen before from this exporter (0 when new, None "
    "when the declaration names no exporter)",
    "exporter_first_seen_days": "Days since the exporter was first seen in a declaration or "
    "a permit (None when new or unnamed)",
    "exporter_non_compliance_rate": "Exporter's smoothed share of non-compliant outcomes "
    "(None when unnamed)",
    "importer_declarations": "Declarations seen before for this importer (0 when new, None "
    "when the declaration names no importer)",
    "importer_first_seen_days": "Days since the importer was first seen in a declaration or "
    "a permit (None when new or unnamed)",
    "importer_non_compliance_rate": "Importer's smoothed share of non-compliant outcomes "
    "(None when unnamed)",
    "new_exporter": "The exporter was never seen before (None when unnamed)",
    "new_importer": "The importer was never seen before (None when unnamed)",
    "new_route": "Origin -> import country (through these transits) was never seen before",
    "new_species_for_trader": "A line's species was never traded by this exporter/importer "
    "(None when neither is named)",
    "new_species": "A line's species was never declared before",
    "species_declarations": "Fewest past declarations of a line's species",
    "route_non_compliance_rate": "Smoothed non-compliance of the same origin -> import route",
    "species_non_compliance_rate": "Smoothed non-compliance of the same species",
    "origin_non_compliance_rate": "Smoothed non-compliance of the same origin country",
    "export_country_non_compliance_rate": "Smoothed non-compliance of the same country of export",
    "office_non_compliance_rate": "Smoothed non-compliance at the same customs office",
    "office_route_non_compliance_rate": "Smoothed non-compliance of the same country of "
    "export at the same office",
    "term_non_compliance_rate": "Smoothed non-compliance of the same CITES term",
    "purpose_non_compliance_rate": "Smoothed non-compliance of the same purpose code",
    "source_non_compliance_rate": "Smoothed non-compliance of the same source code",
    "species_term_non_compliance_rate": "Smoothed non-compliance of the same species and term",
    "trade_profile_non_compliance_rate": "Smoothed non-compliance of the same purpose, "
    "source, term and unit",
    "quantity_zscore": "Largest absolute robust z-score (median / MAD of log quantities) of a "
    "line's quantity against the history of the same taxon / term / unit / origin (None "
    "without enough history)",
    "unit_value_ratio": "Most extreme ratio of a line's unit value to the median unit value "
    "of the same taxon / term / unit / origin (None without value in USD or history)",
    "lines": "Number of declaration lines",
    "total_value_usd": "Sum of the declared values in USD (None when no line has a value in USD)",
}


@dataclass(frozen=True)
class ModelView:
    """What the learned model thinks of a declaration."""

    model_version: str
    probability: float  # of non-compliance, 0..1
    # (feature, signed contribution) pairs, largest magnitude first: the model's reasons
    contributions: tuple[tuple[str, float], ...] = ()


class FeatureSource(Protocol):
    def features_for(self, declaration: Declaration, findings: Sequence[Finding]) -> Features: ...


class ModelScorer(Protocol):
    def view(self, features: Features) -> ModelView | None: ...
