"""Audit: who read or wrote what, when and why. Append-only from day one."""
