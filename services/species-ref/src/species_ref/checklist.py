"""Parser of the CITES checklist export (Species+ "Index of CITES species", CSV, 33 columns).

Pure: rows in, `ChecklistTaxon` out; no database, no network. `read_checklist` streams a
`.csv` or `.csv.gz` file; `parse_row` turns one `csv.DictReader` row into a taxon or raises
`ChecklistRowError` naming the column at fault.

Parsing decisions, each checked against the 2017-04-21 export (38,079 rows):

* `CurrentListing` is `/`-separated ("I/II/NC"); tokens must be I, II, III or NC; "" (33
  plant rows) gives `()`.
* Annotation columns hold one "Appendix X:text" entry per line. The same appendix can occur
  several times (Cedrela odorata has one App. III entry per listing party; some rows carry
  "Originally listed as ..." notes twice): distinct texts of one appendix are joined
  with a blank line. The appendix keys are kept as written, even when they are not in
  `CurrentListing`: 88 higher-taxon rows (e.g. the genus Balaena, listed I) carry their
  parent's "Appendix II: Except the species included in Appendix I" text.
* Annotation text is HTML: `<p>` and `</p>` become line breaks, `<i>` and other tags are
  dropped (an `<img src=...>` logo in Vicugna vicugna becomes "[image: URL]"), entities are
  unescaped, no-break spaces become spaces, every line is stripped and runs of blank lines
  collapse to one.
* `#Annotation` holds the text of the "#" annotation and `#AnnotationSymbol` its symbol;
  `hash_annotations` gives "#4 All parts and derivatives, except: ..." (symbol, a space,
  the text) per appendix, or the bare text when the row has no symbol (88 rows use this
  column for "Originally listed as ..." notes).
* `SynonymsWithAuthors` is one string of "Name Author" items joined by ", ", and authors
  contain ", " themselves ("Gray, 1842", "Frost, Grant, Faivovich, ..., 2006",
  "(Rueda-Almonacid, Rada, Sanchez-Pacheco, et al., 2006)", "Marg., Szlach. & Kulak").
  The string is cut at ", " outside parentheses, and a piece starts a new synonym only when
  it begins like a scientific name: a capitalised word without a full stop followed by a
  lower-case epithet (optionally after a "(subgenus)", "var." etc. or a hybrid "x") that is
  not a name particle ("Barbosa de Souza" is an author). Under ranks above species (the
  genus rows) a capitalised uninomial also starts one ("Chenorchis Z.J.Liu, K.W.Liu & ...").
  A synonym's name is its leading genus, subgenus, epithets, rank markers and hybrid signs;
  the rest is the author, `None` when absent ("Caracara plancus lutosus").
* Common names are comma-separated; no name in the export contains a comma.
* `All_DistributionISOCodes` and `All_DistributionFullNames` are aligned by position (sorted
  by name; over all rows every name maps to exactly one code). Two names in the export
  contain ", " ("Hong Kong, SAR" in 260 rows, "Taiwan, Province of China" in 541), so 663
  rows look misaligned when split naively: the names are split at ", " and the pieces
  rejoined when they form a known comma-bearing country name (`COMMA_COUNTRY_NAMES`, plus
  any in the optional country table). The tagged columns (native, introduced, ...) hold
  full names only and are mapped to codes through the row's own alignment, then through the
  optional country table (`read_country_codes` of cites_parties.tsv); in this export every
  tagged name is also in the row's full list. Every listed country carries at least one
  tag, and 76 (country, taxon) pairs carry two (Loxodonta africana in SZ is reintroduced
  and extinct): each (country, tag) pair is one `Distribution`, in the order of the code
  column. A listed country without a tag, or a tagged name that cannot be mapped, is a
  malformed row. Codes are kept as given, including CITES codes that are not ISO 3166
  ("S1": Sudan before the secession of South Sudan).
* The `Species` column repeats the genus for 32 taxa ("salvator merianae") and is empty for
  two SPECIES rows whose `FullName` ends in a space; the parser takes the epithet from
  `FullName` in both cases. Informal names stay as given (`Dactylocnemis "North Cape"`).
* `CitesAccepted` is "true"/"false" and kept as a flag. 21,687 taxa (20,083 of them orchids)
  are "false" - seemingly names outside the CITES standard nomenclature, listed through
  their higher taxon; they are parsed like any other.
"""

from __future__ import annotations

import csv
import functools
import gzip
import html
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TextIO, TypeVar

_T = TypeVar("_T")

APPENDICES: Final = frozenset({"I", "II", "III", "NC"})
RANKS: Final = frozenset(
    {
        "KINGDOM",
        "PHYLUM",
        "CLASS",
        "ORDER",
        "FAMILY",
        "SUBFAMILY",
        "GENUS",
        "SPECIES",
        "SUBSPECIES",
        "VARIETY",
    }
)
KINGDOMS: Final = frozenset({"Animalia", "Plantae"})
SPECIFIC_RANKS: Final = frozenset({"SPECIES", "SUBSPECIES", "VARIETY"})

COLUMNS: Final = (
    "TaxonId",
    "Kingdom",
    "Phylum",
    "Class",
    "Order",
    "Family",
    "Genus",
    "Species",
    "Subspecies",
    "FullName",
    "AuthorYear",
    "RankName",
    "CurrentListing",
    "FullAnnotationEnglish",
    "AnnotationEnglish",
    "AnnotationSpanish",
    "AnnotationFrench",
    "#AnnotationSymbol",
    "#Annotation",
    "SynonymsWithAuthors",
    "EnglishNames",
    "SpanishNames",
    "FrenchNames",
    "CitesAccepted",
    "All_DistributionISOCodes",
    "All_DistributionFullNames",
    "NativeDistributionFullNames",
    "Introduced_Distribution",
    "Introduced(?)_Distribution",
    "Reintroduced_Distribution",
    "Extinct_Distribution",
    "Extinct(?)_Distribution",
    "Distribution_Uncertain",
)

#: Tagged distribution columns, in the order their tags are reported for one country.
DISTRIBUTION_TAGS: Final = (
    ("NativeDistributionFullNames", "native"),
    ("Introduced_Distribution", "introduced"),
    ("Introduced(?)_Distribution", "introduced_uncertain"),
    ("Reintroduced_Distribution", "reintroduced"),
    ("Extinct_Distribution", "extinct"),
    ("Extinct(?)_Distribution", "extinct_uncertain"),
    ("Distribution_Uncertain", "uncertain"),
)

COMMON_NAME_COLUMNS: Final = (("EnglishNames", "EN"), ("SpanishNames", "ES"), ("FrenchNames", "FR"))

#: Country names that contain ", " (the export's own spellings and the ISO-style ones).
COMMA_COUNTRY_NAMES: Final = frozenset(
    {
        "Hong Kong, SAR",
        "Macao, SAR",
        "Taiwan, Province of China",
        "Bolivia, Plurinational State of",
        "Bonaire, Sint Eustatius and Saba",
        "Congo, The Democratic Republic of the",
        "Iran, Islamic Republic of",
        "Korea, Democratic People's Republic of",
        "Korea, Republic of",
        "Micronesia, Federated States of",
        "Moldova, Republic of",
        "Palestine, State of",
        "Tanzania, United Republic of",
        "Venezuela, Bolivarian Republic of",
        "Virgin Islands, British",
        "Virgin Islands, U.S.",
    }
)


@dataclass(frozen=True, slots=True)
class Synonym:
    name: str
    author: str | None


@dataclass(frozen=True, slots=True)
class CommonName:
    name: str
    language: str  # "EN", "ES", "FR"


@dataclass(frozen=True, slots=True)
class Distribution:
    country: str  # ISO 3166 alpha-2, or a CITES code (XX, ZZ, XV, S1, ...)
    tag: str  # native, introduced, introduced_uncertain, reintroduced, extinct, ...


@dataclass(frozen=True, slots=True)
class ChecklistTaxon:
    taxon_id: int
    kingdom: str
    phylum: str | None
    class_name: str | None
    order: str | None
    family: str | None
    genus: str | None
    species: str | None
    subspecies: str | None
    full_name: str
    author_year: str | None
    rank: str
    appendices: tuple[str, ...]
    annotations: dict[str, str]
    full_annotations: dict[str, str]
    hash_annotations: dict[str, str]
    synonyms: tuple[Synonym, ...]
    common_names: tuple[CommonName, ...]
    distributions: tuple[Distribution, ...]
    cites_accepted: bool


class ChecklistRowError(ValueError):
    """A checklist row that cannot be parsed; `row` is the 1-based data-row number if known."""

    def __init__(self, field: str, message: str, *, row: int | None = None) -> None:
        where = f"row {row}, " if row is not None else ""
        super().__init__(f"{where}{field}: {message}")
        self.field = field
        self.message = message
        self.row = row


def read_checklist(
    path: Path, *, country_codes: Mapping[str, str] | None = None
) -> Iterator[ChecklistTaxon]:
    """Parse every row of a checklist `.csv` or `.csv.gz` file, in file order."""
    with _open_text(path) as text:
        reader = csv.DictReader(text)
        missing = [column for column in COLUMNS if column not in (reader.fieldnames or ())]
        if missing:
            raise ChecklistRowError("header", f"missing columns {missing}", row=0)
        for number, row in enumerate(reader, start=1):
            try:
                yield parse_row(row, country_codes=country_codes)
            except ChecklistRowError as error:
                raise ChecklistRowError(error.field, error.message, row=number) from None


def read_country_codes(path: Path) -> dict[str, str]:
    """Country name -> code from cites_parties.tsv (columns `country` and `code`)."""
    with path.open(encoding="utf-8", newline="") as text:
        return {
            entry["country"].strip(): entry["code"].strip()
            for entry in csv.DictReader(text, delimiter="\t")
        }


def parse_row(
    row: Mapping[str, str], *, country_codes: Mapping[str, str] | None = None
) -> ChecklistTaxon:
    """One checklist row as a taxon; raises `ChecklistRowError` naming the bad column."""

    def field(name: str) -> str:
        value = row.get(name)
        if value is None:
            raise ChecklistRowError(name, "column missing")
        return value.strip()

    def optional(name: str) -> str | None:
        return field(name) or None

    raw_id = field("TaxonId")
    if not (raw_id.isascii() and raw_id.isdigit() and int(raw_id) > 0):
        raise ChecklistRowError("TaxonId", f"not a positive integer: {raw_id!r}")
    kingdom = field("Kingdom")
    if kingdom not in KINGDOMS:
        raise ChecklistRowError("Kingdom", f"unknown kingdom {kingdom!r}")
    rank = field("RankName")
    if rank not in RANKS:
        raise ChecklistRowError("RankName", f"unknown rank {rank!r}")
    full_name = " ".join(field("FullName").split())
    if not full_name:
        raise ChecklistRowError("FullName", "empty")
    genus = optional("Genus")
    accepted = field("CitesAccepted").lower()
    if accepted not in ("true", "false"):
        raise ChecklistRowError("CitesAccepted", f"not true/false: {accepted!r}")

    return ChecklistTaxon(
        taxon_id=int(raw_id),
        kingdom=kingdom,
        phylum=optional("Phylum"),
        class_name=optional("Class"),
        order=optional("Order"),
        family=optional("Family"),
        genus=genus,
        species=_species_epithet(field("Species"), genus, full_name, rank),
        subspecies=optional("Subspecies"),
        full_name=full_name,
        author_year=optional("AuthorYear"),
        rank=rank,
        appendices=parse_listing(field("CurrentListing")),
        annotations=dict(_appendix_texts(field("AnnotationEnglish"), "AnnotationEnglish", "")),
        full_annotations=dict(
            _appendix_texts(field("FullAnnotationEnglish"), "FullAnnotationEnglish", "")
        ),
        hash_annotations=dict(
            _appendix_texts(field("#Annotation"), "#Annotation", field("#AnnotationSymbol"))
        ),
        synonyms=split_synonyms(field("SynonymsWithAuthors"), uninomial=rank not in SPECIFIC_RANKS),
        common_names=tuple(
            CommonName(name, language)
            for column, language in COMMON_NAME_COLUMNS
            for name in _unique(part.strip() for part in field(column).split(","))
        ),
        distributions=_distributions(row, field, country_codes or {}),
        cites_accepted=accepted == "true",
    )


def parse_listing(value: str) -> tuple[str, ...]:
    """ "I/II/NC" -> ("I", "II", "NC"); "" -> ()."""
    if not value:
        return ()
    tokens = tuple(token.strip() for token in value.split("/"))
    unknown = [token for token in tokens if token not in APPENDICES]
    if unknown:
        raise ChecklistRowError("CurrentListing", f"unknown appendix {unknown[0]!r} in {value!r}")
    return tokens


# --- annotations -------------------------------------------------------------------------

_APPENDIX_HEADER = re.compile(r"(?:^|\n)Appendix (I|II|III|NC):")
_PARAGRAPH_TAG = re.compile(r"</?p\s*/?>|<br\s*/?>", re.IGNORECASE)
_IMAGE_TAG = re.compile(r"""<img\b[^>]*?\bsrc\s*=\s*["']([^"']*)["'][^>]*>""", re.IGNORECASE)
_ANY_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_BLANK_LINES = re.compile(r"\n{3,}")
_SPACES = re.compile(r"[ \t\f\v]+")


def clean_annotation_text(text: str) -> str:
    """Annotation HTML as plain text: paragraphs as line breaks, tags and entities resolved."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _IMAGE_TAG.sub(r"[image: \1]", text)
    text = _PARAGRAPH_TAG.sub("\n", text)
    text = _ANY_TAG.sub("", text)
    text = html.unescape(text).replace("\xa0", " ")
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def split_appendix_entries(text: str, column: str) -> list[tuple[str, str]]:
    """ "Appendix I:a \\nAppendix II:b" -> [("I", "a"), ("II", "b")] (raw text, not cleaned)."""
    if not text.strip():
        return []
    parts = _APPENDIX_HEADER.split(text)
    if parts[0].strip():
        raise ChecklistRowError(column, f"text before the first 'Appendix X:' {parts[0][:40]!r}")
    return list(zip(parts[1::2], parts[2::2], strict=True))


@functools.lru_cache(maxsize=8192)
def _appendix_texts(text: str, column: str, symbol: str) -> tuple[tuple[str, str], ...]:
    """Cleaned, de-duplicated text per appendix; cached because a few texts recur thousands
    of times (#4 on 30,187 rows) and cleaning them dominates the parse time."""
    texts: dict[str, list[str]] = {}
    for appendix, body in split_appendix_entries(text, column):
        cleaned = clean_annotation_text(body)
        if cleaned and symbol:
            cleaned = f"{symbol} {cleaned}"
        if cleaned and cleaned not in texts.setdefault(appendix, []):
            texts[appendix].append(cleaned)
    return tuple((appendix, "\n\n".join(parts)) for appendix, parts in texts.items() if parts)


# --- synonyms ----------------------------------------------------------------------------

#: Lower-case words that begin an author ("Barbosa de Souza", "von Brandt", "Gray in ...").
NAME_PARTICLES: Final = frozenset(
    {
        "al",
        "and",
        "da",
        "das",
        "de",
        "del",
        "della",
        "den",
        "der",
        "des",
        "di",
        "do",
        "dos",
        "du",
        "e",
        "et",
        "ex",
        "in",
        "la",
        "le",
        "les",
        "nec",
        "non",
        "pro",
        "sensu",
        "ten",
        "ter",
        "van",
        "von",
        "y",
    }
)
#: Words that sit inside a name: infraspecific rank markers, "aff."/"cf.", hybrid signs.
NAME_MARKERS: Final = frozenset(
    {
        "var.",
        "subvar.",
        "subsp.",
        "ssp.",
        "f.",
        "fo.",
        "forma",
        "aff.",
        "cf.",
        "nothosubsp.",
        "nothovar.",
        "x",
        "×",
    }
)
_SUBGENUS_WORD = re.compile(r"\([^\W\d_]+\)")


def split_synonyms(text: str, *, uninomial: bool = False) -> tuple[Synonym, ...]:
    """Split `SynonymsWithAuthors` into synonyms with their authors (see module docstring).

    `uninomial` (rows above species rank) lets a capitalised single word start a synonym.
    """
    text = " ".join(text.split())
    if not text:
        return ()
    groups: list[list[str]] = []
    for piece in _split_outside_parentheses(text):
        piece = piece.strip()
        if not piece:
            continue
        if not groups or _starts_name(piece.split(" "), uninomial=uninomial):
            groups.append([piece])
        else:
            groups[-1].append(piece)
    synonyms = (_synonym(", ".join(group)) for group in groups)
    return tuple(_unique(synonyms))


def _split_outside_parentheses(text: str) -> list[str]:
    pieces: list[str] = []
    depth = 0
    start = 0
    for index, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(depth - 1, 0)  # the export has a few stray ")"
        elif char == "," and depth == 0:
            pieces.append(text[start:index])
            start = index + 1
    pieces.append(text[start:])
    if depth > 0:  # an unclosed "(" would swallow the rest: fall back to plain commas
        return text.split(",")
    return pieces


def _starts_name(words: Sequence[str], *, uninomial: bool) -> bool:
    if not _is_genus(words[0]):
        return False
    if len(words) == 1:
        return uninomial
    name_length = len(_name_words(words))
    if name_length >= 2:
        return True
    return uninomial and words[1] not in ("&", "et", "and")


def _name_words(words: Sequence[str]) -> list[str]:
    """The leading words of `words` that belong to the scientific name."""
    name = [words[0]]
    for index in range(1, len(words)):
        word = words[index]
        following = words[index + 1] if index + 1 < len(words) else ""
        if word in NAME_MARKERS or (index == 1 and _SUBGENUS_WORD.fullmatch(word)):
            if not _is_epithet(following):
                break
            name.append(word)
        elif _is_epithet(word):
            name.append(word)
        else:
            break
    return name


def _is_genus(word: str) -> bool:
    """A capitalised word of letters (and hyphens), no full stop: "Python", not "Gray,"."""
    return len(word) > 1 and word[0].isupper() and _is_lower_word(word[1:])


def _is_epithet(word: str) -> bool:
    """A lower-case word of letters, hyphens and apostrophes that is not a particle."""
    return _is_lower_word(word) and word not in NAME_PARTICLES


def _is_lower_word(word: str) -> bool:
    return (
        word[:1].isalpha() and word.islower() and word.replace("-", "").replace("'", "").isalpha()
    )


def _synonym(text: str) -> Synonym:
    words = text.split(" ")
    name = _name_words(words)
    author = " ".join(words[len(name) :]).strip(" ,")
    return Synonym(" ".join(name), author or None)


# --- distributions -----------------------------------------------------------------------


def split_country_names(text: str, comma_names: frozenset[str] = COMMA_COUNTRY_NAMES) -> list[str]:
    """Split a ", "-joined list of country names, keeping names like "Hong Kong, SAR" whole."""
    if not text:
        return []
    parts = [part.strip() for part in text.split(",")]
    names: list[str] = []
    index = 0
    while index < len(parts):
        if index + 1 < len(parts) and f"{parts[index]}, {parts[index + 1]}" in comma_names:
            names.append(f"{parts[index]}, {parts[index + 1]}")
            index += 2
        else:
            names.append(parts[index])
            index += 1
    return [name for name in names if name]


def _distributions(
    row: Mapping[str, str], field: Callable[[str], str], country_codes: Mapping[str, str]
) -> tuple[Distribution, ...]:
    codes = [code.strip() for code in field("All_DistributionISOCodes").split(",") if code.strip()]
    for code in codes:
        if not re.fullmatch(r"[A-Z][A-Z0-9]", code):
            raise ChecklistRowError("All_DistributionISOCodes", f"not a country code: {code!r}")
    comma_names = COMMA_COUNTRY_NAMES | {name for name in country_codes if ", " in name}
    names = split_country_names(field("All_DistributionFullNames"), comma_names)
    if len(names) != len(codes):
        raise ChecklistRowError(
            "All_DistributionFullNames",
            f"{len(names)} names for {len(codes)} codes in All_DistributionISOCodes",
        )
    code_of = dict(zip(names, codes, strict=True))
    fallback = {name.casefold(): code for name, code in country_codes.items()}
    tags: dict[str, list[str]] = {code: [] for code in codes}
    for column, tag in DISTRIBUTION_TAGS:
        for name in split_country_names(field(column), comma_names):
            found = code_of.get(name) or fallback.get(name.casefold())
            if found is None:
                raise ChecklistRowError(column, f"country {name!r} has no code")
            tags.setdefault(found, [])
            if tag not in tags[found]:
                tags[found].append(tag)
    untagged = [code for code, found in tags.items() if not found]
    if untagged:
        raise ChecklistRowError("All_DistributionISOCodes", f"countries without a tag: {untagged}")
    return tuple(Distribution(code, tag) for code, found in tags.items() for tag in found)


# --- helpers -----------------------------------------------------------------------------


def _species_epithet(value: str, genus: str | None, full_name: str, rank: str) -> str | None:
    if genus and value.lower().startswith(f"{genus.lower()} "):
        value = value[len(genus) + 1 :].strip()
    if not value and rank == "SPECIES" and len(full_name.split(" ")) == 2:
        value = full_name.split(" ")[1]
    return value or None


def _unique(items: Iterable[_T]) -> Iterator[_T]:
    seen: set[_T] = set()
    for item in items:
        if item and item not in seen:
            seen.add(item)
            yield item


def _open_text(path: Path) -> TextIO:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return path.open(encoding="utf-8", newline="")
