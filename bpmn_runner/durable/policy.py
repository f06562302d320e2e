"""Durable-instance policies: definition identity, correlation key strings, job retries and their backoff."""

from __future__ import annotations

import hashlib
from typing import Any, Iterable

from ..expressions.feel_bridge import to_string as feel_string
from ..models import Binding
from ..store import JobRecord
from ..timing import duration_seconds

DEFAULT_TTL = 3600.0          # seconds a published message that nothing waits for stays buffered
DEFAULT_ATTEMPTS = 3
BASE_BACKOFF = 1.0            # seconds before the second attempt; doubles each time ...
MAX_BACKOFF = 60.0            # ... up to this


def content_hash(contents: Iterable[bytes]) -> str:
    """sha256 over the sorted file contents: the same files give the same definition, whatever their names."""
    digest = hashlib.sha256()
    for content in sorted(contents):
        digest.update(len(content).to_bytes(8, "big"))
        digest.update(content)
    return digest.hexdigest()


def key_string(value: Any) -> str | None:
    """A correlation key as a string, as Zeebe compares them: 42 and "42" match; 42.0 is "42"."""
    return feel_string(value)


#: A positive ISO 8601 duration in seconds (a month counts 30 days, a year 365): timing's one parser.
parse_duration = duration_seconds


def retry_policy(binding: Binding | dict[str, Any]) -> tuple[int, list[float] | None]:
    """(attempts, backoff seconds or None for the default) from `zeebe:taskDefinition retries` or
    `camunda:failedJobRetryTimeCycle` (`R5/PT1M`: 5 attempts 1 minute apart; `PT1M,PT5M`: 3 attempts)."""
    retries = binding.get("retries") if isinstance(binding, dict) else binding.retries
    cycle = binding.get("retry_cycle") if isinstance(binding, dict) else binding.retry_cycle
    if retries is not None:
        return max(1, int(retries)), None
    if cycle:
        text = str(cycle).strip()
        try:
            if text.upper().startswith("R"):
                count, _, duration = text.partition("/")
                return max(1, int(count[1:] or DEFAULT_ATTEMPTS)), [parse_duration(duration)]
            waits = [parse_duration(part) for part in text.split(",") if part.strip()]
            return len(waits) + 1, waits
        except ValueError:
            pass  # validate reports the malformed cycle; run with the defaults
    return DEFAULT_ATTEMPTS, None


def backoff_after(job: JobRecord, attempt: int) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based)."""
    if job.backoff:
        return float(job.backoff[min(attempt - 1, len(job.backoff) - 1)])
    return min(BASE_BACKOFF * 2 ** (attempt - 1), MAX_BACKOFF)
