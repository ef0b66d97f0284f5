"""Scientific and common name matching against the CITES checklist (see `index`)."""

from species_ref.matching.index import Candidate, MatchResult, MatchType, NameIndex
from species_ref.matching.names import (
    NamedTaxon,
    NameRecord,
    fold,
    normalise,
    records_from_checklist,
)

__all__ = [
    "Candidate",
    "MatchResult",
    "MatchType",
    "NameIndex",
    "NameRecord",
    "NamedTaxon",
    "fold",
    "normalise",
    "records_from_checklist",
]
