"""The audit trail is a hash chain: every kind of tampering is found, and where, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from safetynet.audit import chain
from safetynet.core.clock import FixedClock
from safetynet.core.db import make_engine
from tests.audit.helpers import attacker, kinds, verify, write_events

EVENTS = 6


@pytest.fixture
def url(fresh_url: str, clock: FixedClock) -> str:
    write_events(fresh_url, clock, EVENTS)
    return fresh_url


def _row(url: str, seq: int) -> dict[str, object]:
    engine = make_engine(url)
    with engine.connect() as connection:
        row = connection.execute(text("SELECT * FROM audit_events WHERE seq = :s"), {"s": seq}).mappings().one()
    engine.dispose()
    return dict(row)


def test_an_untouched_trail_verifies_link_by_link_from_the_genesis(url: str) -> None:
    result = verify(url)
    assert result.ok, result.problems
    assert (result.events, result.last_seq, result.head_seq) == (EVENTS, EVENTS, EVENTS)
    first, second = _row(url, 1), _row(url, 2)
    assert first["prev_hash"] == chain.GENESIS
    assert second["prev_hash"] == first["event_hash"]
    assert result.head_hash == _row(url, EVENTS)["event_hash"]


def test_the_database_refuses_an_edit_while_the_guard_is_in_place(url: str) -> None:
    engine = make_engine(url)
    with pytest.raises(DatabaseError, match="append-only"), engine.begin() as connection:
        connection.execute(text("UPDATE audit_events SET actor_name = 'Mallory' WHERE seq = 3"))
    engine.dispose()


def test_an_edited_event_is_found_by_its_place(url: str) -> None:
    with attacker(url) as sql:
        sql.execute(text("UPDATE audit_events SET actor_name = 'Mallory' WHERE seq = 3"))
    result = verify(url)
    assert not result.ok
    assert kinds(result) == {("edited", 3)}
    assert "seq 3" in result.problems[0].message


def test_an_edited_time_is_found(url: str) -> None:
    with attacker(url) as sql:
        sql.execute(text("UPDATE audit_events SET purpose = 'research' WHERE seq = 5"))
    assert kinds(verify(url)) == {("edited", 5)}


def test_a_deleted_event_is_found_as_a_gap(url: str) -> None:
    with attacker(url) as sql:
        sql.execute(text("DELETE FROM audit_events WHERE seq = 3"))
    result = verify(url)
    assert kinds(result) == {("missing", 3)}
    assert "deleted" in result.problems[0].message


def test_events_cut_off_the_end_are_found_by_the_chain_head(url: str) -> None:
    with attacker(url) as sql:
        sql.execute(text(f"DELETE FROM audit_events WHERE seq >= {EVENTS - 1}"))
    result = verify(url)
    assert [p.kind for p in result.problems] == ["head"]
    assert f"ends at seq {EVENTS - 2}" in result.problems[0].message


def test_an_event_inserted_round_the_chain_is_found(url: str) -> None:
    with attacker(url) as sql:
        sql.execute(
            text(
                "INSERT INTO audit_events (at, actor_name, actor_role, action, entity, purpose) "
                "VALUES ('2024-01-15 12:00:00.000000', 'Mallory', 'key_worker', 'read', 'chart', 'direct care')"
            )
        )
    result = verify(url)
    assert [p.kind for p in result.problems] == ["outside_chain"]


def test_an_event_slipped_into_the_middle_with_a_well_made_hash_is_found(url: str) -> None:
    """The attacker knows the algorithm: renumbers the later events and chains the forged one properly."""
    before = _row(url, 2)
    with attacker(url) as sql:
        for seq in range(EVENTS, 2, -1):  # from the end, so seq stays unique
            sql.execute(text("UPDATE audit_events SET seq = seq + 1 WHERE seq = :s"), {"s": seq})
        content = ("2024-01-15 10:01:30.000000", "Mallory", "key_worker", None, "read", "chart", None, "p-1", "x", None)
        forged = chain.digest(3, str(before["event_hash"]), content)
        sql.execute(
            text(
                "INSERT INTO audit_events (at, actor_name, actor_role, action, entity, patient_id, purpose, seq, "
                "prev_hash, event_hash) VALUES (:at, 'Mallory', 'key_worker', 'read', 'chart', 'p-1', 'x', 3, :p, :h)"
            ),
            {"at": "2024-01-15 10:01:30", "p": before["event_hash"], "h": forged},
        )
    result = verify(url)
    assert not result.ok
    assert ("edited", 4) in kinds(result)  # the renumbered event no longer matches its hash
    assert ("reordered", 4) in kinds(result)  # the forgery was written after the events it claims to precede


def test_an_event_added_at_the_end_with_a_well_made_hash_is_found_by_the_head(url: str) -> None:
    last = _row(url, EVENTS)
    content = ("2024-01-15 13:00:00.000000", "Mallory", "key_worker", None, "read", "chart", None, "p-1", "x", None)
    with attacker(url) as sql:
        sql.execute(
            text(
                "INSERT INTO audit_events (at, actor_name, actor_role, action, entity, patient_id, purpose, seq, "
                "prev_hash, event_hash) VALUES (:at, 'Mallory', 'key_worker', 'read', 'chart', 'p-1', 'x', :s, :p, :h)"
            ),
            {
                "at": "2024-01-15 13:00:00",
                "s": EVENTS + 1,
                "p": last["event_hash"],
                "h": chain.digest(EVENTS + 1, str(last["event_hash"]), content),
            },
        )
    assert [p.kind for p in verify(url).problems] == ["head"]


def test_two_events_swapped_in_order_are_found(url: str) -> None:
    with attacker(url) as sql:
        sql.execute(text("UPDATE audit_events SET seq = -1 WHERE seq = 2"))
        sql.execute(text("UPDATE audit_events SET seq = 2 WHERE seq = 3"))
        sql.execute(text("UPDATE audit_events SET seq = 3 WHERE seq = -1"))
    found = kinds(verify(url))
    assert {("edited", 2), ("edited", 3), ("reordered", 3)} <= found


def test_a_whole_rewritten_chain_passes_alone_but_not_against_an_anchor_kept_elsewhere(url: str) -> None:
    anchor = (4, str(_row(url, 4)["event_hash"]))
    assert verify(url, anchor).ok
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, seq FROM audit_events ORDER BY seq")).all()
    engine.dispose()
    with attacker(url) as sql:  # rewrite event 2, then recompute every later hash and the head
        sql.execute(text("UPDATE audit_events SET actor_name = 'Mallory' WHERE seq = 2"))
        prev = chain.GENESIS
        for ident, seq in rows:
            content = sql.execute(
                text(f"SELECT {', '.join(chain.CONTENT)} FROM audit_events WHERE id = :i"), {"i": ident}
            ).one()
            this = chain.digest(seq, prev, tuple(content))
            sql.execute(
                text("UPDATE audit_events SET prev_hash = :p, event_hash = :h WHERE id = :i"),
                {"p": prev, "h": this, "i": ident},
            )
            prev = this
        sql.execute(text("UPDATE audit_chain_head SET event_hash = :h"), {"h": prev})
    assert verify(url).ok  # a chain alone cannot tell: that is what the anchor is for
    assert kinds(verify(url, anchor)) == {("anchor", 4)}
