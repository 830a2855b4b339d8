"""Cross-team requests and their explicit answers (R9)."""
