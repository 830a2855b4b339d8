"""The clinical record: one package per clinical domain, each with models, schemas and service."""
