"""Inputs for acting on tasks and for rule settings. A rationale is required wherever judgement overrides a rule."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from safetynet.rules.model import Mode


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AcknowledgeIn(_In):
    rationale: str = Field(min_length=10, max_length=5000, description="What is being done about it.")


class DismissIn(_In):
    rationale: str = Field(min_length=10, max_length=5000, description="Why no action is needed.")


class SnoozeIn(_In):
    until: AwareDatetime
    rationale: str = Field(min_length=10, max_length=5000)


class RuleSettingIn(_In):
    mode: Mode
    parameters: dict[str, object] = Field(default_factory=dict)
    rationale: str = Field(min_length=10, max_length=5000)
