"""Comparing two person or company names, after nomenklatura's `logic-v2` name matcher.

rigour does the linguistics: `analyze_names` parses a name into parts, transliterates them to a
comparable ASCII form (Latin with diacritics, Cyrillic, Greek ...), rewrites company forms to
one spelling ("Co., Ltd." and "Company Limited" both carry the `LLC` org class) and tags known
given names, symbols and org classes; `pair_symbols` aligns the parts two names share a symbol
on; `compare_parts` scores what is left by a typo-tolerant edit cost; `align_person_name_order`
pairs person-name parts in any order ("Hung Nguyen Van"). The weights below are nomenklatura's
(4.17, `nomenklatura/matching/logic_v2/names/`), copied rather than imported: nomenklatura and
followthemoney pull ~450 MB (duckdb, scipy, scikit-learn) for these few lines of policy.

Scripts rigour does not transliterate (Han, Arabic ...) are also given in ASCII through ICU
(`rigour.text.ascii_text`): 张伟 is also compared as "zhang wei".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from rigour.names import (
    Alignment,
    CompareConfig,
    Name,
    NamePart,
    NamePartTag,
    NameTypeTag,
    Symbol,
    align_person_name_order,
    analyze_names,
    compare_parts,
    pair_symbols,
)
from rigour.text.translit import ascii_text, maybe_ascii

# Score of a part pair aligned by a shared symbol (e.g. two spellings of one given name).
_SYMBOL_SCORES = {
    Symbol.Category.ORG_CLASS: 0.8,
    Symbol.Category.INITIAL: 0.9,
    Symbol.Category.NAME: 0.9,
    Symbol.Category.NICK: 0.6,
    Symbol.Category.SYMBOL: 0.9,
    Symbol.Category.DOMAIN: 0.9,
    Symbol.Category.NUMERIC: 0.9,
    Symbol.Category.LOCATION: 0.9,
}
# Weight of such a pair: "Trading" or "Company" shared says less than a distinctive word.
_SYMBOL_WEIGHTS = {
    Symbol.Category.ORG_CLASS: 0.7,
    Symbol.Category.INITIAL: 0.5,
    Symbol.Category.NICK: 0.8,
    Symbol.Category.SYMBOL: 0.3,
    Symbol.Category.DOMAIN: 0.7,
    Symbol.Category.NUMERIC: 1.3,
    Symbol.Category.LOCATION: 0.8,
}
# Weight of a part found on one side only, by what it is ("Siemens AG" vs "Siemens").
_EXTRA_WEIGHTS = {
    Symbol.Category.ORG_CLASS: 0.7,
    Symbol.Category.SYMBOL: 0.7,
    Symbol.Category.NUMERIC: 1.3,
    Symbol.Category.LOCATION: 0.8,
}
# A query part the entity lacks counts more than an entity part the query lacks: an entity's
# full name may hold more than the few words an officer types. nomenklatura gives the latter
# 0.2 (sanctions screening of short names); here a query is usually a full name read off a
# declaration, and 0.5 halved the near-homonyms answered in bench/intel.py ("Le Minh Quan"
# for "Lê Quang Minh Bình") at no cost in recall.
_EXTRA_QUERY_WEIGHT = 0.8
_EXTRA_RESULT_WEIGHT = 0.5
_STOPWORD_WEIGHT = 0.7
_FAMILY_NAME_WEIGHT = 1.3
_COMPARE = CompareConfig()


def type_tag(kind: str) -> NameTypeTag:
    """rigour's name type for an entity kind: people and companies get their own rules."""
    if kind == "person":
        return NameTypeTag.PER
    if kind == "company":
        return NameTypeTag.ORG
    return NameTypeTag.ENT


class AnalysedName(NamedTuple):
    name: Name
    source: str  # the name as given (an ASCII form points back to its original script)


@lru_cache(maxsize=65536)
def _ascii_form(name: str) -> str | None:
    """The ICU ASCII form of a name in a script rigour does not transliterate, else None."""
    if maybe_ascii(name).isascii():
        return None
    return ascii_text(name)


def _forms(names: Iterable[str]) -> tuple[list[str], dict[str, str]]:
    raw: list[str] = []
    source: dict[str, str] = {}
    for name in names:
        raw.append(name)
        source.setdefault(name, name)
        ascii_form = _ascii_form(name)
        if ascii_form:
            raw.append(ascii_form)
            source.setdefault(ascii_form, name)
    return raw, source


def analyze(kind: str, names: Iterable[str], *, is_query: bool = False) -> tuple[AnalysedName, ...]:
    """Parse `names` (a primary name and its aliases) for comparison, primary first.

    A name in a script rigour leaves as it is (Han, Arabic ...) also gets its ICU ASCII form."""
    raw, source = _forms(names)
    # `consolidate=False` keeps "John Smith" next to "John K Smith" (rigour's advice for both
    # an index and a query with aliases); initials are a query-side notion.
    analysed = analyze_names(type_tag(kind), raw, consolidate=False, infer_initials=is_query)
    # A set comes back: order by the input so the primary name wins ties in the explanation.
    position = {name: n for n, name in enumerate(raw)}
    ordered = sorted(analysed, key=lambda name: position.get(name.original, len(raw)))
    return tuple(AnalysedName(name, source.get(name.original, name.original)) for name in ordered)


@lru_cache(maxsize=1)
def load_taggers() -> None:
    """Load rigour's person and company name taggers (5-15 s, once per process), so the first
    query does not pay for them."""
    for tag in (NameTypeTag.PER, NameTypeTag.ORG):
        analyze_names(tag, ["Warm Up"], consolidate=False)


def parts_of(kind: str, names: Iterable[str]) -> list[list[NamePart]]:
    """The parts of each name, without the symbol tagging: what blocking keys are made of,
    at a fifth of the cost of `analyze` (and none of the memory kept)."""
    raw, _source = _forms(names)
    analysed = analyze_names(type_tag(kind), raw, consolidate=False, symbols=False)
    return [list(name.parts) for name in analysed]


@dataclass(frozen=True, slots=True)
class NameScore:
    """The best pairing of a query name with one of an entity's names."""

    score: float
    query: str
    matched: str
    detail: str


def _extra_weights(name: Name) -> dict[tuple[NamePart, ...], float]:
    weights: dict[tuple[NamePart, ...], float] = {}
    for span in name.spans:
        weight = _EXTRA_WEIGHTS.get(span.symbol.category, 1.0)
        if weight != 1.0:
            weights[span.parts] = weights.get(span.parts, 1.0) * weight
    return weights


def _extra_weight(parts: Sequence[NamePart], weights: dict[tuple[NamePart, ...], float]) -> float:
    if len(parts) == 1 and parts[0].tag == NamePartTag.STOP:
        return 0.5
    return weights.get(tuple(parts), 1.0)


def _is_family(alignment: Alignment) -> bool:
    return any(p.tag == NamePartTag.FAMILY for p in (*alignment.qps, *alignment.rps))


def _is_stop(parts: Sequence[NamePart]) -> bool:
    return len(parts) == 1 and parts[0].tag == NamePartTag.STOP


def _compare(query: Name, result: Name) -> tuple[float, list[Alignment]]:
    """Score one name pair: the best of rigour's symbol pairings, each completed by the
    fuzzy comparison of the parts no symbol explained."""
    best, best_alignments = 0.0, []
    query_extras, result_extras = _extra_weights(query), _extra_weights(result)
    # Family-name tags come from structured input (part tags) or the tagger: often none.
    tagged_family = any(p.tag == NamePartTag.FAMILY for p in (*query.parts, *result.parts))
    pairings = pair_symbols(query, result)
    # Symbols can mislead: rigour ties "xuan" and "hoang" to one name, and a pairing on that
    # leaves "Hoàng Xuân Bình" short of itself written "Binh Hoang Xuan". For people, the
    # pairing on no symbol (order-free fuzzy comparison of every part) is a candidate too;
    # not for companies, where it would weigh generic words ("Trading") in full.
    if NameTypeTag.PER in (query.tag, result.tag) and () not in pairings:
        pairings.append(())
    for edges in pairings:
        alignments: list[Alignment] = []
        for edge in edges:
            category = edge.symbol.category if edge.symbol is not None else None
            edge.score = _SYMBOL_SCORES.get(category, 1.0) if category else 1.0
            edge.weight = _SYMBOL_WEIGHTS.get(category, 1.0) if category else 1.0
            alignments.append(edge)
        query_used = {p for edge in edges for p in edge.qps}
        result_used = {p for edge in edges for p in edge.rps}
        query_rest = [p for p in query.parts if p not in query_used]
        result_rest = [p for p in result.parts if p not in result_used]
        if query_rest or result_rest:
            if NameTypeTag.PER in (query.tag, result.tag):
                query_rest, result_rest = align_person_name_order(query_rest, result_rest)
            else:
                query_rest = NamePart.tag_sort(query_rest)
                result_rest = NamePart.tag_sort(result_rest)
            alignments.extend(compare_parts(query_rest, result_rest, config=_COMPARE))
        for alignment in alignments:
            if not alignment.qps:
                alignment.weight = _EXTRA_RESULT_WEIGHT * _extra_weight(
                    alignment.rps, result_extras
                )
            elif not alignment.rps:
                alignment.weight = _EXTRA_QUERY_WEIGHT * _extra_weight(alignment.qps, query_extras)
            if _is_stop(alignment.qps) or _is_stop(alignment.rps):
                alignment.weight *= _STOPWORD_WEIGHT
            if alignment.qps and alignment.rps and alignment.qstr == alignment.rstr:
                alignment.score = 1.0
            if tagged_family and _is_family(alignment):
                alignment.weight *= _FAMILY_NAME_WEIGHT
        total_weight = sum(a.weight for a in alignments)
        score = sum(a.score * a.weight for a in alignments) / total_weight if total_weight else 0
        if score > best:
            best, best_alignments = score, alignments
            if score >= 1.0:
                break
    return best, best_alignments


_SYMBOL_WORDS = {
    Symbol.Category.NAME: "spellings of one name",
    Symbol.Category.ORG_CLASS: "same legal form",
    Symbol.Category.SYMBOL: "same term",
    Symbol.Category.DOMAIN: "same sector",
    Symbol.Category.INITIAL: "initial",
    Symbol.Category.NICK: "nickname",
    Symbol.Category.NUMERIC: "same number",
    Symbol.Category.LOCATION: "same place",
}


def _explain(alignment: Alignment) -> str:
    if alignment.symbol is not None:
        why = _SYMBOL_WORDS.get(alignment.symbol.category, "same symbol")
        how = f"{alignment.qstr}≈{alignment.rstr} ({why})"
    elif not alignment.qstr:
        how = f"+{alignment.rstr} not in query"
    elif not alignment.rstr:
        how = f"-{alignment.qstr} not in entity"
    elif alignment.qstr == alignment.rstr:
        how = alignment.rstr
    else:
        how = f"{alignment.qstr}≈{alignment.rstr}"
    return f"{how} {alignment.score:.2f}"


def best_name_match(
    query_names: Sequence[AnalysedName],
    entity_names: Sequence[AnalysedName],
    *,
    floor: float = 0.0,
) -> NameScore | None:
    """The best (query name, entity name) pair, or None when none scores above `floor`."""
    best: NameScore | None = None
    best_alignments: list[Alignment] = []
    for query, query_source in query_names:
        for name, source in entity_names:
            if query.comparable == name.comparable:
                return NameScore(1.0, query_source, source, "same name once normalised")
            score, alignments = _compare(query, name)
            if score > floor and (best is None or score > best.score):
                best = NameScore(score, query_source, source, "")
                best_alignments = alignments
    if best is None:
        return None
    detail = "; ".join(_explain(a) for a in best_alignments)
    return NameScore(best.score, best.query, best.matched, detail)
