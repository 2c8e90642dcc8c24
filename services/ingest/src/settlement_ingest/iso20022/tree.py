"""Lookups on an element tree whose names are local names (envelope.read_envelope)."""

from __future__ import annotations

import xml.etree.ElementTree as StdET


def text(el: StdET.Element | None, path: str) -> str | None:
    """The stripped text at `path` below `el`, None when absent or empty."""
    if el is None:
        return None
    found = el.find(path)
    if found is None or found.text is None:
        return None
    value = found.text.strip()
    return value or None


def find(el: StdET.Element | None, path: str) -> StdET.Element | None:
    return None if el is None else el.find(path)


def findall(el: StdET.Element | None, path: str) -> list[StdET.Element]:
    return [] if el is None else el.findall(path)
