"""The page's display formatting (web/static/format.js) under node's own test runner, so
`make test` (and `make test-unit`: no servers) runs tests/api/web/format.test.cjs."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

TESTS = Path(__file__).with_name("format.test.cjs")


def test_format_js_under_node() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node missing: make install installs npm (and node with it)")
    result = subprocess.run([node, "--test", str(TESTS)], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    passed = re.search(r"^# pass (\d+)$", result.stdout, re.MULTILINE)
    failed = re.search(r"^# fail (\d+)$", result.stdout, re.MULTILINE)
    # A runner that found no test would also exit 0: count them.
    assert passed is not None, result.stdout[-2000:]
    assert int(passed.group(1)) >= 6, result.stdout[-2000:]
    assert failed is not None
    assert int(failed.group(1)) == 0
