"""CDS Hooks 2.0 shapes as Pydantic models: discovery, the hook request, cards, and feedback.

Field names are the specification's (camelCase). Optional attributes left empty are omitted when serialised, as
the specification requires ("OPTIONAL attributes without a value are omitted", never null or empty), so always
dump with ``dump()``. Requests are parsed strictly enough to refuse what the specification forbids (a request
without ``hook``, ``hookInstance`` or ``context``; ``fhirAuthorization`` without ``fhirServer``) and loosely
enough to accept what it allows (extensions, unknown context fields from newer hook versions).
"""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from safetynet.interop.text import NUL_MESSAGE, has_nul

Indicator = Literal["info", "warning", "critical"]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def dump(self) -> dict[str, Any]:
        """JSON-ready, with unset optional attributes omitted (the specification forbids null)."""
        return self.model_dump(mode="json", exclude_none=True)


def _refuse_nul(value: Any) -> None:
    """NUL characters anywhere in a request, extensions included: such a request is malformed (400)."""
    if has_nul(value):
        raise ValueError(NUL_MESSAGE)


class _In(BaseModel):
    model_config = ConfigDict(extra="allow")  # newer hook versions and `extension` objects are allowed

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        _refuse_nul(data)
        return data


# --- shared ---------------------------------------------------------------------------------------------------


class Coding(_Out):
    system: str | None = None
    code: str
    display: str | None = None


class CodingIn(_In):
    system: str | None = None
    code: str = Field(min_length=1)
    display: str | None = None


# --- discovery ------------------------------------------------------------------------------------------------


class ServiceDefinition(_Out):
    hook: str
    title: str
    description: str
    id: str
    prefetch: dict[str, str] | None = None
    usageRequirements: str | None = None  # noqa: N815 (the specification's name)


class Discovery(_Out):
    services: list[ServiceDefinition]


# --- the hook request -----------------------------------------------------------------------------------------


class FhirAuthorization(_In):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    scope: str
    subject: str


class PatientViewContext(_In):
    userId: str = Field(min_length=1)  # noqa: N815
    patientId: str = Field(min_length=1)  # noqa: N815
    encounterId: str | None = None  # noqa: N815


class EncounterDischargeContext(_In):
    userId: str = Field(min_length=1)  # noqa: N815
    patientId: str = Field(min_length=1)  # noqa: N815
    encounterId: str = Field(min_length=1)  # noqa: N815


class HookRequest(_In):
    hook: str = Field(min_length=1)
    hookInstance: UUID  # noqa: N815
    fhirServer: str | None = None  # noqa: N815
    fhirAuthorization: FhirAuthorization | None = None  # noqa: N815
    context: dict[str, Any]
    prefetch: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _server_with_authorization(self) -> HookRequest:
        if self.fhirAuthorization is not None and not self.fhirServer:
            raise ValueError("fhirServer is required when fhirAuthorization is given")
        return self


# --- the response: cards ----------------------------------------------------------------------------------------


class Source(_Out):
    label: str
    url: str | None = None
    icon: str | None = None
    topic: Coding | None = None


class Action(_Out):
    type: Literal["create", "update", "delete"]
    description: str
    resource: dict[str, Any] | None = None
    resourceId: str | None = None  # noqa: N815


class Suggestion(_Out):
    label: str
    uuid: str | None = None
    isRecommended: bool | None = None  # noqa: N815
    actions: list[Action] | None = None


class Link(_Out):
    label: str
    url: str
    type: Literal["absolute", "smart"]
    appContext: str | None = None  # noqa: N815


class Card(_Out):
    uuid: str | None = None
    summary: str = Field(max_length=139)  # "<140-character summary"
    detail: str | None = None
    indicator: Indicator
    source: Source
    suggestions: list[Suggestion] | None = None
    selectionBehavior: Literal["at-most-one", "any"] | None = None  # noqa: N815
    overrideReasons: list[Coding] | None = None  # noqa: N815
    links: list[Link] | None = None

    @model_validator(mode="after")
    def _selection_with_suggestions(self) -> Card:
        if self.suggestions and self.selectionBehavior is None:
            raise ValueError("selectionBehavior is required when a card has suggestions")
        return self


class CdsResponse(_Out):
    cards: list[Card]
    systemActions: list[Action] | None = None  # noqa: N815

    def dump(self) -> dict[str, Any]:
        out = super().dump()
        out["cards"] = [card.dump() for card in self.cards]  # an empty list is meaningful here: "no guidance"
        return out


# --- feedback -----------------------------------------------------------------------------------------------------


class AcceptedSuggestion(_In):
    id: str = Field(min_length=1)


class OverrideReason(_In):
    reason: CodingIn | None = None
    userComment: str | None = None  # noqa: N815


class Feedback(_In):
    card: str = Field(min_length=1)
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[AcceptedSuggestion] | None = None  # noqa: N815
    overrideReason: OverrideReason | None = None  # noqa: N815
    outcomeTimestamp: str = Field(min_length=1, json_schema_extra={"format": "date-time"})  # noqa: N815


class FeedbackRequest(_In):
    feedback: list[Feedback] = Field(min_length=1)
