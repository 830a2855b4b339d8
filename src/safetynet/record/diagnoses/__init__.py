"""Diagnoses coded in ICD-10 or SNOMED CT."""
