"""The metadata of species-ref's own tables (outbox and inbox come from pangolin_core) and
the base class every species-ref table derives from."""

from sqlalchemy.orm import registry
from sqlmodel import SQLModel

from pangolin_core.db import service_metadata

metadata = service_metadata()


class SpeciesRefTable(SQLModel, registry=registry(metadata=metadata)):
    """Base of species-ref's tables: they land in this service's metadata only."""
