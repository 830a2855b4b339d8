"""The safety net's rulebook: pure rules over a person's facts as known at a moment (see docs/rules.md)."""
