"""Runs the real `settlementctl` console script of this virtualenv against an environment."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

SETTLEMENTCTL = Path(sys.executable).with_name("settlementctl")


def settlementctl(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SETTLEMENTCTL), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def settlementctl_ok(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    """stdout of a run that must succeed."""
    done = settlementctl(env, *args, timeout=timeout)
    assert done.returncode == 0, f"settlementctl {' '.join(args)} exited {done.returncode}: {done.stderr[-3000:]}"
    return done.stdout


def printed(output: str, label: str) -> str:
    """The value of a `label: value` line, e.g. the api_key `settlementctl bank add` prints once."""
    match = re.search(rf"^{label}: (\S+)$", output, re.MULTILINE)
    assert match, f"no {label} in {output!r}"
    return match.group(1)
