"""The timeline picture is inline SVG with a text title, and the HTML has a table alternative listing the same
items: admissions with their legal status, concerns, police information with the date it was recorded, findings."""

from __future__ import annotations

import re

from safetynet.learning import pack, patterns
from tests.learning.conftest import Loaded


def test_the_html_has_the_picture_and_a_table_alternative(scenarios: dict[str, Loaded]) -> None:
    loaded = scenarios["relapse-cycle-review-pattern"]
    made = pack.build(
        loaded.ctx(), loaded.scenario.patient.nhs_number, start=loaded.first_day.date(), end=loaded.last_check.date()
    )
    html = pack.html(made)
    assert re.search(r'<svg [^>]*role="img"[^>]*aria-labelledby="timeline-title"', html)
    assert "The same items are listed in the table below." in html
    table = html[html.index('<table class="timeline-table">') : html.index("</table>", html.index("timeline-table"))]
    rows = re.findall(r"<tr><td>(.*?)</td>", table)
    assert rows.count("Admissions") == 4  # four admissions in the story
    assert {"Family concerns", "Police, courts, partners", "Finding SN07", "Finding SN01"} <= set(rows)
    assert "Admitted to Willow Ward (Section 2)" in table
    # the relapse cycle is recognised: every admission followed stopping medication
    assert made.patterns.relapse_cycle
    assert len(made.patterns.cycles) == 4
    assert any(s.startswith("Relapse cycle: 4 of 4 admissions") for s in made.patterns.sentences())


def test_a_story_with_no_admission_shows_no_relapse_cycle(scenarios: dict[str, Loaded]) -> None:
    loaded = scenarios["police-warrant-unread-inbox"]
    made = pack.build(
        loaded.ctx(), loaded.scenario.patient.nhs_number, start=loaded.first_day.date(), end=loaded.last_check.date()
    )
    assert patterns.find(made.chronology).cycles == []
    assert not made.patterns.relapse_cycle
