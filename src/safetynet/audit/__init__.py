"""Audit: who read or wrote what, when and why. Append-only, and a hash chain (``audit.chain``)."""

from safetynet.audit import chain as _chain  # noqa: F401  (chains every audit event as it is flushed)
