"""Interoperability: FHIR R4 (UK Core) in and out, and CDS Hooks for existing record systems."""
