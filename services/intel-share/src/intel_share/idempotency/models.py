"""The first answer to each `Idempotency-Key`, per client."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from intel_share.tables import IntelShareTable


class IdempotentRequest(IntelShareTable, table=True):
    __tablename__ = "idempotent_request"

    client_id: str = Field(primary_key=True, max_length=255)
    key: str = Field(primary_key=True, max_length=255)
    # Method, path and a SHA-256 of the validated body: the same key on another request is
    # refused instead of answered with the wrong result.
    fingerprint: str = Field(max_length=64)
    status_code: int
    response: dict[str, Any] = Field(sa_type=sa.JSON)
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
