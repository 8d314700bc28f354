"""Benchmarks of fluxcd-otel: `python bench/run.py` from the repository root."""
