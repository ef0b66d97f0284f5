"""An in-memory index of people and companies to match names against (intel-share's
`intel.rpc.match`, later risk-score's watchlist hits).

Two stages. Blocking: every name part yields keys (its ASCII form, its metaphone, the join of
two neighbouring parts so "ZhangWei" meets "Zhang Wei"), and every identifier its value; an
inverted index maps each key to the entities holding it. A query's keys are weighted by rarity
(IDF) and summed per entity with `numpy.bincount`; a query word no entity holds is widened to
the nearest known words with rapidfuzz (typos). Scoring: the best-ranked candidates the caller
may see are scored precisely (`names.best_name_match` plus the other features).

Not thread-safe: use it from one event loop (matching is CPU work of a few milliseconds).
"""

from __future__ import annotations

import itertools
import math
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process
from rigour.names import NamePart, NamePartTag

from pangolin_core.contracts.intel import EntityKind, EntityMatch, MatchQuery, MatchResult
from pangolin_core.matching.names import (
    AnalysedName,
    analyze,
    best_name_match,
    load_taggers,
    parts_of,
)
from pangolin_core.matching.scoring import (
    BIRTH_DATE_SAME,
    COUNTRY_AGREES,
    IDENTIFIER_SAME,
    birth_date_feature,
    compose,
    country_feature,
    identifier_feature,
    normalise_identifiers,
)

Visible = Callable[[object], bool]

# Key weights relative to a word's own: a metaphone or a fuzzy neighbour is weaker evidence.
_PHONETIC_WEIGHT = 0.5
_IDENTIFIER_WEIGHT = 4.0
_FUZZY_CUTOFF = 80.0
_FUZZY_NEIGHBOURS = 3
_FUZZY_MIN_LENGTH = 4
# A key held by more than this share of the entities is left out of the ranking when the
# query has rarer ones.
_COMMON_SHARE = 0.05
_LENGTH_NORM = 0.5
# Rebuild the postings once this share of the slots holds removed entities.
_COMPACT_RATIO = 0.5


@dataclass(frozen=True, slots=True)
class IndexedEntity:
    """A person or company as the index holds it.

    `names`: primary name first, then aliases and translated names. `access` is opaque to the
    index: it is handed to the caller's `visible` predicate (intel-share passes what its
    distribution rules need)."""

    entity_id: str
    record_id: str
    kind: EntityKind
    names: Sequence[str]
    country: str | None = None
    birth_date: date | None = None
    identifiers: Mapping[str, str] = field(default_factory=dict)
    access: object = None


@dataclass(frozen=True, slots=True)
class _Entry:
    entity: IndexedEntity
    identifiers: dict[str, str]


def _name_keys(names: Iterable[Sequence[NamePart]]) -> Iterator[tuple[str, float]]:
    """(key, weight) pairs of the parts of some names; org forms ("Ltd") make no key."""
    for name_parts in names:
        parts = [p for p in name_parts if p.tag != NamePartTag.LEGAL]
        for part in parts:
            yield "w:" + part.comparable, 1.0
            if part.metaphone and len(part.metaphone) > 1:
                yield "m:" + part.metaphone, _PHONETIC_WEIGHT
        for left, right in itertools.pairwise(parts):
            yield "w:" + left.comparable + right.comparable, 1.0


class EntityIndex:
    """People and companies by name, with incremental updates per record."""

    def __init__(
        self,
        entities: Iterable[IndexedEntity] = (),
        *,
        candidates: int = 40,
        cutoff: float = 0.5,
        analysed_cache: int = 20_000,
    ) -> None:
        """`candidates`: how many visible entities of the blocking stage are scored precisely
        per query (at least `limit`); past `limit`, only while their blocking score is at least
        `cutoff` times the best one. The full analysis of a name (rigour's symbols) takes
        ~8 KB: it is made for candidates only and the last `analysed_cache` are kept."""
        self.candidates, self.cutoff = candidates, cutoff
        self._analysed = lru_cache(maxsize=analysed_cache)(_analyse_entity_names)
        self._entries: list[_Entry | None] = []
        self._alive = bytearray()
        self._key_counts = array("d")
        self._by_record: dict[str, list[int]] = {}
        self._postings: dict[str, list[int]] = {}
        self._arrays: dict[str, npt.NDArray[np.intp]] = {}
        self._words: list[str] = []
        self._removed = 0
        for entity in entities:
            self._add(entity)

    def __len__(self) -> int:
        return len(self._entries) - self._removed

    def upsert(self, record_id: str, entities: Iterable[IndexedEntity]) -> None:
        """Replace what a record holds by `entities` (all of that record)."""
        new = list(entities)
        for entity in new:
            if entity.record_id != record_id:
                raise ValueError(f"entity {entity.entity_id} belongs to {entity.record_id}")
        self.remove(record_id)
        for entity in new:
            self._add(entity)

    def remove(self, record_id: str) -> None:
        for slot in self._by_record.pop(record_id, []):
            self._entries[slot] = None
            self._alive[slot] = 0
            self._removed += 1
        if self._removed > 1000 and self._removed > _COMPACT_RATIO * len(self._entries):
            self._compact()

    def match(self, query: MatchQuery, *, visible: Visible) -> MatchResult:
        """The entities `visible(entity.access)` lets through that score at least
        `query.threshold`, best first, at most `query.limit`."""
        if not len(self):
            return MatchResult(matches=[])
        prepared = _PreparedQuery(query, self._analysed)
        matches: list[EntityMatch] = []
        wanted = max(self.candidates, query.limit)
        for entry in self._candidates(prepared, wanted, query.limit, visible):
            found = prepared.score(entry)
            if found is not None and found.score >= query.threshold:
                matches.append(found)
        matches.sort(key=lambda m: (-m.score, m.entity_id))
        return MatchResult(matches=matches[: query.limit])

    # --- blocking ---

    def _add(self, entity: IndexedEntity) -> None:
        # With the first entity, not the first query: that one should not wait seconds.
        load_taggers()
        entry = _Entry(entity, normalise_identifiers(entity.identifiers))
        slot = len(self._entries)
        self._entries.append(entry)
        self._alive.append(1)
        self._by_record.setdefault(entity.record_id, []).append(slot)
        names = parts_of(entity.kind, entity.names)
        keys = {key for key, _weight in _name_keys(names)}
        self._key_counts.append(len(keys))
        keys.update("i:" + value for value in entry.identifiers.values())
        words = {part.comparable for parts in names for part in parts}
        for key in keys:
            posting = self._postings.get(key)
            if posting is None:
                posting = self._postings[key] = []
                # Only single words are widened to their neighbours, not joined pairs.
                if key.startswith("w:") and key[2:] in words:
                    self._words.append(key[2:])
            posting.append(slot)
            self._arrays.pop(key, None)

    def _compact(self) -> None:
        entries = [entry for entry in self._entries if entry is not None]
        self._entries, self._alive, self._by_record = [], bytearray(), {}
        self._key_counts = array("d")
        self._postings, self._arrays, self._words, self._removed = {}, {}, [], 0
        for entry in entries:
            self._add(entry.entity)

    def _array(self, key: str) -> npt.NDArray[np.intp] | None:
        array = self._arrays.get(key)
        if array is None:
            posting = self._postings.get(key)
            if not posting:
                return None
            array = self._arrays[key] = np.array(posting, dtype=np.intp)
        return array

    def _query_keys(self, prepared: _PreparedQuery) -> dict[str, float]:
        weights: dict[str, float] = {}
        for key, weight in _name_keys(prepared.all_parts()):
            word = key[2:]
            if (
                key.startswith("w:")
                and key not in self._postings
                and len(word) >= _FUZZY_MIN_LENGTH
                and self._words
            ):
                for neighbour_word, similarity, _n in process.extract(
                    word,
                    self._words,
                    scorer=fuzz.ratio,
                    limit=_FUZZY_NEIGHBOURS,
                    score_cutoff=_FUZZY_CUTOFF,
                ):
                    neighbour = "w:" + neighbour_word
                    weights[neighbour] = max(weights.get(neighbour, 0.0), similarity / 100)
            weights[key] = max(weights.get(key, 0.0), weight)
        for value in prepared.identifiers.values():
            weights["i:" + value] = _IDENTIFIER_WEIGHT
        return weights

    def _candidates(
        self, prepared: _PreparedQuery, wanted: int, minimum: int, visible: Visible
    ) -> list[_Entry]:
        """Up to `wanted` entries of the query's kind the caller may see, best blocked first;
        the visibility test comes before the cut, so hidden entities never take a place."""
        total = len(self._entries)
        if total == 0:
            return []
        alive = len(self)
        keyed = [
            (key, weight, array)
            for key, weight in self._query_keys(prepared).items()
            if (array := self._array(key)) is not None
        ]
        # A key most entities hold ("van", "thi", "trading") costs the most and tells the
        # least: leave it out when rarer keys are there to rank by.
        rare = [k for k in keyed if len(k[2]) <= _COMMON_SHARE * alive]
        arrays: list[npt.NDArray[np.intp]] = []
        weights: list[npt.NDArray[np.float64]] = []
        for _key, weight, array in rare or keyed:
            idf = math.log(1 + alive / len(array))
            arrays.append(array)
            weights.append(np.full(len(array), weight * idf))
        if not arrays:
            return []
        summed = np.bincount(np.concatenate(arrays), np.concatenate(weights), minlength=total)
        alive_slots = np.frombuffer(self._alive, dtype=np.uint8)
        # Among entities holding the same query words, prefer those with fewer others
        # (BM25's length normalisation): "Hoàng Xuân Bình" before "Hoàng Xuân Minh Bình".
        key_counts = np.frombuffer(self._key_counts, dtype=np.float64)
        lengths = (1 - _LENGTH_NORM) + _LENGTH_NORM * key_counts / max(key_counts.mean(), 1.0)
        scores = summed * alive_slots / lengths
        hits = np.flatnonzero(scores)
        # Most queries need only the best few hundred: sort those first, the rest if needed.
        head = min(len(hits), max(4 * wanted, 256))
        if head < len(hits):
            top = np.argpartition(-scores[hits], head)[:head]
            order = [hits[top[np.argsort(-scores[hits[top]], kind="stable")]]]
            rest = np.setdiff1d(hits, order[0], assume_unique=True)
            order.append(rest[np.argsort(-scores[rest], kind="stable")])
        else:
            order = [hits[np.argsort(-scores[hits], kind="stable")]]
        chosen: list[_Entry] = []
        floor: float | None = None
        for block in order:
            for slot in block.tolist():
                entry = self._entries[slot]
                if entry is None or not prepared.wants(entry.entity.kind):
                    continue
                if not visible(entry.entity.access):
                    continue
                # Once `limit` are in, stop where the blocking score falls far below the
                # best one seen: such entities share only a common word with the query.
                if floor is None:
                    floor = float(scores[slot]) * self.cutoff
                elif len(chosen) >= minimum and scores[slot] < floor:
                    return chosen
                chosen.append(entry)
                if len(chosen) >= wanted:
                    return chosen
        return chosen


_Analyser = Callable[[str, tuple[str, ...]], tuple[AnalysedName, ...]]


def _analyse_entity_names(kind: str, names: tuple[str, ...]) -> tuple[AnalysedName, ...]:
    return analyze(kind, names)


class _PreparedQuery:
    """A query analysed once, per name type it is compared under."""

    def __init__(self, query: MatchQuery, analysed: _Analyser) -> None:
        self.query = query
        self._analysed = analysed
        self.identifiers = normalise_identifiers(query.identifiers)
        self._names: dict[str, tuple[AnalysedName, ...]] = {}
        # The most the other features can add: entities whose name alone cannot reach the
        # threshold even with them are not explained.
        self._bonus = (COUNTRY_AGREES if query.country else 0.0) + (
            BIRTH_DATE_SAME if query.birth_date else 0.0
        )

    def wants(self, kind: str) -> bool:
        return self.query.kind == "any" or self.query.kind == kind

    def names(self, kind: str) -> tuple[AnalysedName, ...]:
        names = self._names.get(kind)
        if names is None:
            names = self._names[kind] = analyze(kind, [self.query.name], is_query=True)
        return names

    def all_parts(self) -> list[list[NamePart]]:
        kinds = ("person", "company") if self.query.kind == "any" else (self.query.kind,)
        return [list(n.name.parts) for kind in kinds for n in self.names(kind)]

    def score(self, entry: _Entry) -> EntityMatch | None:
        entity = entry.entity
        identifier = identifier_feature(self.identifiers, entry.identifiers, entity.identifiers)
        floor = self.query.threshold - self._bonus
        if identifier is not None and identifier[0] >= floor:
            floor = 0.0
        entity_names = self._analysed(entity.kind, tuple(entity.names))
        name = best_name_match(self.names(entity.kind), entity_names, floor=floor - 1e-9)
        if name is None and identifier is None:
            return None
        score, features = compose(
            name=name,
            identifier=identifier,
            qualifiers=[
                country_feature(self.query.country, entity.country),
                birth_date_feature(self.query.birth_date, entity.birth_date),
            ],
        )
        return EntityMatch(
            entity_id=entity.entity_id,
            record_id=entity.record_id,
            kind=entity.kind,
            name=name.matched if name is not None else entity.names[0],
            score=round(score, 4),
            features=features,
        )


__all__ = ["IDENTIFIER_SAME", "EntityIndex", "IndexedEntity", "Visible"]
