"""What a carer's consent to share covers is read from its scope as a list of named items, never from words that
merely mention an item (hazard H15: a scope saying what is not shared must not share it)."""

from __future__ import annotations

import pytest

from safetynet.record.channels import consented_in_words, consented_items


@pytest.mark.parametrize(
    ("scope", "items"),
    [
        (None, ["key_worker_contact"]),  # consent with no scope: only how to reach the team
        ("  ", ["key_worker_contact"]),
        ("the crisis plan and appointments", ["crisis_plan", "appointments"]),
        ("Crisis plan; Appointments", ["crisis_plan", "appointments"]),
        ("key worker contact & crisis", ["key_worker_contact", "crisis_plan"]),
        ("crisis plan, but not appointments", ["crisis_plan"]),
        ("not the crisis plan", []),
        ("anything except the crisis plan", []),
        ("no contact", []),
        ("everything", []),
    ],
)
def test_a_scope_shares_only_the_items_it_lists(scope: str | None, items: list[str]) -> None:
    assert consented_items(scope) == items


def test_the_clinician_is_shown_how_the_scope_was_read() -> None:
    assert consented_in_words("the crisis plan and appointments") == "the crisis plan and appointments"
    assert consented_in_words("not the crisis plan").startswith("nothing")
