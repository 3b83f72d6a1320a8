"""Benchmarks of the durable outbox (see docs/benchmarks.md); not part of `make test`."""
