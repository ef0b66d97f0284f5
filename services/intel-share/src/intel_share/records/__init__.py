"""Intelligence records: seizure reports, alerts and entities, with their relationships."""
