"""In-memory name index: exact, synonym, common-name, fuzzy and higher-rank matching.

Modelled on GBIF's species match (matchType EXACT / FUZZY / HIGHERRANK / NONE with a
confidence), over the names of the CITES checklist. A query is tried, in order:

1. Exact: its `fold` form against every name, then its `normalise` form against the
   scientific names. Accepted names win over synonyms, synonyms over common names. One
   target taxon gives EXACT (100), SYNONYM (100) or COMMON_NAME (95); several give AMBIGUOUS
   with one alternative each. Without filters the answer for every name is computed at build
   time, so an exact match is two dictionary lookups.
2. Fuzzy. Candidates are the scientific names of the query's genus, the names with the
   query's epithet(s) under any genus, and the names of genera one edit from the query's
   genus (a deletion-variant index, as in SymSpell), each pool cut to names within
   `MAX_EDITS` characters of the query's length. When none is within `MAX_EDITS` (an error in
   the space between the words, a common name, a name with no such genus or epithet), the
   fallback is every name of about the query's length that shares the most character
   trigrams with it (`TRIGRAM_POOL`, ties included). Candidates are scored with the
   optimal-string-alignment distance (a swap of neighbours is one edit) in C by rapidfuzz,
   and dropped when one of their words would have lost more than a third of its letters
   ("Bufo japonicus" is not a typo of "Buteo japonicus"). The best target taxon is taken
   by (distance, accepted before synonym before common name, Indel similarity); a tie on all
   three is AMBIGUOUS. FUZZY needs a distance of at most `MAX_EDITS` and a similarity
   1 - distance / length of at least `MIN_FUZZY_SIMILARITY`; the confidence is that
   similarity in percent (at most 99), less `CLOSE_RUNNER_UP_PENALTY` when another taxon is
   as close.
3. Higher rank: the longest leading part of the name that is an accepted name or synonym
   ("python" of "Python foobaricus", "python molurus" of "Python molurus foo") gives
   HIGHER_RANK with that taxon (rank GENUS, or SPECIES for a trinomial). A HIGHER_RANK
   result names the higher taxon only; the closest names inside it are alternatives, never
   the match. A misspelt genus gives no higher rank: one edit turns many real genera into
   CITES ones ("Bufo" toads into "Bubo" owls, "Theloderma" frogs into "Heloderma").
4. NONE, confidence 0.

`kingdom` and `rank` keep only target taxa of that kingdom and rank, at every step.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from species_ref.matching.names import NameRecord, fold, normalise

MAX_EDITS: Final = 2
MIN_FUZZY_SIMILARITY: Final = 0.8
CLOSE_RUNNER_UP_PENALTY: Final = 15
SYNONYM_CONFIDENCE: Final = 100
COMMON_NAME_CONFIDENCE: Final = 95
HIGHER_RANK_CONFIDENCE: Final = 90
MAX_ALTERNATIVES: Final = 5
TRIGRAM_POOL: Final = 64

_KIND_ORDER: Final = {"accepted": 0, "synonym": 1, "common": 2}


class MatchType(StrEnum):
    EXACT = "EXACT"
    SYNONYM = "SYNONYM"
    COMMON_NAME = "COMMON_NAME"
    FUZZY = "FUZZY"
    HIGHER_RANK = "HIGHER_RANK"
    AMBIGUOUS = "AMBIGUOUS"
    NONE = "NONE"


_EXACT_TYPES: Final = {
    "accepted": (MatchType.EXACT, 100),
    "synonym": (MatchType.SYNONYM, SYNONYM_CONFIDENCE),
    "common": (MatchType.COMMON_NAME, COMMON_NAME_CONFIDENCE),
}


@dataclass(frozen=True, slots=True)
class Candidate:
    """A taxon the query may mean: `name` is its accepted name, `kind` the kind of name the
    query reached it through, `score` a similarity in percent."""

    taxon_id: int
    name: str
    rank: str
    kind: str
    score: float


@dataclass(frozen=True, slots=True)
class MatchResult:
    """`taxon_id` is the accepted taxon (None for NONE and AMBIGUOUS); `matched_name` the
    reference name the query matched (an accepted name, synonym, common name, or the higher
    taxon's name); `rank` the rank of `taxon_id`; `confidence` 0-100."""

    query: str
    match_type: MatchType
    confidence: int
    taxon_id: int | None
    matched_name: str | None
    rank: str | None
    alternatives: tuple[Candidate, ...] = ()


# A MatchResult without its query: what an exact name resolves to, computed once.
_Answer = tuple[MatchType, int, int | None, str | None, str | None, tuple[Candidate, ...]]


@dataclass(frozen=True, slots=True)
class _Scope:
    """The `kingdom` / `rank` filter of one `match` call (casefolded / upper-cased)."""

    kingdom: str | None = None
    rank: str | None = None

    @property
    def is_open(self) -> bool:
        return self.kingdom is None and self.rank is None

    def allows(self, record: NameRecord) -> bool:
        return (self.kingdom is None or record.kingdom.casefold() == self.kingdom) and (
            self.rank is None or record.rank.upper() == self.rank
        )


_OPEN: Final = _Scope()


@dataclass(frozen=True, slots=True)
class _Hit:
    """A target taxon reached through one reference name, and how close that name is."""

    distance: int
    kind_order: int
    similarity: float  # rapidfuzz Indel ratio, 0-100: the tie-break between equal distances
    closeness: float  # 1 - distance / the longer length
    record: NameRecord
    taxon_id: int

    def order(self) -> tuple[int, int, float]:
        return (self.distance, self.kind_order, -self.similarity)


class _NamesByLength:
    """Names sorted by length, to take those within `MAX_EDITS` of a query's length."""

    __slots__ = ("_lengths", "_names")

    def __init__(self, names: Iterable[str]) -> None:
        self._names = sorted(names, key=len)
        self._lengths = [len(name) for name in self._names]

    def near(self, length: int) -> list[str]:
        low = bisect_left(self._lengths, length - MAX_EDITS)
        return self._names[low : bisect_right(self._lengths, length + MAX_EDITS, lo=low)]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)


class NameIndex:
    """Build once from `NameRecord`s (`NameIndex.build`), then `match` names; read-only."""

    def __init__(self, records: Sequence[NameRecord]) -> None:
        scientific: dict[str, list[NameRecord]] = {}
        common: dict[str, list[NameRecord]] = {}
        self._accepted: dict[int, NameRecord] = {}
        for record in records:
            if record.kind == "common":
                common.setdefault(fold(record.name), []).append(record)
            else:
                scientific.setdefault(normalise(record.name), []).append(record)
                if record.kind == "accepted":
                    self._accepted.setdefault(record.taxon_id, record)
        scientific.pop("", None)
        common.pop("", None)
        self._scientific = {key: tuple(group) for key, group in scientific.items()}
        self._common = {key: tuple(group) for key, group in common.items()}
        self._answers: dict[str, _Answer] = {}
        for key in {*self._scientific, *self._common}:
            answer = self._exact_answer(self._names(key), _OPEN)
            if answer is not None:
                self._answers[key] = answer

        by_genus: dict[str, list[str]] = {}
        by_epithets: dict[str, list[str]] = {}
        for key in self._scientific:
            genus, _, epithets = key.partition(" ")
            by_genus.setdefault(genus, []).append(key)
            if epithets:
                by_epithets.setdefault(epithets, []).append(key)
        self._by_genus = {genus: _NamesByLength(keys) for genus, keys in by_genus.items()}
        self._by_epithets = {rest: _NamesByLength(keys) for rest, keys in by_epithets.items()}
        self._genus_variants: dict[str, list[str]] = {}
        for genus in by_genus:
            for variant in _deletion_variants(genus):
                self._genus_variants.setdefault(variant, []).append(genus)

        # The fallback: every name, sorted by length, and trigram -> positions posting lists.
        self._all_names = sorted({*self._scientific, *self._common}, key=lambda k: (len(k), k))
        self._lengths = np.array([len(name) for name in self._all_names], dtype=np.int32)
        postings: dict[str, list[int]] = {}
        for position, name in enumerate(self._all_names):
            for gram in _trigrams(name):
                postings.setdefault(gram, []).append(position)
        self._postings = {gram: np.array(ids, dtype=np.int32) for gram, ids in postings.items()}

    @classmethod
    def build(cls, records: Iterable[NameRecord]) -> NameIndex:
        return cls(tuple(records))

    def __len__(self) -> int:
        """The number of distinct normalised names."""
        return len(self._answers)

    def match(
        self, name: str, *, kingdom: str | None = None, rank: str | None = None
    ) -> MatchResult:
        folded = fold(name)
        if not folded:
            return _none(name)
        scope = _Scope(kingdom.casefold(), None) if kingdom else _OPEN
        if rank:
            scope = _Scope(scope.kingdom, rank.upper())
        key = None
        if scope.is_open:
            answer = self._answers.get(folded)
            if answer is None:
                key = normalise(name)
                if key != folded and key in self._scientific:
                    answer = self._answers.get(key)
        else:
            answer = self._exact_answer(self._names(folded), scope)
            if answer is None:
                key = normalise(name)
                if key != folded:
                    answer = self._exact_answer(self._scientific.get(key, ()), scope)
        if answer is not None:
            return MatchResult(name, *answer)
        key = key or normalise(name) or folded
        return self._fuzzy(name, key, folded, scope) or self._higher_rank(name, key, scope)

    def match_many(
        self, names: Sequence[str], *, kingdom: str | None = None, rank: str | None = None
    ) -> list[MatchResult]:
        """`match` for each name, in order; a name repeated in the batch is matched once."""
        results: dict[str, MatchResult] = {}
        for name in names:
            if name not in results:
                results[name] = self.match(name, kingdom=kingdom, rank=rank)
        return [results[name] for name in names]

    # --- exact ---------------------------------------------------------------------------

    def _names(self, key: str) -> tuple[NameRecord, ...]:
        return self._scientific.get(key, ()) + self._common.get(key, ())

    def _exact_answer(self, records: Sequence[NameRecord], scope: _Scope) -> _Answer | None:
        for kind in ("accepted", "synonym", "common"):
            targets = self._targets((r for r in records if r.kind == kind), scope)
            if len(targets) > 1:
                alternatives = tuple(
                    self._candidate(taxon_id, kind, 100.0)
                    for taxon_id in list(targets)[:MAX_ALTERNATIVES]
                )
                return (MatchType.AMBIGUOUS, 100 // len(targets), None, None, None, alternatives)
            if targets:
                ((taxon_id, record),) = targets.items()
                match_type, confidence = _EXACT_TYPES[kind]
                return (match_type, confidence, taxon_id, record.name, self._rank_of(taxon_id), ())
        return None

    def _targets(self, records: Iterable[NameRecord], scope: _Scope) -> dict[int, NameRecord]:
        """Accepted taxon id -> the name record that leads to it, within `scope`."""
        targets: dict[int, NameRecord] = {}
        for record in records:
            for taxon_id in record.accepted_ids:
                if taxon_id not in targets and scope.allows(self._accepted.get(taxon_id, record)):
                    targets[taxon_id] = record
        return targets

    # --- fuzzy ---------------------------------------------------------------------------

    def _fuzzy(self, query: str, key: str, folded: str, scope: _Scope) -> MatchResult | None:
        hits = self._hits(key, self._near_scientific_names(key), scope)
        if not hits:
            for form in dict.fromkeys((folded, key)):
                hits = self._hits(form, self._near_names_by_trigrams(form), scope)
                if hits:
                    break
        if not hits:
            return None
        ranked = sorted(hits, key=_Hit.order)
        best = ranked[0]
        if best.closeness < MIN_FUZZY_SIMILARITY:
            return None
        tied = [hit for hit in ranked if hit.order() == best.order()]
        if len(tied) > 1:
            return MatchResult(
                query,
                MatchType.AMBIGUOUS,
                100 // len(tied),
                None,
                None,
                None,
                tuple(self._hit_candidate(hit) for hit in ranked[:MAX_ALTERNATIVES]),
            )
        confidence = min(99, round(100 * best.closeness))
        if len(ranked) > 1 and ranked[1].distance == best.distance:
            confidence -= CLOSE_RUNNER_UP_PENALTY
        return MatchResult(
            query,
            MatchType.FUZZY,
            confidence,
            best.taxon_id,
            best.record.name,
            self._rank_of(best.taxon_id),
            tuple(self._hit_candidate(hit) for hit in ranked[1:MAX_ALTERNATIVES]),
        )

    def _near_scientific_names(self, key: str) -> dict[str, int]:
        """Scientific names within `MAX_EDITS` that share the genus or the epithets of `key`,
        or whose genus is one edit from it."""
        genus, _, epithets = key.partition(" ")
        if not epithets:  # a uninomial: the similar genera (and families, orders) themselves
            return {
                name: OSA.distance(key, name)
                for name in self._similar_genera(genus)
                if name != key and name in self._scientific
            }
        pools = [self._by_genus.get(genus), self._by_epithets.get(epithets)]
        pools += [self._by_genus[similar] for similar in self._similar_genera(genus)]
        distances: dict[str, int] = {}
        for pool in pools:
            if pool is not None:
                for name, distance, _ in process.extract(
                    key,
                    pool.near(len(key)),
                    scorer=OSA.distance,
                    score_cutoff=MAX_EDITS,
                    limit=None,
                ):
                    distances[name] = int(distance)
        return distances

    def _near_names_by_trigrams(self, form: str) -> dict[str, int]:
        """Names within `MAX_EDITS` among the names of about the same length that share the
        most trigrams with `form` (the `TRIGRAM_POOL` best, ties included)."""
        postings = [self._postings[gram] for gram in _trigrams(form) if gram in self._postings]
        if not postings:
            return {}
        low, high = np.searchsorted(
            self._lengths, [len(form) - MAX_EDITS, len(form) + MAX_EDITS + 1]
        )
        shared: npt.NDArray[np.intp] = np.bincount(
            np.concatenate(postings), minlength=len(self._all_names)
        )[low:high]
        # The highest trigram count that at least TRIGRAM_POOL names reach; from a histogram,
        # because argpartition is pathologically slow on this many equal values.
        reaching = np.cumsum(np.bincount(shared)[::-1])[::-1]
        cutoff = max(1, int(np.flatnonzero(reaching >= TRIGRAM_POOL).max(initial=0)))
        pool = [self._all_names[low + position] for position in np.flatnonzero(shared >= cutoff)]
        return {
            name: int(distance)
            for name, distance, _ in process.extract(
                form, pool, scorer=OSA.distance, score_cutoff=MAX_EDITS, limit=None
            )
        }

    def _similar_genera(self, genus: str) -> list[str]:
        """First words of names one edit from `genus` (not `genus` itself)."""
        found: dict[str, None] = {}
        for variant in _deletion_variants(genus):
            for similar in self._genus_variants.get(variant, ()):
                if similar != genus and OSA.distance(genus, similar, score_cutoff=1) <= 1:
                    found[similar] = None
        return list(found)

    def _hits(self, form: str, distances: dict[str, int], scope: _Scope) -> list[_Hit]:
        """The best hit per target taxon among names at `distances` from `form`."""
        best: dict[int, _Hit] = {}
        for name, distance in distances.items():
            if not _plausible_typo(form, name):
                continue
            similarity = fuzz.ratio(form, name)
            closeness = 1 - distance / max(len(form), len(name))
            for record in self._names(name):
                for taxon_id in record.accepted_ids:
                    if not scope.allows(self._accepted.get(taxon_id, record)):
                        continue
                    hit = _Hit(
                        distance, _KIND_ORDER[record.kind], similarity, closeness, record, taxon_id
                    )
                    if taxon_id not in best or hit.order() < best[taxon_id].order():
                        best[taxon_id] = hit
        return list(best.values())

    # --- higher rank ---------------------------------------------------------------------

    def _higher_rank(self, query: str, key: str, scope: _Scope) -> MatchResult:
        words = key.split(" ")
        for length in range(len(words) - 1, 0, -1):
            result = self._higher_taxon(query, key, " ".join(words[:length]), scope)
            if result is not None:
                return result
        return _none(query)

    def _higher_taxon(self, query: str, key: str, prefix: str, scope: _Scope) -> MatchResult | None:
        records = self._scientific.get(prefix, ())
        accepted = [record for record in records if record.kind == "accepted"]
        targets = self._targets(accepted or records, scope)
        if len(targets) != 1:
            return None
        ((taxon_id, record),) = targets.items()
        genus = self._by_genus.get(prefix.split(" ")[0])
        inside = [name for name in genus or () if name != prefix]
        closest: dict[int, Candidate] = {}
        for name, score, _ in process.extract(key, inside, scorer=fuzz.ratio, limit=8):
            for target_record in sorted(self._scientific[name], key=lambda r: _KIND_ORDER[r.kind]):
                for target in self._targets([target_record], scope):
                    closest.setdefault(
                        target, self._candidate(target, target_record.kind, round(score, 1))
                    )
        accepted_record = self._accepted.get(taxon_id, record)
        return MatchResult(
            query,
            MatchType.HIGHER_RANK,
            HIGHER_RANK_CONFIDENCE,
            taxon_id,
            accepted_record.name,
            accepted_record.rank,
            tuple(closest.values())[:3],
        )

    # --- helpers -------------------------------------------------------------------------

    def _rank_of(self, taxon_id: int) -> str | None:
        record = self._accepted.get(taxon_id)
        return record.rank if record else None

    def _candidate(self, taxon_id: int, kind: str, score: float) -> Candidate:
        record = self._accepted.get(taxon_id)
        if record is None:
            return Candidate(taxon_id, str(taxon_id), "", kind, score)
        return Candidate(taxon_id, record.name, record.rank, kind, score)

    def _hit_candidate(self, hit: _Hit) -> Candidate:
        return self._candidate(hit.taxon_id, hit.record.kind, round(hit.similarity, 1))


def _none(query: str) -> MatchResult:
    return MatchResult(query, MatchType.NONE, 0, None, None, None)


def _plausible_typo(query: str, name: str) -> bool:
    """No word of `name` lost more than a third of its letters (one edit always allowed),
    and a single-word name (a genus, family, order) is at most one edit away: with no
    epithet to back it, two edits more often make another genus ("Allobates" is a frog,
    "Allopathes" a black coral) than a typo. Names whose words do not line up (an error in
    a space) are left to the whole distance."""
    query_words = query.split(" ")
    name_words = name.split(" ")
    if len(query_words) != len(name_words):
        return True
    if len(name_words) == 1:
        return OSA.distance(query, name, score_cutoff=1) <= 1
    for typed, word in zip(query_words, name_words, strict=True):
        allowed = max(1, len(word) // 3)
        if OSA.distance(typed, word, score_cutoff=allowed) > allowed:
            return False
    return True


def _trigrams(text: str) -> set[str]:
    padded = f" {text} "
    return {padded[index : index + 3] for index in range(len(padded) - 2)}


def _deletion_variants(word: str) -> set[str]:
    return {word, *(word[:index] + word[index + 1 :] for index in range(len(word)))}
