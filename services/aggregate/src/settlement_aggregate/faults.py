"""Test-only fault hook, honoured only when AGGREGATE_FAULT is set.

`AGGREGATE_FAULT=crash_after_ledger_commit:<n>` makes the process `os._exit(137)` on its n-th
committed batch, after the PostgreSQL commit and before the Redis apply: the exact window the
fence protocol must survive. Nothing else is supported; an unknown value stops start-up.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

logger = logging.getLogger(__name__)

CRASH_AFTER_LEDGER_COMMIT = "crash_after_ledger_commit"


@dataclass(slots=True)
class FaultHook:
    crash_after_commit_batch: int | None = None
    committed_batches: int = 0

    @classmethod
    def parse(cls, spec: str | None) -> FaultHook:
        if not spec:
            return cls()
        name, _, count = spec.partition(":")
        if name != CRASH_AFTER_LEDGER_COMMIT or not count.isdigit() or int(count) < 1:
            raise ValueError(f"unsupported AGGREGATE_FAULT {spec!r}; expected {CRASH_AFTER_LEDGER_COMMIT}:<n>")
        return cls(crash_after_commit_batch=int(count))

    def after_ledger_commit(self) -> None:
        if self.crash_after_commit_batch is None:
            return
        self.committed_batches += 1
        if self.committed_batches >= self.crash_after_commit_batch:
            logger.warning(
                "fault hook: exiting between ledger commit and Redis apply", extra={"batch": self.committed_batches}
            )
            logging.shutdown()
            os._exit(137)
