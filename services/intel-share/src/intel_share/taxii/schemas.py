"""TAXII 2.1 resources as the server answers them (section numbers of TAXII 2.1)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
STIX_MEDIA_TYPE = "application/stix+json;version=2.1"


class Discovery(BaseModel):  # 4.1.1
    title: str
    description: str | None = None
    contact: str | None = None
    default: str | None = None
    api_roots: list[str]


class ApiRoot(BaseModel):  # 4.2.1
    title: str
    description: str | None = None
    versions: list[str]
    max_content_length: int


class Collection(BaseModel):  # 5.2.1
    id: str
    title: str
    description: str | None = None
    alias: str | None = None
    can_read: bool
    can_write: bool
    media_types: list[str] = Field(default_factory=lambda: [STIX_MEDIA_TYPE])


class Collections(BaseModel):  # 5.1
    collections: list[Collection] = Field(default_factory=list)


class ManifestRecord(BaseModel):  # 5.3.1
    id: str
    date_added: str
    version: str
    media_type: str = STIX_MEDIA_TYPE


class StatusDetail(BaseModel):  # 4.3.1
    id: str
    version: str
    message: str | None = None


class Status(BaseModel):  # 4.3.1
    id: str
    status: str = "complete"
    request_timestamp: str | None = None
    total_count: int
    success_count: int
    successes: list[StatusDetail] = Field(default_factory=list)
    failure_count: int
    failures: list[StatusDetail] = Field(default_factory=list)
    pending_count: int = 0
    pendings: list[StatusDetail] = Field(default_factory=list)


class Envelope(BaseModel):  # 3.7, as POSTed: the objects to add
    more: bool | None = None
    next: str | None = None
    objects: list[dict[str, Any]] = Field(default_factory=list, max_length=10_000)


def taxii_timestamp(moment: datetime) -> str:
    """TAXII / STIX timestamps: UTC, `Z`, microseconds (the precision `date_added` keeps)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
