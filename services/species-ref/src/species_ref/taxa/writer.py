"""Writing taxa from a source (the Species+ sync, a publication): what a source says about
each taxon is compared with what is stored, and only what changed is written, with its
events. Shared so every source writes taxa the same way.

* A taxon is upserted by its id (a Species+ id). Its names, listing changes and
  distributions are replaced by what the source says; distributions given as None, and the
  non-current listing history under `keep_history`, keep what is stored.
* The `source` column is written with the change but is not itself a change: the same
  facts from another source write nothing and emit nothing.
* Events: `species.taxon.upserted` when a taxon is new or its concept, names,
  distributions or current appendices changed; `species.listing.changed` when its listing
  changes did, with the changes added and removed.
* Nothing is committed here: the caller's session is the unit of work.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from pangolin_core.contracts import species as contract
from pangolin_core.contracts.envelope import CloudEvent
from species_ref.taxa import repository
from species_ref.taxa.models import Distribution, ListingChange, TaxonName
from species_ref.taxa.models import TaxonConcept as TaxonRow
from species_ref.taxa.service import EVENT_SOURCE

LISTING_FIELDS = ("appendix", "change_type", "effective_at", "is_current", "party",
                  "annotation", "full_annotation", "hash_annotation", "source")  # fmt: skip
CONCEPT_FIELDS = ("full_name", "author_year", "rank", "kingdom", "phylum", "class_name",
                  "order_name", "family", "genus", "species", "subspecies", "cites_accepted",
                  "source")  # fmt: skip
_NAME_FIELDS = ("kind", "name", "author", "language")
# What is compared: every field but `source`.
_LISTING_FACTS = tuple(name for name in LISTING_FIELDS if name != "source")
_CONCEPT_FACTS = tuple(name for name in CONCEPT_FIELDS if name != "source")


@dataclass(frozen=True)
class TaxonFacts:
    """What a source says about one taxon, as rows (without `taxon_id`'s `updated_at`).

    `listings` is the whole listing history, or with `keep_history` the current listings
    only (the stored non-current rows are kept); None keeps every stored listing.
    `distributions` None keeps the stored ones. `appendices` are the current appendices
    the source states (for the event)."""

    concept: dict[str, Any]
    names: list[dict[str, Any]]
    listings: list[dict[str, Any]] | None
    distributions: list[dict[str, Any]] | None
    appendices: list[str] | None  # None: those of the listings as written
    keep_history: bool = False

    @property
    def taxon_id(self) -> int:
        taxon_id: int = self.concept["id"]
        return taxon_id


@dataclass
class TaxaWritten:
    taxa: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    listings_changed: int = 0
    events: list[CloudEvent] = field(default_factory=list)


def _key(row: dict[str, Any], fields: Sequence[str]) -> tuple[Any, ...]:
    return tuple(row.get(name) for name in fields)


def _model_key(model: object, fields: Sequence[str]) -> tuple[Any, ...]:
    return tuple(getattr(model, name) for name in fields)


def _sorted(keys: Counter[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return sorted(keys.elements(), key=lambda key: tuple("" if v is None else str(v) for v in key))


def current_appendices(rows: Sequence[dict[str, Any]]) -> list[str]:
    found = {
        row["appendix"] for row in rows if row["is_current"] and row["change_type"] == "addition"
    }
    return sorted(found)


def _entry(key: tuple[Any, ...]) -> contract.ListingEntry:
    row = dict(zip(_LISTING_FACTS, key, strict=True))
    return contract.ListingEntry(
        appendix=row["appendix"],
        change_type=row["change_type"],
        effective_at=row["effective_at"],
        is_current=row["is_current"],
        party=row["party"],
        annotation=row["annotation"],
        hash_annotation=row["hash_annotation"],
    )


async def write_taxa(
    session: AsyncSession, taxa: Sequence[TaxonFacts], *, source: str, now: datetime
) -> TaxaWritten:
    """Upsert `taxa` (see the module docstring); `source` names the source in the events."""
    written = TaxaWritten()
    ids = [taxon.taxon_id for taxon in taxa]
    stored = await repository.taxa_by_id(session, ids)
    names = await repository.rows_by_taxon(session, TaxonName, ids)
    listings = await repository.rows_by_taxon(session, ListingChange, ids)
    places = await repository.rows_by_taxon(session, Distribution, ids)
    for taxon in taxa:
        written.taxa += 1
        taxon_id = taxon.taxon_id
        concept = taxon.concept | {"updated_at": now}
        old_listing_rows = [
            {name: getattr(row, name) for name in LISTING_FIELDS} for row in listings[taxon_id]
        ]
        if taxon.listings is None:
            new_listings = [row | {"taxon_id": taxon_id} for row in old_listing_rows]
        else:
            new_listings = [row | {"taxon_id": taxon_id} for row in taxon.listings]
        if taxon.keep_history and taxon.listings is not None:
            history = [row for row in old_listing_rows if not row["is_current"]]
            new_listings = [row | {"taxon_id": taxon_id} for row in history] + new_listings

        old = stored.get(taxon_id)
        concept_changed = old is None or _model_key(old, _CONCEPT_FACTS) != _key(
            concept, _CONCEPT_FACTS
        )
        names_changed = Counter(_model_key(n, _NAME_FIELDS) for n in names[taxon_id]) != Counter(
            _key(n, _NAME_FIELDS) for n in taxon.names
        )
        old_listings = Counter(_key(row, _LISTING_FACTS) for row in old_listing_rows)
        listing_keys = Counter(_key(row, _LISTING_FACTS) for row in new_listings)
        listings_changed = old_listings != listing_keys
        new_places = taxon.distributions
        places_changed = new_places is not None and {
            (d.country, d.tag) for d in places[taxon_id]
        } != {(d["country"], d["tag"]) for d in new_places}
        if not (concept_changed or names_changed or listings_changed or places_changed):
            written.unchanged += 1
            continue

        if old is None:
            await repository.insert_rows(session, TaxonRow, [concept])
            written.created += 1
        else:
            values = {name: concept[name] for name in (*CONCEPT_FIELDS, "updated_at")}
            await repository.update_taxon(session, taxon_id, values)
            written.updated += 1
        if names_changed:
            await repository.replace_rows(session, TaxonName, taxon_id, taxon.names)
        if listings_changed:
            await repository.replace_rows(session, ListingChange, taxon_id, new_listings)
        if places_changed and new_places is not None:
            await repository.replace_rows(session, Distribution, taxon_id, new_places)

        subject = str(taxon_id)
        previous = current_appendices(old_listing_rows)
        current = current_appendices(new_listings)
        if concept_changed or names_changed or places_changed or previous != current:
            upserted = contract.TaxonUpserted(
                taxon_id=taxon_id,
                full_name=concept["full_name"],
                rank=concept["rank"],
                kingdom=concept["kingdom"],
                appendices=current if taxon.appendices is None else taxon.appendices,
                source=source,
            )
            written.events.append(upserted.to_event(source=EVENT_SOURCE, subject=subject))
        if listings_changed:
            written.listings_changed += 1
            changed = contract.ListingChanged(
                taxon_id=taxon_id,
                full_name=concept["full_name"],
                appendices=current,
                previous_appendices=previous,
                added=[_entry(key) for key in _sorted(listing_keys - old_listings)],
                removed=[_entry(key) for key in _sorted(old_listings - listing_keys)],
                source=source,
            )
            written.events.append(changed.to_event(source=EVENT_SOURCE, subject=subject))
    return written
