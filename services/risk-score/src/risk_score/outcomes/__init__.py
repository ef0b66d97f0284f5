"""Inspection outcomes recorded against assessments."""
