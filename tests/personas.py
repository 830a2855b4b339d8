"""The people tests act as. Charlie has no access to anything; every access test includes him."""

from __future__ import annotations

from safetynet.core.context import Actor, Role

ALICE = Actor(name="Alice Key-Worker", role=Role.KEY_WORKER, purpose="direct care")
BOB = Actor(name="Bob Team-Manager", role=Role.TEAM_MANAGER, purpose="caseload management")
CAROL = Actor(name="Carol Consultant", role=Role.CONSULTANT, purpose="direct care")
DEV = Actor(name="Dev Safety-Lead", role=Role.SAFETY_LEAD, purpose="clinical governance")
CHARLIE = Actor(name="Charlie No-Access", role=Role.SYSTEM, purpose="none")
