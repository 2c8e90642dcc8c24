"""Fixtures every test folder may use (registered by tests/conftest.py's `pytest_plugins`)."""

from __future__ import annotations

import pytest

from tests.support.stack import StackNotRunning, stack_env


@pytest.fixture(scope="session")
def stack_environment() -> dict[str, str]:
    """The running local stack's environment; fails the test, not the session, when absent."""
    try:
        return stack_env()
    except StackNotRunning as exc:
        pytest.fail(str(exc))
