"""Risk history that is never lost (R1), risk assessments, formulation and safety plan (R3)."""
