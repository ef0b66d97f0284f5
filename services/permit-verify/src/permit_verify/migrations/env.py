"""Alembic environment of permit-verify."""

from pangolin_core.migrations import run_migrations
from permit_verify.audit import models as _audit  # noqa: F401  (registers the tables)
from permit_verify.endorsements import models as _endorsements  # noqa: F401
from permit_verify.idempotency import models as _idempotency  # noqa: F401
from permit_verify.permits import models as _permits  # noqa: F401
from permit_verify.tables import metadata
from permit_verify.verifications import models as _verifications  # noqa: F401

run_migrations(metadata)
