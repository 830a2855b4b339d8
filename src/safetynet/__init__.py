"""Safetynet: a clinical safety net for community mental health services."""
