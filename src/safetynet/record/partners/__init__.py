"""Partner intelligence (R7): police, court, probation, GP, social care and housing information."""
