"""MDT decisions with options, rationale and views (R10); capacity assessments."""
