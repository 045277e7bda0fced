"""One thing the audit found: where (template file and line) and what to write instead."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    template: str
    line: int | str
    message: str

    def __str__(self) -> str:
        return f"{self.template}:{self.line}: {self.message}"
