"""Where the local stack (deploy/local/stack.sh) keeps its environment."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STACK_DIR = Path(os.environ.get("STACK_DIR", ROOT / ".stack"))
ARTIFACTS = ROOT / "test-artifacts"


class StackNotRunning(RuntimeError):
    """$STACK_DIR/stack.env is missing: the stack was never started here."""


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines, as stack.sh writes them (values are not quoted)."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if "=" in line:
            key, value = line.split("=", 1)
            values[key] = value
    return values


def stack_env(stack_dir: Path = STACK_DIR) -> dict[str, str]:
    env_file = stack_dir / "stack.env"
    if not env_file.exists():
        raise StackNotRunning(
            f"{env_file} missing: start the stack with 'deploy/local/stack.sh start' (make test does)"
        )
    return read_env_file(env_file)
