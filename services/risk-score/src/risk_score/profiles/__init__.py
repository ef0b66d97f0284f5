"""Targeting profiles: versioned data, their criteria language, and the active set in memory."""
