"""Workflows: actions that coordinate record services with the gate rules (discharge) and the safety net."""
