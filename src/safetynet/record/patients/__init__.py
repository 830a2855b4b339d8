"""Patients: identity (NHS number) and demographic details, which are versioned facts like any other."""
