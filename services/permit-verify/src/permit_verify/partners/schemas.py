"""What partners send and receive: a confirmation of endorsed quantities (the same boxes as
an endorsement: declaration, office, date, items)."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from permit_verify.endorsements.schemas import EndorsementIn

IssuingCountry = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
PermitNumber = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class ConfirmationIn(EndorsementIn):
    """A partner's endorsement of a permit this registry issued: `declaration_id` is the
    partner's declaration, the key that makes a repeated confirmation harmless."""
