"""Oversight: indicators (written once in Ibis), SPC, funnel plots, disclosure control and the national tier."""
