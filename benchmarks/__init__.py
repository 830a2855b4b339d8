"""Performance benchmarks: a harness that measures and writes docs/benchmarks.md (``python -m benchmarks.run``)."""
