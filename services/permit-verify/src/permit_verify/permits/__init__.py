"""The permit registry: issuing, reading, status changes and signing of CITES permits."""
