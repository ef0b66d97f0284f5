"""Matching people and companies across languages and scripts (names, country, birth date,
identifiers), with an explanation per feature: intel-share's `intel.rpc.match`, reusable by
risk-score for watchlist hits. Pure: no I/O."""

from pangolin_core.matching.index import EntityIndex, IndexedEntity, Visible
from pangolin_core.matching.names import load_taggers

__all__ = ["EntityIndex", "IndexedEntity", "Visible", "load_taggers"]
