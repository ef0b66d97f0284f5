"""What the code-list endpoints answer."""

from __future__ import annotations

import builtins
from datetime import date

from pydantic import BaseModel


class CodeOut(BaseModel):
    code: str
    description: str
    non_iso: bool | None = None
    former: bool | None = None
    party_since: date | None = None


class CodeListOut(BaseModel):
    list: str
    count: int
    codes: builtins.list[CodeOut]  # `list` is also a field name here
