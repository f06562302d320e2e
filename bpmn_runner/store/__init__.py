"""Durable storage on SQLAlchemy Core (SQLite by default, PostgreSQL by URL): the only package that imports
SQLAlchemy. It stores and returns plain records (`records.py`), never live workflows."""

from .database import ENV_VAR, open_store, resolve_url
from .records import (DefinitionRecord, InstanceRecord, JobRecord, LeaseLostError, MessageRecord, OutboxRecord,
                      StepRecord, WaitRecord)
from .repository import Store
from .schema import ENDED_STATUSES, OPEN_STATUSES, SCHEMA_VERSION, STATUSES

__all__ = [
    "DefinitionRecord",
    "ENDED_STATUSES",
    "ENV_VAR",
    "InstanceRecord",
    "JobRecord",
    "LeaseLostError",
    "MessageRecord",
    "OPEN_STATUSES",
    "OutboxRecord",
    "SCHEMA_VERSION",
    "STATUSES",
    "StepRecord",
    "Store",
    "WaitRecord",
    "open_store",
    "resolve_url",
]
