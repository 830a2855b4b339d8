"""CDS Hooks 2.0: Safetynet's findings in the record system clinicians already use (``docs/cds-hooks.md``).

``schemas`` (the specification's shapes as Pydantic models), ``services`` (discovery, patient-view,
encounter-discharge, feedback), ``cards`` (how a task or a gate decision becomes a card), ``settings``, and
``rulebook`` (the page cards' sources link to). The HTTP routes are in ``safetynet.web.cds_hooks``."""
