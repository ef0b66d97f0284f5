"""Name normalisation for matching, and the searchable names of the checklist.

Two normal forms, both lower-case ASCII words separated by single spaces:

* `fold` is for any name, common names included: diacritics removed (NFKD), case folded,
  apostrophes and quotes dropped ("Bourret’s" -> "bourrets"), every other non-letter,
  non-digit character a space ("Salt-water" -> "salt water").
* `normalise` is for scientific names. On top of `fold` it keeps only the name part:
  parenthesised parts go (authors, years, subgenera), and so does everything from the first
  author-like word on: a capitalised word after the genus when the query mixes cases
  ("Loxodonta africana (Blumenbach, 1797)", "Python bellii Gray"; an all-capital word is
  taken for a shouted epithet, "Loxodonta AFRICANA"), a word with a digit, "&", an
  abbreviation or initial ("L.", "Hook.f.", "R") or a particle ("de", "von", "ex", ...). Rank
  markers ("ssp.", "subsp.", "var.", "f.", "aff.", "cf.") and hybrid signs ("×", " x ") are
  dropped; "sp."/"spp." ends the name ("Python spp." -> "python"); a quoted informal epithet
  is kept ('Dactylocnemis "North Cape"' -> "dactylocnemis north cape"). A query in one case
  only ("PYTHON REGIUS SHAW") gives no case signal, so a trailing author word can stay; the
  index then falls back to the shorter name as a higher-rank match.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal, Protocol

from species_ref.checklist import CommonName, Synonym

NameKind = Literal["accepted", "synonym", "common"]


@dataclass(frozen=True, slots=True)
class NameRecord:
    """One searchable name. `accepted_ids`: the taxon itself for accepted and common names,
    every taxon a synonym is listed under for synonyms (pro parte synonyms have several)."""

    name: str
    taxon_id: int
    kind: NameKind
    rank: str
    kingdom: str
    accepted_ids: tuple[int, ...]
    language: str | None = None


# Letters NFKD leaves whole.
_LIGATURES: Final = str.maketrans(
    {"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O", "ł": "l"}
)
_DROPPED: Final = str.maketrans("", "", "'’‘`´\u02bc")
_NON_ALNUM: Final = re.compile(r"[^0-9a-z]+")
# ASCII in one pass: letters lower-cased, digits kept, apostrophes dropped, the rest a space.
_ASCII_FOLD: Final = str.maketrans(
    {
        chr(code): (
            chr(code).lower() if chr(code).isalnum() else None if chr(code) in "'`" else " "
        )
        for code in range(128)
    }
)
_QUOTED: Final = re.compile(r"[\"“”„]([^\"“”„]*)[\"“”„]")
_PARENTHESISED: Final = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_WORD_SPLIT: Final = re.compile(r"[\s,;:]+")

#: Words inside a scientific name that are not part of its normal form.
RANK_MARKERS: Final = frozenset(
    {
        "ssp",
        "subsp",
        "var",
        "v",
        "subvar",
        "f",
        "fo",
        "forma",
        "cv",
        "aff",
        "cf",
        "nothosubsp",
        "nothovar",
        "x",
        "×",
        "agg",
    }
)
#: Words that end a scientific name: what follows names no taxon.
OPEN_NAME_SUFFIXES: Final = frozenset({"sp", "spp", "species", "indet", "nov", "hybrid"})
#: Lower-case words that start an author, never an epithet.
AUTHOR_PARTICLES: Final = frozenset(
    {
        "&",
        "and",
        "auct",
        "da",
        "de",
        "del",
        "della",
        "den",
        "der",
        "di",
        "du",
        "emend",
        "et",
        "ex",
        "hort",
        "in",
        "la",
        "le",
        "nec",
        "non",
        "sensu",
        "van",
        "von",
    }
)


def strip_diacritics(text: str) -> str:
    """ "Pitón" -> "Piton", "vöthii" -> "vothii", "Æ" -> "AE"."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def fold(name: str) -> str:
    """Case, diacritics, punctuation and spacing folded away: "Ball  Python" -> "ball python"."""
    if name.isascii():
        return " ".join(name.translate(_ASCII_FOLD).split())
    name = strip_diacritics(name)
    return _NON_ALNUM.sub(" ", name.lower().translate(_DROPPED)).strip()


def normalise(name: str) -> str:
    """The scientific name part of `name`, folded (see the module docstring)."""
    if not name.isascii():
        name = strip_diacritics(name)
    name = name.replace("×", " x ")
    name = _QUOTED.sub(lambda quoted: f" {fold(quoted.group(1))} ", name)
    for _ in range(2):  # nested parentheses, one level at a time
        name = _PARENTHESISED.sub(" ", name)
    words = [word for word in _WORD_SPLIT.split(name) if word]
    while words and words[0].lower() == "x":  # a hybrid genus: "× Aliceara"
        del words[0]
    if not words:
        return ""
    mixed_case = name != name.lower() and name != name.upper()
    kept = [_NON_ALNUM.sub(" ", words[0].lower().translate(_DROPPED)).strip()]
    for word in words[1:]:
        lower = word.lower()
        bare = lower.strip(".")
        if bare in RANK_MARKERS and (lower == bare or lower == bare + "."):
            continue
        ends_name = (
            bare in OPEN_NAME_SUFFIXES
            or bare in AUTHOR_PARTICLES
            or len(bare) == 1  # an initial: no epithet has one letter
            or (mixed_case and word != lower and not word.isupper())  # "Gray", "d'Orbigny"
            or "." in lower
            or "&" in lower
            or any(char.isdigit() for char in lower)
        )
        if ends_name:
            break
        kept.append(_NON_ALNUM.sub(" ", lower.translate(_DROPPED)).strip())
    return " ".join(part for part in kept if part)


class NamedTaxon(Protocol):
    """What the index needs of a taxon: a `ChecklistTaxon`, or a taxon read back from storage."""

    @property
    def taxon_id(self) -> int: ...
    @property
    def full_name(self) -> str: ...
    @property
    def rank(self) -> str: ...
    @property
    def kingdom(self) -> str: ...
    @property
    def synonyms(self) -> Sequence[Synonym]: ...
    @property
    def common_names(self) -> Sequence[CommonName]: ...


def records_from_checklist(taxa: Iterable[NamedTaxon]) -> list[NameRecord]:
    """Accepted names, synonyms and common names of the checklist as searchable records.

    A synonym listed under several taxa becomes one record pointing to all of them (in
    file order); a synonym equal to its own taxon's name is skipped.
    """
    records: list[NameRecord] = []
    synonym_targets: dict[str, list[NamedTaxon]] = {}
    for taxon in taxa:
        records.append(
            NameRecord(
                name=taxon.full_name,
                taxon_id=taxon.taxon_id,
                kind="accepted",
                rank=taxon.rank,
                kingdom=taxon.kingdom,
                accepted_ids=(taxon.taxon_id,),
            )
        )
        for synonym in taxon.synonyms:
            if synonym.name != taxon.full_name:
                targets = synonym_targets.setdefault(synonym.name, [])
                if all(target.taxon_id != taxon.taxon_id for target in targets):
                    targets.append(taxon)
        for common in taxon.common_names:
            records.append(
                NameRecord(
                    name=common.name,
                    taxon_id=taxon.taxon_id,
                    kind="common",
                    rank=taxon.rank,
                    kingdom=taxon.kingdom,
                    accepted_ids=(taxon.taxon_id,),
                    language=common.language,
                )
            )
    for name, targets in synonym_targets.items():
        first = targets[0]
        records.append(
            NameRecord(
                name=name,
                taxon_id=first.taxon_id,
                kind="synonym",
                rank=first.rank,
                kingdom=first.kingdom,
                accepted_ids=tuple(target.taxon_id for target in targets),
            )
        )
    return records
