"""The transparency log's read side (issue 29): checkpoints, keys, consistency and
inclusion proofs, served from the tables the integrator writes."""
