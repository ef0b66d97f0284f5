"""The metadata of permit-verify's own tables (outbox and inbox come from pangolin_core),
the base class every permit-verify table derives from, and the quantity column type."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import registry
from sqlmodel import SQLModel

from pangolin_core.db import service_metadata

metadata = service_metadata()

# Quantities are stored as integers of millionths: exact arithmetic in SQL on both engines
# (SQLite has no exact decimal; `balance - :q` must never drift), and six decimal places are
# more than any CITES unit needs.
QUANTITY_SCALE = 6
_FACTOR = Decimal(10) ** QUANTITY_SCALE


def to_units(quantity: Decimal) -> int:
    """`Decimal("12.5")` -> 12_500_000 (millionths); more than six places is a caller's bug:
    the request schemas refuse them first."""
    scaled = quantity * _FACTOR
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{quantity} has more than {QUANTITY_SCALE} decimal places")
    return int(scaled)


def plain(quantity: Decimal) -> Decimal:
    """The shortest plain form: `100.000` -> `100`, `1E+2` -> `100`, `0.50` -> `0.5`."""
    normal = quantity.normalize()
    exponent = normal.as_tuple().exponent
    return normal.quantize(Decimal(1)) if isinstance(exponent, int) and exponent > 0 else normal


def from_units(units: int) -> Decimal:
    return plain(Decimal(units) / _FACTOR)


class Quantity(sa.TypeDecorator[Decimal]):
    """A `Decimal` in Python, a BIGINT of millionths in the database."""

    impl = sa.BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Any) -> int | None:
        return None if value is None else to_units(Decimal(value))

    def process_result_value(self, value: int | None, dialect: Any) -> Decimal | None:
        return None if value is None else from_units(value)


class PermitVerifyTable(SQLModel, registry=registry(metadata=metadata)):
    """Base of permit-verify's tables: they land in this service's metadata only."""


def insert_unless_conflict(dialect: str, table: sa.Table, *unique: sa.Column[Any]) -> sa.Insert:
    """`INSERT ... ON CONFLICT (unique columns) DO NOTHING` in the dialect's spelling (both
    engines have it); with no columns, a conflict on any unique constraint is skipped. The
    statement's row count says whether the row went in."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=list(unique) or None)
