"""permit-verify's typed domain errors (rendered as problem+json by pangolin_core's handler)."""

from __future__ import annotations

from pangolin_core.errors import (
    Conflict,
    DependencyUnavailable,
    Forbidden,
    PangolinError,
)


class NotIssuingCountry(Forbidden):
    code, title = "not_issuing_country", "Not the issuing country"


class PermitNumberTaken(Conflict):
    code, title = "permit_number_taken", "Permit number already registered"


class PermitStatusFinal(Conflict):
    code, title = "permit_status_final", "The permit's status is final"


class PermitClosed(Conflict):
    """Cancelled, lost, stolen, replaced, used, expired or not yet valid on the date."""

    code, title = "permit_closed", "The permit cannot be endorsed"


class BalanceExceeded(Conflict):
    code, title = "balance_exceeded", "Quantity above the remaining balance"


class DeclarationAlreadyEndorsed(Conflict):
    code, title = "declaration_already_endorsed", "This declaration already endorsed the permit"


class NoSigningKey(DependencyUnavailable):
    code, title = "no_signing_key", "No permit signing key for the country"


class SpeciesUnavailable(DependencyUnavailable):
    """species-ref did not answer at issue: a permit is not issued unchecked."""

    code, title = "species_unavailable", "species-ref did not answer: the permit was not issued"


class NotAcceptable(PangolinError):
    status, code, title = 406, "not_acceptable", "No representation matches Accept"


class UnsupportedMediaType(PangolinError):
    status, code, title = 415, "unsupported_media_type", "Unsupported request body type"


class DeclarationChanged(Conflict):
    """A declaration id already verified with another body: a correction needs a new id."""

    code, title = "declaration_changed", "Declaration id already verified with other content"


class VerificationInProgress(Conflict):
    code, title = "verification_in_progress", "The declaration is being verified"
