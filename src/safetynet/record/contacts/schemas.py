"""Inputs for contacts and appointments."""

from __future__ import annotations

from pydantic import AwareDatetime

from safetynet.record.common import FactIn
from safetynet.record.contacts.models import ContactMode, ContactOutcome


class ContactIn(FactIn):
    outcome: ContactOutcome
    mode: ContactMode
    planned: bool = True
    staff_id: str | None = None


class AppointmentIn(FactIn):
    due_at: AwareDatetime
    mode: ContactMode
    staff_id: str | None = None
