"""Seeded identifiers are version 4 UUIDs, the same for the same seed, and exactly what ``uuid`` would make of the
same random bits (synth builds them by hand, for speed)."""

from __future__ import annotations

import random
import uuid

from safetynet.core.ids import SeededIds


def test_seeded_ids_are_exactly_uuid4_of_the_same_bits() -> None:
    ids, bits = SeededIds(7), random.Random("safetynet-ids:7")
    for _ in range(20_000):
        made = ids.new_id()
        assert made == str(uuid.UUID(int=bits.getrandbits(128), version=4))
        assert uuid.UUID(made).version == 4


def test_the_same_seed_gives_the_same_ids_and_another_seed_others() -> None:
    first, again, other = SeededIds("a"), SeededIds("a"), SeededIds("b")
    made = [first.new_id() for _ in range(100)]
    assert made == [again.new_id() for _ in range(100)]
    assert not set(made) & {other.new_id() for _ in range(100)}
