"""CloudEvents 1.0 structured-mode JSON: the envelope of every event on the backbone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, Literal, Self
from uuid import uuid4

from pydantic import BaseModel, ConfigDict, Field


class CloudEvent(BaseModel):
    """One event. `type` is also the NATS subject (`<domain>.<entity>.<event>`);
    `dataversion` (an extension attribute) is the version of the `data` contract."""

    model_config = ConfigDict(extra="allow", frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(default_factory=lambda: str(uuid4()), min_length=1, max_length=64)
    source: str = Field(min_length=1)
    type: str = Field(min_length=1, pattern=r"^[a-z0-9_-]+(\.[a-z0-9_-]+){2,}$")
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    subject: str | None = None
    datacontenttype: Literal["application/json"] = "application/json"
    dataversion: str = "1"
    data: dict[str, Any] = Field(default_factory=dict)

    def to_json(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> CloudEvent:
        return cls.model_validate_json(raw)


class EventData(BaseModel):
    """Base of a versioned event payload. Subclasses set `event_type` and `version`."""

    event_type: ClassVar[str]
    version: ClassVar[int] = 1

    def to_event(self, *, source: str, subject: str | None = None) -> CloudEvent:
        return CloudEvent(
            source=source,
            type=self.event_type,
            subject=subject,
            dataversion=str(self.version),
            data=self.model_dump(mode="json"),
        )

    @classmethod
    def from_event(cls, event: CloudEvent) -> Self:
        return cls.model_validate(event.data)
