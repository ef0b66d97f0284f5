"""The metadata of permit-verify's own tables (outbox and inbox come from pangolin_core)."""

from pangolin_core.db import service_metadata

metadata = service_metadata()
