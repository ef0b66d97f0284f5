"""What the audit endpoint answers."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class AuditEntryOut(BaseModel):
    id: int
    at: datetime = Field(description="When the request arrived (UTC).")
    request_id: str = Field(description="The `X-Request-ID` the request carried or was given.")
    client_id: str | None = Field(description="None: the caller did not authenticate.")
    country: str | None
    method: str
    path: str = Field(description="As requested, without the query string.")
    route: str = Field(description="The route table pattern, or the gateway's own path.")
    upstream: str | None = Field(description="None: answered by the gateway itself.")
    status: int
    latency_ms: float


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next: str | None = Field(description="Pass as `cursor` for the next (older) page.")
