"""Benchmarks: figures printed and written to docs/benchmarks.md. Targets live here, never in timed unit tests."""
