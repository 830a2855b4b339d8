"""Planned and actual contacts with their outcome and mode; booked appointments."""
