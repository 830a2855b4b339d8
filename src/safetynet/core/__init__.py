"""Core: database, clock, ids, errors and the bitemporal append-only fact machinery."""
