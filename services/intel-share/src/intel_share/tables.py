"""The metadata of intel-share's own tables (outbox and inbox come from pangolin_core) and
the base class every intel-share table derives from."""

from __future__ import annotations

from sqlalchemy.orm import registry
from sqlmodel import SQLModel

from pangolin_core.db import service_metadata

metadata = service_metadata()


class IntelShareTable(SQLModel, registry=registry(metadata=metadata)):
    """Base of intel-share's tables: they land in this service's metadata only."""
