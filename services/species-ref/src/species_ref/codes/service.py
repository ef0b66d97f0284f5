"""The CITES code lists species-ref serves; they live in `pangolin_core.contracts.cites_codes`
(shared with the services that validate codes), species-ref's other data in `DATA_DIR`."""

from __future__ import annotations

from pathlib import Path

from pangolin_core.contracts.cites_codes import Code, CodeListName, CodeLists, read_code_lists

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

__all__ = ["DATA_DIR", "Code", "CodeListName", "CodeLists", "read_code_lists"]
