"""Benchmarks: `make bench` / `python -m bench.run` and `make soak` / `python -m bench.soak`
(see bench/README.md). Stages in `stages`, load generators in `load`, the peers and Kafka's
own tools in `peers`, figures and summaries in `reporting`, the long run in `soak`, and the
namespaces and processes they all stand on in `harness`."""
