"""Measure what Safetynet promises about speed and memory, and write the figures to docs/benchmarks.md.

    python -m benchmarks.run                       # every section at its real sizes (tens of minutes)
    python -m benchmarks.run --section record      # one section (repeat --section for several)
    python -m benchmarks.run --quick               # small sizes: a smoke check that the harness still works
    python -m benchmarks.run --out PATH            # write somewhere else

Each area has one module here with ``TITLE``, ``INTRO`` and ``measure(quick) -> Report``; register it in SECTIONS.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from benchmarks import audit, cds_hooks, fhir, learning, load, oversight, record, rules, web
from benchmarks.report import DOCS, Report, machine, render, write_section

# name -> module; run in this order.
SECTIONS: dict[str, ModuleType] = {
    "record": record,
    "rules": rules,
    "audit": audit,
    "fhir": fhir,
    "oversight": oversight,
    "cds_hooks": cds_hooks,
    "learning": learning,
    "web": web,
    "load": load,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke check of the harness")
    parser.add_argument("--out", type=Path, default=DOCS, help=f"where to write the figures (default {DOCS})")
    parser.add_argument("--section", action="append", choices=sorted(SECTIONS), help="run only these sections")
    args = parser.parse_args(argv)
    for name in args.section or list(SECTIONS):
        module = SECTIONS[name]
        print(f"== {name}: {module.TITLE}", flush=True)
        facts = machine()
        measure: Callable[[bool], Report] = module.measure
        report = measure(args.quick)
        facts.insert(3, ("Load average when the run ended", " ".join(f"{x:.2f}" for x in os.getloadavg())))
        write_section(args.out, name, render(name, module.TITLE, module.INTRO, report, facts, args.quick))
    return 0


if __name__ == "__main__":
    sys.exit(main())
