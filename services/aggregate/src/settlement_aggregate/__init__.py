"""settlement_aggregate: Kafka -> PostgreSQL ledger of record -> fenced Redis projection.

One processing step per module (see docs/aggregator.md):
  consumer.py   Kafka consumer + rebalance listener (offsets of record live in PostgreSQL)
  decode.py     raw records -> valid events / invalid (poison) messages
  reversals.py  pure reversal matching rules
  planning.py   pure batch planning: ledger rows, status changes, effects, DLQ entries
  ledger.py     PostgreSQL repository: one fenced transaction per batch
  dlq.py        DLQ topic producer (flushed before the ledger commit)
  projection.py Redis apply: compare-and-set on the partition fence, replay from the ledger
  rebuild.py    rebuild / reconcile of the projection (shared with settlementctl)
  metrics.py, health.py, app.py (process wiring), loop.py (the loop), settings.py, faults.py (test-only fault hook)
"""
