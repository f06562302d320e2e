"""Request bodies of the project's API (they make the OpenAPI description at /api/openapi.json)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class StartRequest(BaseModel):
    """Start an instance of a process (its newest version unless `version` is given)."""

    variables: dict[str, Any] = Field(default_factory=dict, description="Process variables (plain JSON values).")
    business_key: str | None = Field(None, description="Camunda 7 style business key (need not be unique).")
    version: int | None = Field(None, description="The process version to start; default the newest.")


class CompleteRequest(BaseModel):
    """Complete a user task; the values are checked against the task's form fields."""

    variables: dict[str, Any] = Field(default_factory=dict)


class ClaimRequest(BaseModel):
    user: str | None = Field(None, description="The user to assign; null unclaims the task.")


class MessageRequest(BaseModel):
    name: str
    correlation_keys: dict[str, Any] = Field(default_factory=dict,
                                             description="Correlation key values, e.g. {\"orderId\": \"A-1\"}.")
    business_key: str | None = None
    variables: dict[str, Any] = Field(default_factory=dict, description="The message payload.")
    message_id: str | None = Field(None, description="A second message with this id is refused.")
    ttl: float | None = Field(None, ge=0, description="Seconds to buffer it when nothing waits yet.")


class SignalRequest(BaseModel):
    name: str
    variables: dict[str, Any] = Field(default_factory=dict)
