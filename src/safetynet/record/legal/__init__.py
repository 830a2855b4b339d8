"""Admissions with Mental Health Act legal status, legal status changes, CTOs and recalls (R5)."""
