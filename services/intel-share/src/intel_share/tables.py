"""The metadata of intel-share's own tables (outbox and inbox come from pangolin_core)."""

from pangolin_core.db import service_metadata

metadata = service_metadata()
