"""Which listing applies to a specimen (pure functions, no I/O).

A taxon's listing changes are reduced to the listings in force on a date; when several
appendices are in force (a split listing), the country of origin decides, using the ISO codes
the annotations name. The checklist words population rules as free text ("Popns of BT, CN, MN,
MX.", "All populations except those of BW, NA, ZA, and ZW.", "Part of the population of CO"),
so only explicit country codes decide; anything else is left undetermined with the reason,
never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

NOT_LISTED = "NC"
LISTING_CHANGES = frozenset({"addition", "deletion"})


@dataclass(frozen=True, slots=True)
class Listing:
    appendix: str  # I, II, III, NC
    change_type: str  # addition, deletion, ...
    effective_at: date | None  # None: known in force at the snapshot date
    is_current: bool
    annotation: str | None
    party: str | None = None
    hash_annotation: str | None = None  # carried for the answer; the rules ignore it
    source: str = ""


class Determination(StrEnum):
    SINGLE_LISTING = "single_listing"
    POPULATION_CODES = "population_codes"
    NOT_LISTED = "not_listed"
    COUNTRY_NEEDED = "country_needed"
    UNDETERMINED = "undetermined"


@dataclass(frozen=True, slots=True)
class Applicable:
    appendix: str | None
    determined_by: Determination
    reason: str


@dataclass(frozen=True, slots=True)
class PopulationRule:
    included: frozenset[str]  # "Populations of BW, NA" -> only these
    excluded: frozenset[str]  # "except those of BW, NA" -> all but these
    partial: frozenset[str]  # "Part of the population of CO" -> cannot decide for CO


# Codes joined by ", ", " and " or ", and " (the longest separator first: alternation is ordered).
_CODES = r"((?:\b[A-Z]{2}\b(?:\s*,\s*and\s+|\s*,\s*|\s+and\s+)?)+)"
_EXCEPT = re.compile(
    r"except\s+(?:the\s+)?(?:populations?|popns?\.?|those)\s+(?:of|in)\s+" + _CODES
)
_PART = re.compile(r"part\s+of\s+the\s+populations?\s+(?:of|in)\s+" + _CODES, re.IGNORECASE)
_ONLY = re.compile(r"(?:populations?|popns?\.?)\s+(?:of|in)\s+" + _CODES, re.IGNORECASE)


def _codes(text: str, known: Collection[str]) -> frozenset[str]:
    return frozenset(code for code in re.findall(r"\b[A-Z]{2}\b", text) if code in known)


def population_rule(annotation: str | None, known_countries: Collection[str]) -> PopulationRule:
    """The countries an annotation names, by role (codes outside `known_countries` ignored)."""
    text = annotation or ""
    excluded: set[str] = set()
    partial: set[str] = set()
    for match in _EXCEPT.finditer(text):
        excluded |= _codes(match.group(1), known_countries)
    remainder = _EXCEPT.sub(" ", text)
    for match in _PART.finditer(remainder):
        partial |= _codes(match.group(1), known_countries)
    remainder = _PART.sub(" ", remainder)
    included: set[str] = set()
    for match in _ONLY.finditer(remainder):
        included |= _codes(match.group(1), known_countries)
    return PopulationRule(frozenset(included), frozenset(excluded), frozenset(partial))


def in_force(listings: Sequence[Listing], as_of: date) -> list[Listing]:
    """Per appendix, the latest addition or deletion on or before `as_of`, kept if it is an
    addition. Changes with no date (a snapshot) count as in force.

    Enough for the checklist snapshot. Not yet for Species+'s full history, where a new "+"
    replaces earlier listings of the taxon without a "-" (see the Species+ sync tests)."""
    latest: dict[str, Listing] = {}
    for listing in sorted(listings, key=lambda x: x.effective_at or date.min):
        if listing.change_type not in LISTING_CHANGES:
            continue  # a party's reservation does not change what is listed
        if listing.effective_at is not None and listing.effective_at > as_of:
            continue
        if listing.effective_at is None and not listing.is_current:
            continue
        latest[listing.appendix] = listing
    return [x for x in latest.values() if x.change_type == "addition"]


def applicable_appendix(
    listings: Sequence[Listing], country: str | None, known_countries: Collection[str]
) -> Applicable:
    """The appendix that applies to a specimen from `country`, given the listings in force."""
    listed = [x for x in listings if x.appendix != NOT_LISTED]
    appendices = sorted({x.appendix for x in listed})
    if not appendices:
        return Applicable(None, Determination.NOT_LISTED, "no CITES listing in force")
    if len(appendices) == 1 and not any(x.appendix == NOT_LISTED for x in listings):
        return Applicable(appendices[0], Determination.SINGLE_LISTING, "one listing in force")
    if country is None:
        return Applicable(
            None,
            Determination.COUNTRY_NEEDED,
            f"split listing ({'/'.join(appendices)}): the country of origin decides",
        )
    rules = {x.appendix: population_rule(x.annotation, known_countries) for x in listings}
    if any(country in rule.partial for rule in rules.values()):
        return Applicable(
            None,
            Determination.UNDETERMINED,
            f"only part of the population of {country} is listed apart: read the annotation",
        )
    named = [a for a, rule in rules.items() if country in rule.included]
    if len(named) == 1:
        appendix = named[0]
        return Applicable(
            None if appendix == NOT_LISTED else appendix,
            Determination.POPULATION_CODES,
            f"the annotation of {appendix} names {country}",
        )
    candidates = [
        a for a, rule in rules.items() if not rule.included and country not in rule.excluded
    ]
    if len(candidates) == 1 and not named:
        appendix = candidates[0]
        return Applicable(
            None if appendix == NOT_LISTED else appendix,
            Determination.POPULATION_CODES,
            f"{country} is not named apart, so the listing for the other populations applies",
        )
    return Applicable(
        None,
        Determination.UNDETERMINED,
        f"split listing ({'/'.join(appendices)}) the annotations do not settle for {country}",
    )
