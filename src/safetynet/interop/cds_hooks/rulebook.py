"""The rulebook as a small HTML page, one section per rule with the rule's id (lower case) as its anchor: where a
card's ``source.url`` points unless SAFETYNET_CDS_RULEBOOK_URL names another copy. Generated from the registry,
like docs/rules.md, so it cannot drift from the rules the cards come from."""

from __future__ import annotations

from html import escape

from safetynet.rules.registry import RULES


def rulebook_html() -> str:
    sections = []
    for rule in RULES.values():
        fields = rule.parameters.model_fields
        params = "".join(
            f"<li><code>{escape(name)}</code> = {escape(str(f.default))}: {escape(f.description or '')}</li>"
            for name, f in fields.items()
        )
        sections.append(
            f'<section id="{rule.id.lower()}">'
            f"<h2>{rule.id} {escape(rule.title)}</h2>"
            f"<p><small>{escape(rule.name)}, version {rule.version}, {rule.kind} rule</small></p>"
            f"<p>{escape(rule.explanation)}</p>"
            f"<p><strong>Answers:</strong> {escape(rule.answers)}</p>"
            + (f"<ul>{params}</ul>" if params else "")
            + "</section>"
        )
    return (
        '<!doctype html><html lang="en-GB"><head><meta charset="utf-8"><title>Safetynet rulebook</title></head>'
        "<body><h1>The Safetynet rulebook</h1>"
        "<p>Rules support clinical judgement and never replace it: no rule scores a person low, medium or high.</p>"
        + "".join(sections)
        + "</body></html>"
    )
