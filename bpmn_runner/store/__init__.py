"""Durable storage on SQLAlchemy Core (SQLite by default, PostgreSQL by URL): the only package that imports
SQLAlchemy. It stores and returns plain records (`records.py`), never live workflows."""

from .database import ENV_VAR, open_store, resolve_url
from .records import (DefinitionRecord, InstanceRecord, JobRecord, LeaseLostError, MessageRecord, OutboxRecord,
                      StepRecord, WaitRecord)
from .page_reads import TaskMark, parse_task_mark, task_mark
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
    "TaskMark",
    "WaitRecord",
    "open_store",
    "parse_task_mark",
    "resolve_url",
    "task_mark",
]
