"""The metadata of the gateway's own tables (outbox and inbox come from pangolin_core) and
the base class every gateway table derives from."""

from sqlalchemy.orm import registry
from sqlmodel import SQLModel

from pangolin_core.db import service_metadata

metadata = service_metadata()


class GatewayTable(SQLModel, registry=registry(metadata=metadata)):
    """Base of the gateway's tables: they land in this service's metadata only."""
