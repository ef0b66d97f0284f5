"""Pangolin platform code shared by every service: settings, database, errors, identity,
messaging, telemetry and the service app factory."""
