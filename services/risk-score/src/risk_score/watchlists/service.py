"""The watchlists in memory and their matching against a declaration.

Trader names are compared after normalisation (diacritics and case folded, punctuation and
company-form words such as "Co.", "Ltd", "Company Limited", "GmbH" dropped): an exact match
of the normalised name first, then rapidfuzz's `token_sort_ratio` at `TRADER_CUTOFF`; a
trader entry with a country hits only a party of the same country (or of unknown country)."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from rapidfuzz import fuzz, process
from sqlmodel.ext.asyncio.session import AsyncSession

from pangolin_core.contracts.intel import WatchlistChanged, WatchlistEntry
from pangolin_core.contracts.permits import Declaration
from pangolin_core.db import Database
from risk_score.assessments.scoring import IntelHit
from risk_score.readmodels import after_commit, bump
from risk_score.watchlists import repository

WATCHLISTS = "watchlists"
TRADER_CUTOFF = 90.0
COMPANY_FORMS = frozenset(
    {
        "co",
        "company",
        "companies",
        "corp",
        "corporation",
        "inc",
        "incorporated",
        "ltd",
        "limited",
        "llc",
        "llp",
        "plc",
        "gmbh",
        "ag",
        "sa",
        "sarl",
        "sas",
        "srl",
        "spa",
        "bv",
        "nv",
        "pte",
        "pty",
        "bhd",
        "sdn",
        "jsc",
        "ojsc",
        "pjsc",
        "kk",
        "oy",
        "ab",
        "as",
        "tbk",
        "cv",
        "est",
        "enterprise",
        "enterprises",
    }
)
_NOT_WORD = re.compile(r"[^\w]+")
_DIGITS = re.compile(r"\d+")


def _words_key(words: str) -> str:
    return " ".join(words.casefold().split())


def normalise_name(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    words = [w for w in _NOT_WORD.sub(" ", plain).replace("_", " ").split() if w]
    kept = [w for w in words if w not in COMPANY_FORMS]
    return " ".join(kept or words)


@dataclass(frozen=True)
class HeldEntry:
    entry: WatchlistEntry
    record_id: str
    title: str
    confidence: int
    valid_until: date | None

    def hit(self, detail: str) -> IntelHit:
        return IntelHit(
            kind=self.entry.kind,
            entry_id=self.entry.entry_id,
            record_id=self.record_id,
            title=self.title,
            confidence=self.confidence,
            detail=detail,
        )

    def live(self, on: date) -> bool:
        return self.valid_until is None or on <= self.valid_until


class WatchlistIndex:
    def __init__(self) -> None:
        self.versions: dict[str, int] = {}
        self._records: dict[str, list[HeldEntry]] = {}
        self._rebuild()

    def put(self, record_id: str, version: int, entries: list[HeldEntry]) -> None:
        if self.versions.get(record_id, -1) > version:
            return
        self.versions[record_id] = version
        if entries:
            self._records[record_id] = entries
        else:
            self._records.pop(record_id, None)
        # Rebuilt at the next match, not per change: a replay of many records costs one
        # rebuild, not one per record.
        self._stale = True

    def replace_all(self, records: Iterable[tuple[str, int, list[HeldEntry]]]) -> None:
        self.versions, self._records = {}, {}
        for record_id, version, entries in records:
            self.versions[record_id] = version
            if entries:
                self._records[record_id] = entries
        self._stale = True

    async def load(self, db: Database) -> None:
        async with db.session(write=False) as session:
            rows = await repository.all_records(session)
        self.replace_all(
            (
                r.record_id,
                r.record_version,
                held_entries(r.record_id, r.title, r.confidence, r.valid_until, r.entries),
            )
            for r in rows
        )

    def _rebuild(self) -> None:
        self._stale = False
        traders: dict[str, list[HeldEntry]] = defaultdict(list)
        vessels: list[tuple[str, HeldEntry]] = []
        self.routes: list[HeldEntry] = []
        hubs: dict[str, list[HeldEntry]] = defaultdict(list)
        species: dict[str, list[HeldEntry]] = defaultdict(list)
        concealment: dict[str, list[HeldEntry]] = defaultdict(list)
        for entries in self._records.values():
            for held in entries:
                e = held.entry
                match e.kind:
                    case "trader":
                        for name in e.names:
                            traders[normalise_name(name)].append(held)
                    case "vessel":
                        for token in [*e.names, *e.identifiers.values()]:
                            if normalise_name(token):
                                vessels.append((normalise_name(token), held))
                    case "route":
                        self.routes.append(held)
                    case "hub":
                        for hub in e.hubs:
                            hubs[hub.upper()].append(held)
                    case "species":
                        for name in e.names:
                            species[" ".join(name.lower().split())].append(held)
                    case "concealment":
                        for word in e.names:
                            if word.split():
                                concealment[_words_key(word)].append(held)
        self.traders = dict(traders)
        self.trader_names = list(self.traders)
        self.vessels = vessels
        self.hubs = dict(hubs)
        self.species = dict(species)
        # Every concealment word in one pattern: one search per description, whatever the
        # number of entries; a match is looked up by its normalised words.
        self.concealment = dict(concealment)
        self.concealment_pattern = (
            re.compile(
                r"(?<!\w)(?:"
                + "|".join(
                    r"\s+".join(map(re.escape, words.split()))
                    for words in sorted(concealment, key=len, reverse=True)
                )
                + r")(?!\w)",
                re.IGNORECASE,
            )
            if concealment
            else None
        )

    def match(self, declaration: Declaration, *, on: date) -> list[IntelHit]:
        if self._stale:
            self._rebuild()
        hits: dict[str, IntelHit] = {}

        def add(held: HeldEntry, detail: str) -> None:
            if held.live(on) and held.entry.entry_id not in hits:
                hits[held.entry.entry_id] = held.hit(detail)

        for role, party in (("exporter", declaration.exporter), ("importer", declaration.importer)):
            if party is None or not party.name or not self.trader_names:
                continue
            key = normalise_name(party.name)
            candidates: list[tuple[str, float]] = []
            if key in self.traders:
                candidates.append((key, 100.0))
            else:
                for name, similarity, _ in process.extract(
                    key,
                    self.trader_names,
                    scorer=fuzz.token_sort_ratio,
                    score_cutoff=TRADER_CUTOFF,
                    limit=3,
                ):
                    candidates.append((name, similarity))
            digits = _DIGITS.findall(key)
            for name, similarity in candidates:
                if _DIGITS.findall(name) != digits:
                    continue  # "Exporter 12" is not "Exporter 13", however similar
                for held in self.traders[name]:
                    country = held.entry.country
                    if country and party.country and country.upper() != party.country:
                        continue
                    add(held, f"{role} {party.name!r} matches {name!r} ({similarity:.0f} %)")
        document = declaration.transport.document if declaration.transport else None
        if document and self.vessels:
            padded = f" {normalise_name(document)} "
            for token, held in self.vessels:
                if f" {token} " in padded:
                    add(held, f"transport document {document!r} names {token!r}")
        c = declaration.countries
        transit = set(c.transit)
        for hub in transit:
            for held in self.hubs.get(hub, ()):
                add(held, f"transit through {hub}")
        for held in self.routes:
            e = held.entry
            if e.route_from and e.route_from.upper() not in (c.export, c.origin):
                continue
            if e.route_to and e.route_to.upper() != c.import_:
                continue
            if e.hubs and not transit.intersection(h.upper() for h in e.hubs):
                continue
            if not (e.route_from or e.route_to or e.hubs):
                continue
            add(held, f"route {e.route_from or '*'} -> {e.route_to or '*'}")
        for line in declaration.lines:
            for held in self.species.get(" ".join(line.species.lower().split()), ()):
                add(held, f"line {line.line_no}: {line.species}")
            if line.description and self.concealment_pattern is not None:
                for found in self.concealment_pattern.finditer(line.description):
                    for held in self.concealment[_words_key(found.group(0))]:
                        add(held, f"line {line.line_no} description: {found.group(0)!r}")
        return list(hits.values())


def held_entries(
    record_id: str,
    title: str,
    confidence: int,
    valid_until: date | None,
    entries: Iterable[dict[str, Any]],
) -> list[HeldEntry]:
    return [
        HeldEntry(
            entry=WatchlistEntry.model_validate(e),
            record_id=record_id,
            title=title,
            confidence=confidence,
            valid_until=valid_until,
        )
        for e in entries
    ]


async def apply_change(
    *, session: AsyncSession, index: WatchlistIndex, change: WatchlistChanged
) -> bool:
    """Replace what the record yielded; an older `record_version` than held is ignored."""
    entries = [e.model_dump(mode="json") for e in change.entries]
    stored = await repository.replace_record(
        session,
        record_id=change.record_id,
        record_version=change.record_version,
        record_type=change.record_type,
        title=change.title,
        confidence=change.confidence,
        valid_until=change.valid_until,
        entries=entries,
        at=datetime.now(UTC),
    )
    if not stored:
        return False
    await bump(session, WATCHLISTS)
    held = held_entries(
        change.record_id, change.title, change.confidence, change.valid_until, entries
    )
    after_commit(session, lambda: index.put(change.record_id, change.record_version, held))
    return True
