"""Placeholder until its command group lands."""

from __future__ import annotations

from typing import Any


def register(commands: Any) -> None:
    del commands
