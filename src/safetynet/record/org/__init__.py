"""Organisations, teams (with their pathway) and staff (with their role)."""
