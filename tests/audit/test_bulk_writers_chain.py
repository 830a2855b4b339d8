"""Writers that insert with SQLAlchemy Core chain their audit events too: a synthetic trust written in bulk verifies."""

from __future__ import annotations

from safetynet.core.db import make_engine
from safetynet.synth import trust
from tests.audit.helpers import verify


def test_a_synthetic_trust_written_in_bulk_has_an_unbroken_audit_chain(fresh_url: str) -> None:
    engine = make_engine(fresh_url)
    trust.build(engine, patients=12, seed=3, workers=0)
    engine.dispose()
    result = verify(fresh_url)
    assert result.ok, result.problems[:5]
    assert result.events > 100
