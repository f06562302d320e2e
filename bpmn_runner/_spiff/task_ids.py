"""Task ids that hash fast: random UUIDs (version 4) that keep their hash, made without uuid4's checks."""

from __future__ import annotations

import os
from uuid import UUID, SafeUUID

_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))
_SET = (0x8000 << 48) | (4 << 76)  # RFC 4122 variant, version 4: what uuid4() sets
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


def new_task_id() -> TaskId:
    value = (int.from_bytes(os.urandom(16), "big") & _CLEAR) | _SET
    task_id = object.__new__(TaskId)
    _setattr(task_id, "int", value)
    _setattr(task_id, "is_safe", SafeUUID.unknown)
    _setattr(task_id, "_hash", hash(value))
    return task_id
