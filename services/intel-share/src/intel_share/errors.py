"""intel-share's typed domain errors (rendered as problem+json by pangolin_core's handler)."""

from __future__ import annotations

from pangolin_core.errors import Conflict, Forbidden, InvalidInput, NotFound


class RecordNotFound(NotFound):
    """Unknown, or not visible to the caller: the same answer, so existence never leaks."""

    code, title = "record_not_found", "No such intelligence record"


class NotOriginator(Forbidden):
    """The caller sees the record but is not its originator organisation."""

    code, title = "not_originator", "Only the originator may do this"


class RecordRevoked(Conflict):
    code, title = "record_revoked", "The record is revoked"


class VersionMismatch(Conflict):
    code, title = "version_mismatch", "The record changed since that version"


class ProposalNotFound(NotFound):
    code, title = "proposal_not_found", "No such proposal"


class ProposalDecided(Conflict):
    code, title = "proposal_decided", "The proposal was already accepted or rejected"


class SharingGroupNotFound(InvalidInput):
    code, title = "sharing_group_not_found", "No such sharing group"


class SharingGroupNameTaken(Conflict):
    code, title = "sharing_group_name_taken", "A sharing group of that name exists"
