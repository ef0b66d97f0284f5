"""The audit trail: every request through the gateway, stored append-only, read by admins."""
