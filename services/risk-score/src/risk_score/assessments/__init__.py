"""Assessments: facts of a declaration, scoring into a lane, and the stored answer."""
