"""Free-text clinical notes."""
