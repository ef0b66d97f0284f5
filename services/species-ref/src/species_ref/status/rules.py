"""Which listing applies to a specimen, and which CITES documents it needs (pure functions,
no I/O).

A taxon's listing changes are reduced to the listings in force on a date; when several
appendices are in force (a split listing), the country of origin decides, using the countries
the annotations name. The checklist words population rules as free text ("Popns of BT, CN, MN,
MX.", "All populations except those of BW, NA, ZA, and ZW.", "Part of the population of CO"),
Species+ with English country names ("Except the populations of Botswana, Namibia, South
Africa and Zimbabwe"), so only countries named by code, or by their name in the CITES country
list, decide; anything else is left undetermined with the reason, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import lru_cache
from itertools import groupby
from typing import Protocol, TypeAlias

from species_ref.codes.service import Code

NOT_LISTED = "NC"
APPENDIX_III = "III"
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


class StoredListing(Protocol):
    """A stored listing change (`taxa.models.ListingChange`), as far as the rules read it."""

    appendix: str
    change_type: str
    effective_at: date | None
    is_current: bool
    annotation: str | None
    party: str | None
    hash_annotation: str | None
    source: str


def listing_rule(change: StoredListing) -> Listing:
    return Listing(
        appendix=change.appendix,
        change_type=change.change_type,
        effective_at=change.effective_at,
        is_current=change.is_current,
        annotation=change.annotation,
        party=change.party,
        hash_annotation=change.hash_annotation,
        source=change.source,
    )


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
    r"(?i:except\s+(?:the\s+)?(?:populations?|popns?\.?|those)\s+(?:of|in)\s+)" + _CODES
)
_PART = re.compile(r"part\s+of\s+the\s+populations?\s+(?:of|in)\s+" + _CODES, re.IGNORECASE)
_ONLY = re.compile(r"(?:populations?|popns?\.?)\s+(?:of|in)\s+" + _CODES, re.IGNORECASE)


# Codes, or codes with their `Code` (whose names annotations may use).
Countries: TypeAlias = Collection[str] | Mapping[str, Code]


def _codes(text: str, known: Collection[str]) -> frozenset[str]:
    return frozenset(code for code in re.findall(r"\b[A-Z]{2}\b", text) if code in known)


@lru_cache(maxsize=4)
def _name_pattern(countries: frozenset[tuple[str, str]]) -> tuple[re.Pattern[str], dict[str, str]]:
    """A pattern of the country names (longest first, so "South Africa" is not read as
    "Africa") and their codes; "Bolivia, Plurinational State of" is "Bolivia" too."""
    full: dict[str, set[str]] = {}
    short: dict[str, set[str]] = {}
    for code, name in countries:
        full.setdefault(name, set()).add(code)
        short.setdefault(name.split(", ")[0], set()).add(code)
    # A full name wins over a short form ("Yemen" is YE, not "Yemen, Democratic").
    unique = {name: min(found) for name, found in short.items() if len(found) == 1}
    unique |= {name: min(found) for name, found in full.items() if len(found) == 1}
    names = sorted(unique, key=len, reverse=True)
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, names)) + r")(?!\w)")
    return pattern, unique


def _named_by_code(text: str, known_countries: Countries) -> str:
    """The text with the names of the known countries written as their codes (former and
    non-ISO codes, such as XF "Africa", are left out)."""
    if not isinstance(known_countries, Mapping) or "opulation" not in text:
        return text
    pattern, code_of = _name_pattern(
        frozenset(
            (code, entry.description)
            for code, entry in known_countries.items()
            if not entry.former and not entry.non_iso
        )
    )
    return pattern.sub(lambda match: code_of[match.group(0)], text)


def population_rule(annotation: str | None, known_countries: Countries) -> PopulationRule:
    """The countries an annotation names, by role (codes outside `known_countries` ignored;
    country names are read too when `known_countries` maps codes to their `Code`)."""
    text = _named_by_code(annotation or "", known_countries)
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
    """The listings in force on `as_of`, by appendix (I, II, III, NC), party and date.

    Changes apply from their effective date (on it, not before it); reservations never change
    what is listed. The dated changes are replayed date by date, as Species+ records them:

    * Additions to I, II or NC on one date are the taxon's new listing, all of it (a split
      listing comes as several additions on the same date). They end every earlier listing,
      Appendix III ones too (in Species+ the African elephant's 1976 App III listing by Ghana
      ends with the 1977 "+ II", a transfer I -> II is only "+ II"), except a listing Species+
      marks current (`is_current`) when the date is not later than the latest current change:
      that listing is known to be still in force (the elephant's CoP17 "+ I" stays current
      beside the CoP18 "+ II" that renewed only the Appendix II annotation). Changes dated
      after the latest current one are not in force yet when recorded, and replace normally.
    * A deletion of I, II or NC ends the listings of that appendix; with no later addition
      the taxon is not listed (in that appendix).
    * An Appendix III addition is the listing of its `party`, replacing only that party's
      earlier one; a deletion of III ends its party's listing (every III listing when it
      names no party).

    Changes with no date (the checklist snapshot: the listings in force on its date, not when
    they came in) count as in force on every date when current, and are ignored otherwise.
    """
    changes = [
        x
        for x in listings
        if x.change_type in LISTING_CHANGES and (x.effective_at is not None or x.is_current)
    ]
    recorded_now = max(
        (x.effective_at for x in changes if x.is_current and x.effective_at is not None),
        default=None,
    )
    listed: list[Listing] = []  # I, II, NC
    appendix_iii: dict[str | None, Listing] = {}  # by listing party (None: not known)
    for day, grouped in groupby(sorted(changes, key=_day), key=lambda x: x.effective_at):
        if day is not None and day > as_of:
            break
        group = list(grouped)
        for deletion in (x for x in group if x.change_type == "deletion"):
            if deletion.appendix == APPENDIX_III:
                if deletion.party is None:
                    appendix_iii.clear()
                else:
                    appendix_iii.pop(deletion.party, None)
            else:
                listed = [x for x in listed if x.appendix != deletion.appendix]
        additions = [x for x in group if x.change_type == "addition"]
        new_listing = [x for x in additions if x.appendix != APPENDIX_III]
        if new_listing:
            # Before the latest current change, what Species+ marks current was not ended.
            known_current = recorded_now is not None and day is not None and day <= recorded_now
            listed = [x for x in listed if known_current and x.is_current] + new_listing
            appendix_iii = {
                party: x for party, x in appendix_iii.items() if known_current and x.is_current
            }
        for addition in (x for x in additions if x.appendix == APPENDIX_III):
            appendix_iii[addition.party] = addition
    return sorted([*listed, *appendix_iii.values()], key=_listing_order)


def _day(listing: Listing) -> date:
    return listing.effective_at or date.min


_APPENDIX_ORDER = {"I": 0, "II": 1, APPENDIX_III: 2, NOT_LISTED: 3}


def _listing_order(listing: Listing) -> tuple[int, str, date]:
    rank = _APPENDIX_ORDER.get(listing.appendix, len(_APPENDIX_ORDER))
    return rank, listing.party or "", _day(listing)


def applicable_appendix(
    listings: Sequence[Listing], country: str | None, known_countries: Countries
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


# --- the documents a specimen needs ---------------------------------------------------------


class Movement(StrEnum):
    """What the shipment is, for the State asking."""

    EXPORT = "export"  # leaves its country of origin
    RE_EXPORT = "re_export"  # leaves a State that imported it before
    IMPORT = "import"  # enters a State: an export or a re-export, as `origin` and `exporter` say


class ExportDocument(StrEnum):
    """The document the exporting or re-exporting State issues."""

    EXPORT_PERMIT = "export_permit"
    CERTIFICATE_OF_ORIGIN = "certificate_of_origin"
    RE_EXPORT_CERTIFICATE = "re_export_certificate"


@dataclass(frozen=True, slots=True)
class DocumentsRequired:
    """The CITES documents a shipment needs.

    * `export_document`: the document of the exporting (or re-exporting) State; None when
      none is needed, or when it is not determined.
    * `export_document_options`: the documents that may be the one needed, when it is not
      determined (an import whose route is unknown: an export permit or a re-export
      certificate); `(export_document,)` when it is, `()` when none is needed.
    * `import_permit`: whether the importing State must issue an import permit (Appendix I);
      None when that is not determined.
    * `appendix_iii_parties`: the parties whose Appendix III listing is in force (sorted);
      empty when there is none or when its party is not known.
    * `determined`: False when the answer hangs on something not known: the appendix of a
      split listing, the exporting State, whether an import is of a re-exported specimen, or
      the party of an Appendix III listing. `reason` then says what each case needs.
    """

    export_document: ExportDocument | None
    export_document_options: tuple[ExportDocument, ...]
    import_permit: bool | None
    appendix_iii_parties: tuple[str, ...]
    determined: bool
    reason: str


_UNSETTLED = frozenset({Determination.COUNTRY_NEEDED, Determination.UNDETERMINED})


@dataclass(frozen=True, slots=True)
class _Case:
    conditions: tuple[str, ...]
    export_document: ExportDocument | None
    import_permit: bool


_DOCUMENT_WORDS = {
    ExportDocument.EXPORT_PERMIT: "an export permit",
    ExportDocument.CERTIFICATE_OF_ORIGIN: "a certificate of origin",
    ExportDocument.RE_EXPORT_CERTIFICATE: "a re-export certificate",
}


def documents_required(
    listings: Sequence[Listing],
    applicable: Applicable,
    *,
    movement: Movement,
    origin: str | None,
    exporter: str | None = None,
) -> DocumentsRequired:
    """The documents CITES requires for a shipment (Articles III, IV and V; Res. Conf. 12.3),
    given the `listings` in force and what `applicable_appendix` made of them: the appendix
    that applies, none (not listed, or a population outside the listing), or a split listing
    it could not settle (then each appendix in force is a case).

    * Appendix I: an export permit (a re-export certificate on re-export) and an import
      permit. Appendix II: an export permit (or a re-export certificate), no import permit.
    * Appendix III: an export permit when the exporting State is a party that listed the
      taxon (the `party` of an Appendix III listing in force), a certificate of origin from
      any other State, a re-export certificate on re-export (Article V). When a listing's
      party is not known (the checklist snapshot carries none) and it could be the exporter,
      the answer is not determined and the reason gives both cases.
    * Not listed (NC, or no listing): no CITES document.

    `origin` is the country of origin, `exporter` the State exporting or re-exporting the
    shipment (on export, the origin when not given). An import is of a re-export when both are
    known and differ, of an export when they are the same, and either otherwise.

    Not weighed here: the exemptions of Article VII (pre-Convention specimens, personal
    effects, captive-bred or artificially propagated specimens, scientific exchange), the
    comparable documents of non-parties (Article X), reservations (a reserving party trades
    in the taxon as a non-party) and stricter domestic measures.
    """
    in_force_appendices = list(
        dict.fromkeys(x.appendix for x in sorted(listings, key=_listing_order))
    )
    parties = tuple(sorted({x.party for x in listings if x.appendix == APPENDIX_III and x.party}))
    party_unknown = any(x.appendix == APPENDIX_III and not x.party for x in listings)
    if applicable.appendix is not None:
        appendices = [applicable.appendix]
    elif applicable.determined_by in _UNSETTLED and any(
        x != NOT_LISTED for x in in_force_appendices
    ):
        appendices = in_force_appendices
    else:
        return DocumentsRequired(
            None, (), False, (), True, "not listed in the CITES Appendices: no CITES document"
        )
    split = len(appendices) > 1
    routes = _re_export_cases(movement, origin, exporter)
    cases = [
        case
        for listed in appendices
        for re_export in routes
        for case in _cases(
            listed,
            re_export=re_export,
            exporting_state=exporter or origin,
            parties=parties,
            party_unknown=party_unknown,
            conditions=(_if_applies(listed),) if split else (),
            route_known=len(routes) == 1,
        )
    ]
    documents = {case.export_document for case in cases}
    options = tuple(x for x in ExportDocument if x in documents)
    permits = {case.import_permit for case in cases}
    import_permit = permits.pop() if len(permits) == 1 else None
    if len(documents) == 1 and import_permit is not None:
        [document] = documents
        if split:
            reason = f"split listing {'/'.join(appendices)}: each case needs {_needs(cases[0])}"
        else:
            reason = _words(cases[0], appendices[0])
        return DocumentsRequired(document, options, import_permit, parties, True, reason)
    reason = "; ".join(
        dict.fromkeys(f"{', '.join(case.conditions)}: {_needs(case)}" for case in cases)
    )
    if split:
        reason = f"split listing {'/'.join(appendices)} not settled: {reason}"
    return DocumentsRequired(None, options, import_permit, parties, False, reason)


def _if_applies(appendix: str) -> str:
    return "if not listed (NC)" if appendix == NOT_LISTED else f"if Appendix {appendix} applies"


def _re_export_cases(
    movement: Movement, origin: str | None, exporter: str | None
) -> tuple[bool, ...]:
    """Whether the shipment is a re-export: known, or both cases (an import by an unknown
    route)."""
    if movement is Movement.RE_EXPORT:
        return (True,)
    if movement is Movement.EXPORT:
        return (False,)
    if origin is not None and exporter is not None:
        return (origin != exporter,)
    return (False, True)


def _cases(
    appendix: str,
    *,
    re_export: bool,
    exporting_state: str | None,
    parties: tuple[str, ...],
    party_unknown: bool,
    conditions: tuple[str, ...],
    route_known: bool,
) -> list[_Case]:
    if not route_known:
        conditions += ("if re-exported" if re_export else "if exported from its origin",)
    if appendix == NOT_LISTED:
        return [_Case(conditions, None, False)]
    if re_export:
        return [_Case(conditions, ExportDocument.RE_EXPORT_CERTIFICATE, appendix == "I")]
    if appendix != APPENDIX_III:
        return [_Case(conditions, ExportDocument.EXPORT_PERMIT, appendix == "I")]
    from_party = _Case(conditions, ExportDocument.EXPORT_PERMIT, False)
    from_other = _Case(conditions, ExportDocument.CERTIFICATE_OF_ORIGIN, False)
    if exporting_state is not None and exporting_state in parties:
        return [from_party]
    if exporting_state is not None and not party_unknown:
        return [from_other]
    state = exporting_state or "the exporting State"
    if party_unknown:  # the checklist snapshot names no listing party
        by_party = f"the Appendix III listing party is not known: if {state} listed it"
        by_other = "if another State listed it"
    else:
        by_party, by_other = f"if {state} is {' or '.join(parties)}", f"if {state} is another"
    return [_with_condition(from_party, by_party), _with_condition(from_other, by_other)]


def _with_condition(case: _Case, condition: str) -> _Case:
    return _Case((*case.conditions, condition), case.export_document, case.import_permit)


def _needs(case: _Case) -> str:
    if case.export_document is None:
        return "no CITES document"
    needs = _DOCUMENT_WORDS[case.export_document]
    return needs + (" and an import permit" if case.import_permit else "")


def _words(case: _Case, appendix: str) -> str:
    if appendix == NOT_LISTED:
        return "these populations are not listed: no CITES document"
    article = {"I": "Article III", "II": "Article IV", APPENDIX_III: "Article V"}[appendix]
    return f"Appendix {appendix} ({article}): {_needs(case)}"
