"""Care plan reviews and structured GP handover letters."""
