"""Scenario files: one fictional person's story as dated events, plus checks (see docs/scenarios.md)."""
