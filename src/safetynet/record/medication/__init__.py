"""Medication in the community (R4): prescriptions, depot administrations and adherence reports."""
