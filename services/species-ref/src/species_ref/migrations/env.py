"""Alembic environment of species-ref."""

from pangolin_core.migrations import run_migrations
from species_ref.guides import models as guide_models  # noqa: F401
from species_ref.publications import models as publication_models  # noqa: F401
from species_ref.reference import models as reference_models  # noqa: F401
from species_ref.restrictions import models as restriction_models  # noqa: F401
from species_ref.speciesplus import models as sync_models  # noqa: F401
from species_ref.tables import metadata
from species_ref.taxa import models  # noqa: F401 - registers the tables on the metadata

run_migrations(metadata)
