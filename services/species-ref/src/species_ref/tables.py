"""The metadata of species-ref's own tables (outbox and inbox come from pangolin_core)."""

from pangolin_core.db import service_metadata

metadata = service_metadata()
