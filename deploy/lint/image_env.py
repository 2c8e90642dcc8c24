"""The environment the image itself sets (ENV lines of the Dockerfile's final stage)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path


def dockerfile_env(path: Path) -> dict[str, str]:
    """ENV of the last stage; both `ENV K=V K2=V2` and the legacy `ENV K V` forms."""
    env: dict[str, str] = {}
    logical: list[str] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.rstrip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    for line in logical:
        words = line.strip().split(None, 1)
        if not words:
            continue
        instruction = words[0].upper()
        if instruction == "FROM":
            env = {}  # a new stage starts from its base image's environment
        elif instruction == "ENV" and len(words) == 2:
            tokens = shlex.split(words[1])
            if tokens and "=" not in tokens[0]:
                env[tokens[0]] = " ".join(tokens[1:])
            else:
                for token in tokens:
                    key, sep, value = token.partition("=")
                    if sep:
                        env[key] = value
    return env


def dockerfile_cmd(path: Path) -> list[str]:
    """CMD of the last stage in exec (JSON) form; [] when absent or in shell form."""
    cmd: list[str] = []
    for line in path.read_text().splitlines():
        words = line.strip().split(None, 1)
        if words and words[0].upper() == "FROM":
            cmd = []
        elif len(words) == 2 and words[0].upper() == "CMD" and words[1].startswith("["):
            parsed = json.loads(words[1])
            cmd = [str(part) for part in parsed]
    return cmd
