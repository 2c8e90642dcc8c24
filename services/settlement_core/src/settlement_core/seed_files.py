"""Reading the project's YAML data files (seeds/: the catalogue, reporting deadlines): one
place that turns an unreadable file into a message naming the file and what is wrong with
it, before the file's own model validates the document."""

from __future__ import annotations

from pathlib import Path

import yaml


def read_yaml(path: Path, kind: str, error: type[ValueError]) -> object:
    """The YAML document in `path`; `error("<kind> file <path>: <why>")` when the file cannot
    be read, is not UTF-8 or is not YAML (the process is starting and an operator fixes it)."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"{kind} file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise error(f"{kind} file {path}: not UTF-8 text") from None
    except yaml.YAMLError as exc:
        raise error(f"{kind} file {path}: not valid YAML: {exc}") from None
