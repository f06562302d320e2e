"""Who started an instance and who last completed each user task, kept with the instance's saved state (the
completed tasks themselves leave the frontier-only state): SpiffArena's get_process_initiator_user() and
get_last_user_completing_task() answer from it."""

from __future__ import annotations

import copy
from typing import Any

from . import clock

ATTRIBUTE = "_runner_people"
STATE_KEY = "people"


def people_of(workflow: Any) -> dict[str, Any]:
    """{"initiator": user or None, "completed": {"process_id/element_id": {"user", "at"}}} (created on first use)."""
    state = getattr(workflow, ATTRIBUTE, None)
    if not isinstance(state, dict):
        state = {"initiator": None, "completed": {}}
        setattr(workflow, ATTRIBUTE, state)
    return state


def set_initiator(workflow: Any, user: str | None) -> None:
    people_of(workflow)["initiator"] = user


def record_completion(workflow: Any, process_id: str, element_id: str, user: str | None, at: float) -> None:
    """The last completion of each user task only: a task in a loop does not grow the saved state."""
    people_of(workflow)["completed"][f"{process_id}/{element_id}"] = {"user": user, "at": at}


def last_completion(workflow: Any, process_id: str, element_id: str) -> dict[str, Any] | None:
    completed = people_of(workflow)["completed"]
    found = completed.get(f"{process_id}/{element_id}")
    if found is None:  # a task of a called process or sub-process named by its own id alone
        matches = [v for k, v in completed.items() if k.rsplit("/", 1)[-1] == element_id]
        found = max(matches, key=lambda v: v.get("at") or 0) if matches else None
    return dict(found) if found is not None else None


def state_for_save(workflow: Any) -> dict[str, Any] | None:
    state = getattr(workflow, ATTRIBUTE, None)
    if not isinstance(state, dict) or (state.get("initiator") is None and not state.get("completed")):
        return None
    return copy.deepcopy(state)


def restore_state(workflow: Any, state: dict[str, Any] | None) -> None:
    if isinstance(state, dict):
        setattr(workflow, ATTRIBUTE, {"initiator": state.get("initiator"),
                                      "completed": dict(state.get("completed") or {})})


class PeopleRecorder:
    """Mixed into Session: the people ledger of its workflow, and the completing user on the history event."""

    workflow: Any
    history: list[Any]

    def _record_completing_user(self, task: Any, user: str, mark: int) -> None:
        element_id = task.task_spec.bpmn_id
        for event in self.history[mark:]:
            if event.element_id == element_id and event.event == "completed":
                event.detail = f"completed by {user}"
        record_completion(self.workflow, task.workflow.spec.name, element_id, user, clock.timestamp())

    def people(self) -> dict[str, Any]:
        """Who started the instance and who last completed each user task."""
        return copy.deepcopy(people_of(self.workflow))

    def set_initiator(self, user: str | None) -> None:
        set_initiator(self.workflow, user)

    def last_user_completing(self, process_id: str, element_id: str) -> str | None:
        found = last_completion(self.workflow, process_id, element_id)
        return found.get("user") if found else None
