"""The one result type of every check."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Finding:
    """A problem in `where` (a file, optionally with the object or key in it)."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"
