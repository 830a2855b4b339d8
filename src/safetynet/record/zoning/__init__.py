"""Zoning (R18): the red / amber / green zone a clinician sets for a person at the team's daily huddle."""
