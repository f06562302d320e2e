"""Task ids that hash fast: UUIDs (version 4 format) that keep their hash and text, made without a system call."""

from __future__ import annotations

import itertools
import os
from uuid import UUID, SafeUUID

_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))
_SET = (0x8000 << 48) | (4 << 76)  # RFC 4122 variant, version 4: what uuid4() sets
_MASK = (1 << 128) - 1
_setattr = object.__setattr__


class TaskId(UUID):
    """A UUID equal to, and hashing as, the plain UUID of the same value (restored tasks have plain ones), whose
    hash and text are computed once: SpiffWorkflow keys every task dict by id and hashes ids hundreds of times per
    instance, and a saved state writes each id as text several times."""

    __slots__ = ("_hash", "_text")

    def __str__(self) -> str:  # saving a state writes each id several times
        try:
            return self._text
        except AttributeError:
            text = UUID.__str__(self)
            _setattr(self, "_text", text)
            return text

    def __hash__(self) -> int:
        try:
            return self._hash
        except AttributeError:  # made by copy or pickle, which restore only `int`
            value = hash(self.int)
            _setattr(self, "_hash", value)
            return value


def _reseed() -> None:
    global _base, _counter
    _base, _counter = int.from_bytes(os.urandom(16), "big"), itertools.count(1)


_base, _counter = 0, itertools.count(1)
_reseed()
os.register_at_fork(after_in_child=_reseed)  # a forked worker must not repeat its parent's ids


def new_task_id() -> TaskId:
    """A random starting point per process, then the next value (`next` on a count is atomic, so threads never
    share one): unique within the process (clearing the version and variant bits cannot make two of fewer than
    2**62 consecutive values equal), random across processes, and without a system call per task."""
    value = (((_base + next(_counter)) & _MASK) & _CLEAR) | _SET
    task_id = object.__new__(TaskId)
    _setattr(task_id, "int", value)
    _setattr(task_id, "is_safe", SafeUUID.unknown)
    _setattr(task_id, "_hash", hash(value))
    return task_id
