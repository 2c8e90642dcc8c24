"""Build and run tests/settlement_core/tlog/gocheck, the Go program that answers tree and
signed-note questions with independent implementations (transparency-dev/merkle v0.0.2 and
golang.org/x/mod/sumdb/note).

The binary is cached under ~/.cache/settlement-tracker/gocheck/<hash of go.mod, go.sum and
main.go>, so it is built once per change (about 20 s cold, nothing warm); modules come from
the Go module proxy into ~/.cache/settlement-tracker/go-mod.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

SOURCE = Path(__file__).parent / "gocheck"
CACHE = Path.home() / ".cache" / "settlement-tracker"


def _source_hash() -> str:
    digest = hashlib.sha256()
    for name in ("go.mod", "go.sum", "main.go"):
        digest.update(name.encode() + b"\0" + (SOURCE / name).read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def build() -> Path:
    go = shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else None)
    if go is None:
        pytest.fail(
            "the Go toolchain is needed for the cross-check against transparency-dev/merkle: "
            "`go` is not on PATH nor at /usr/local/go/bin/go (install Go 1.22 or newer)"
        )
    binary = CACHE / "gocheck" / _source_hash() / "gocheck"
    if binary.exists():
        return binary
    binary.parent.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "GOMODCACHE": str(CACHE / "go-mod"),
        "GOFLAGS": "-mod=readonly",  # go.sum pins the modules: a mismatch fails, never rewrites
        "GOTOOLCHAIN": "local",
    }
    partial = binary.with_suffix(".partial")
    result = subprocess.run(
        [go, "build", "-o", str(partial), "."], cwd=SOURCE, env=env, capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0:
        pytest.fail(f"go build of {SOURCE} failed:\n{result.stderr}")
    partial.rename(binary)
    return binary


def ask(binary: Path, request: dict[str, Any]) -> dict[str, Any]:
    result = subprocess.run([str(binary)], input=json.dumps(request), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer
