"""The in-memory trade history: per trader, route, species and code what was seen and what
the inspections found, and robust quantity / unit-value statistics per taxon, term, unit and
origin. Every feature is a handful of dict lookups; nothing here touches the database.

It is loaded from the stored lines at start, then kept current as declarations are
assessed (`add_declaration`) and outcomes arrive (`add_outcome`). Pure and synchronous: the
service, the training replay and the benchmark drive the same object.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from risk_score.history.schemas import TradeLine, TradeRecord

# The categorical histories that get a smoothed non-compliance rate. A declaration's keys
# under each kind are deduplicated: a count is "declarations with this key".
CATEGORY_KINDS = (
    "exporter",
    "importer",
    "route",
    "species",
    "origin",
    "export_country",
    "office",
    "term",
    "purpose",
    "source",
    "species_term",
    "trade_profile",
    "office_route",
)
# Statistics need this many past values of the same taxon / term / unit / origin.
MIN_STATISTICS = 5
# Only the most recent values count: trade changes, and the window bounds memory and time.
STATISTICS_WINDOW = 256
# A robust spread never below this (log units): identical past quantities would otherwise
# make any difference infinitely surprising.
MIN_SPREAD = 0.05
MAD_TO_SIGMA = 1.4826


def line_keys(record: TradeRecord, line: TradeLine) -> dict[str, str]:
    """The category keys of one line (declaration-level ones included)."""
    keys = {
        "route": record.route,
        "species": line.species,
        "origin": record.origin_country or record.export_country or "?",
        "export_country": record.export_country or "?",
        "office": record.office,
        "term": line.term,
        "purpose": line.purpose,
        "source": line.source,
        "species_term": f"{line.species}|{line.term}",
        "trade_profile": f"{line.purpose}|{line.source}|{line.term}|{line.unit or ''}",
        "office_route": f"{record.office}|{record.export_country or '?'}",
    }
    if record.exporter is not None:
        keys["exporter"] = record.exporter
    if record.importer is not None:
        keys["importer"] = record.importer
    return keys


def statistics_key(record: TradeRecord, line: TradeLine) -> tuple[str, str, str, str]:
    return (line.species, line.term, line.unit or "", record.origin_country or "?")


class RobustStatistics:
    """Median and MAD of the last `STATISTICS_WINDOW` values (log scale), cached until the
    next value arrives."""

    __slots__ = ("_cache", "_recent", "_sorted")

    def __init__(self) -> None:
        self._recent: deque[float] = deque()
        self._sorted: list[float] = []
        self._cache: tuple[float, float] | None = None

    def __len__(self) -> int:
        return len(self._sorted)

    def add(self, value: float) -> None:
        self._recent.append(value)
        bisect.insort(self._sorted, value)
        if len(self._recent) > STATISTICS_WINDOW:
            old = self._recent.popleft()
            del self._sorted[bisect.bisect_left(self._sorted, old)]
        self._cache = None

    def median_and_spread(self) -> tuple[float, float] | None:
        """(median, robust sigma) or None without `MIN_STATISTICS` values."""
        if len(self._sorted) < MIN_STATISTICS:
            return None
        if self._cache is None:
            median = _median(self._sorted)
            mad = _median(sorted(abs(v - median) for v in self._sorted))
            self._cache = (median, max(mad * MAD_TO_SIGMA, MIN_SPREAD))
        return self._cache


def _median(values: list[float]) -> float:
    n = len(values)
    mid = n // 2
    return values[mid] if n % 2 else (values[mid - 1] + values[mid]) / 2


@dataclass
class Tally:
    declarations: int = 0
    labelled: int = 0
    non_compliant: int = 0


@dataclass
class _Seen:
    keys: frozenset[tuple[str, str]]
    label: bool | None = None
    # When the outcome behind `label` was recorded: a replica's refresh may read an outcome
    # that this replica's own later one has already replaced in memory.
    label_recorded_at: datetime | None = None


@dataclass
class TradeHistory:
    """What the features read. `add_declaration` before `add_outcome`; both idempotent."""

    tallies: dict[tuple[str, str], Tally] = field(default_factory=lambda: defaultdict(Tally))
    labelled: int = 0
    non_compliant: int = 0
    first_seen: dict[str, date] = field(default_factory=dict)
    trader_species: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    quantities: dict[tuple[str, str, str, str], RobustStatistics] = field(
        default_factory=lambda: defaultdict(RobustStatistics)
    )
    unit_values: dict[tuple[str, str, str, str], RobustStatistics] = field(
        default_factory=lambda: defaultdict(RobustStatistics)
    )
    _seen: dict[str, _Seen] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self._seen)

    def knows(self, declaration_id: str) -> bool:
        return declaration_id in self._seen

    def tally(self, kind: str, key: str) -> Tally:
        # `get`, not `[]`: reading must not grow the defaultdict.
        return self.tallies.get((kind, key)) or _EMPTY

    def see_trader(self, key: str | None, on: date) -> None:
        """A trader was seen (a permit named it, or a declaration): keep the earliest date."""
        if key is None:
            return
        known = self.first_seen.get(key)
        if known is None or on < known:
            self.first_seen[key] = on

    def add_declaration(self, record: TradeRecord) -> bool:
        """Count a declaration (once: a declaration assessed again is not counted twice)."""
        if record.declaration_id in self._seen:
            return False
        keys = frozenset(
            (kind, key) for line in record.lines for kind, key in line_keys(record, line).items()
        )
        for kind_key in keys:
            self.tallies[kind_key].declarations += 1
        for trader in (record.exporter, record.importer):
            if trader is not None:
                self.see_trader(trader, record.declared_on)
                self.trader_species[trader].update(line.species for line in record.lines)
        for line in record.lines:
            stats_key = statistics_key(record, line)
            quantity = float(line.quantity)
            self.quantities[stats_key].add(math.log(quantity))
            value = line.value_usd
            if value is not None and value > 0:
                self.unit_values[stats_key].add(math.log(float(value) / quantity))
        self._seen[record.declaration_id] = _Seen(keys)
        return True

    def add_outcome(
        self, declaration_id: str, *, non_compliant: bool, recorded_at: datetime | None = None
    ) -> bool:
        """Label a declaration already added; a corrected outcome replaces the earlier one,
        never one recorded after it (`recorded_at`, when known). Returns False for a
        declaration the history does not know."""
        seen = self._seen.get(declaration_id)
        if seen is None:
            return False
        if recorded_at is not None:
            if recorded_at.tzinfo is None:  # SQLite gives back naive UTC times
                recorded_at = recorded_at.replace(tzinfo=UTC)
            if seen.label_recorded_at is not None and recorded_at < seen.label_recorded_at:
                return True
            seen.label_recorded_at = recorded_at
        if seen.label is not None:
            self._count(seen, seen.label, -1)
        seen.label = non_compliant
        self._count(seen, non_compliant, +1)
        return True

    def _count(self, seen: _Seen, non_compliant: bool, step: int) -> None:
        bad = step if non_compliant else 0
        self.labelled += step
        self.non_compliant += bad
        for kind_key in seen.keys:
            tally = self.tallies[kind_key]
            tally.labelled += step
            tally.non_compliant += bad

    def replay(self, records: Iterable[tuple[TradeRecord, bool | None]]) -> None:
        for record, label in records:
            self.add_declaration(record)
            if label is not None:
                self.add_outcome(record.declaration_id, non_compliant=label)


_EMPTY = Tally()
