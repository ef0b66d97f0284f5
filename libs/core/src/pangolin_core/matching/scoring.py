"""Scoring one entity against a match query: the name, then what the other features say.

The final score follows nomenklatura's `logic-v2` composition: the strongest main evidence (the
name, or an identical identifier) sets the base, and qualifiers move it: a country that agrees
or differs, a birth date that matches or conflicts. The result is clamped to 0..1. Every
feature that played a part is returned with its contribution, so the sum of the feature scores
is the final score (before clamping)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

from pangolin_core.contracts.intel import MatchFeature
from pangolin_core.matching.names import NameScore

# An identical identifier (same scheme, same value) is near-certain: nomenklatura weighs its
# identifier features 0.85-0.95 against 1.0 for the name.
IDENTIFIER_SAME = 0.95
# The same value under another scheme label ("passport" vs "travel_document").
IDENTIFIER_SAME_VALUE = 0.85
COUNTRY_AGREES = 0.05
COUNTRY_DIFFERS = -0.1
BIRTH_DATE_SAME = 0.05
# Day and month swapped (03/04 vs 04/03) is a classic data-entry slip, not a different person.
BIRTH_DATE_SWAPPED = -0.05
BIRTH_DAY_DIFFERS = -0.15
BIRTH_YEAR_DIFFERS = -0.3

_NOT_ALNUM = re.compile(r"[\W_]+")


def normalise_identifiers(identifiers: Mapping[str, str]) -> dict[str, str]:
    """Scheme -> value with case, spaces and punctuation dropped ("P 123-45" = "p12345")."""
    normalised: dict[str, str] = {}
    for scheme, value in identifiers.items():
        key, clean = _NOT_ALNUM.sub("", scheme.casefold()), _NOT_ALNUM.sub("", value.casefold())
        if clean:
            normalised[key] = clean
    return normalised


def identifier_feature(
    query: Mapping[str, str], entity: Mapping[str, str], raw_entity: Mapping[str, str]
) -> tuple[float, str] | None:
    """(strength, explanation) of the best identifier agreement, or None when none agrees.
    Both mappings are normalised; `raw_entity` gives the entity's spelling back."""
    best: tuple[float, str] | None = None
    shown = {_NOT_ALNUM.sub("", k.casefold()): (k, v) for k, v in raw_entity.items()}
    for scheme, value in query.items():
        if entity.get(scheme) == value:
            label, raw = shown.get(scheme, (scheme, value))
            return IDENTIFIER_SAME, f"{label} {raw} is the same"
        for other_scheme, other_value in entity.items():
            if other_value == value and best is None:
                label, raw = shown.get(other_scheme, (other_scheme, other_value))
                best = IDENTIFIER_SAME_VALUE, f"{label} {raw} has the value given as {scheme}"
    return best


def country_feature(query: str | None, entity: str | None) -> MatchFeature | None:
    if query is None or entity is None:
        return None
    if query.upper() == entity.upper():
        return MatchFeature(name="country", score=COUNTRY_AGREES, detail=f"{entity} agrees")
    return MatchFeature(
        name="country", score=COUNTRY_DIFFERS, detail=f"{query} asked, entity is {entity}"
    )


def birth_date_feature(query: date | None, entity: date | None) -> MatchFeature | None:
    if query is None or entity is None:
        return None
    if query == entity:
        return MatchFeature(name="birth_date", score=BIRTH_DATE_SAME, detail=f"{entity} agrees")
    if query.year != entity.year:
        score, why = BIRTH_YEAR_DIFFERS, "another year"
    elif (query.month, query.day) == (entity.day, entity.month):
        score, why = BIRTH_DATE_SWAPPED, "day and month swapped"
    else:
        score, why = BIRTH_DAY_DIFFERS, "same year, another day"
    return MatchFeature(
        name="birth_date", score=score, detail=f"{query} asked, entity born {entity}: {why}"
    )


def compose(
    *,
    name: NameScore | None,
    identifier: tuple[float, str] | None,
    qualifiers: list[MatchFeature | None],
) -> tuple[float, list[MatchFeature]]:
    """The final score and its explanation from the features of one entity."""
    features: list[MatchFeature] = []
    name_score = name.score if name is not None else 0.0
    if name is not None:
        detail = f"{name.query!r} ~ {name.matched!r}"
        if name.detail:
            detail += f": {name.detail}"
        features.append(MatchFeature(name="name", score=round(name_score, 4), detail=detail))
    base = name_score
    if identifier is not None:
        strength, detail = identifier
        raise_by = max(0.0, strength - name_score)
        features.append(MatchFeature(name="identifier", score=round(raise_by, 4), detail=detail))
        base = max(base, strength)
    total = base
    for feature in qualifiers:
        if feature is not None:
            features.append(feature)
            total += feature.score
    return min(1.0, max(0.0, total)), features
