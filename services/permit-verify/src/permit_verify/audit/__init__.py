"""The audit trail of what callers did to permits (issue, status change, endorsement)."""
