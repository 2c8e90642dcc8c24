"""Default per-bank event limits, for a bank registered without its own (`settlementctl bank
add --rate-limit/--burst`).

Measured capacity on the reference 2-core machine (bench/README.md, 2026-12-03): intake
acknowledges 2,023 single POSTs/s or 28,122 events/s in batches of 1000, and 6,000
events/s are sustained end to end (through the aggregator into the totals). The former
defaults, 5,000 events/s with a burst of 20,000, let any one bank take nearly the whole
end-to-end capacity, and a single burst was over 3 s of it.

500 events/s is a twelfth of the sustained end-to-end rate, so twelve banks sending at
their default rate at once still fit; it is also a quarter of the single-POST capacity. The
burst of 2,000 holds two maximal batches (1,000 events each), so a bank can always send a
full batch. Banks that need more get it explicitly, per bank.
"""

from __future__ import annotations

DEFAULT_RATE_PER_SECOND = 500
DEFAULT_BURST = 2_000
