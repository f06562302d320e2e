"""Where a diagram asks for a commit point: Camunda 7's `asyncBefore`/`asyncAfter`, its external tasks, and
`runner:async` (bpmn-runner's namespace) for the dialects that have no such attribute."""

from __future__ import annotations

from typing import Iterable

from lxml import etree

from ..errors import UnsupportedElementError
from ..namespaces import BPMN_NS, CAMUNDA_NS, RUNNER_NS

ACTIVITIES = frozenset({"task", "serviceTask", "sendTask", "receiveTask", "userTask", "manualTask", "scriptTask",
                        "businessRuleTask", "callActivity", "subProcess", "transaction"})
# An activity that ends when something else finishes (its children, a called process) has no completion of its
# own a commit could follow; asyncAfter there is refused rather than ignored.
NO_ASYNC_AFTER = frozenset({"callActivity", "subProcess", "transaction"})


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def commit_points(processes: Iterable[etree._Element], file: str = "") -> dict[str, str]:
    """Element id -> "before", "after", "both" or "external" for each activity the diagram marks.

    `external` is a Camunda 7 external task (`camunda:type="external"`): always a job, since an external worker
    may take it; `before` commits before the activity runs, `after` once it has completed."""
    out: dict[str, str] = {}
    for process in processes:
        for element in process.iter():
            tag = element.tag
            if not isinstance(tag, str) or not tag.startswith(f"{{{BPMN_NS}}}"):
                continue
            local = tag[len(BPMN_NS) + 2:]
            runner = (element.get(f"{{{RUNNER_NS}}}async") or "").strip().lower()
            before = _true(element.get(f"{{{CAMUNDA_NS}}}asyncBefore")) or runner in ("before", "both")
            after = _true(element.get(f"{{{CAMUNDA_NS}}}asyncAfter")) or runner in ("after", "both")
            if runner and runner not in ("before", "after", "both"):
                raise UnsupportedElementError(f"{element.get('id')}: runner:async={runner!r} must be before, after "
                                              f"or both", file=file, line=element.sourceline,
                                              element_id=element.get("id"))
            if local not in ACTIVITIES:
                continue
            if after and local in NO_ASYNC_AFTER:
                raise UnsupportedElementError(f"{element.get('id')}: asyncAfter on a {local} is not supported "
                                              f"(put it on the activity after it, as asyncBefore)", file=file,
                                              line=element.sourceline, element_id=element.get("id"))
            key = element.get("id", "")
            if element.get(f"{{{CAMUNDA_NS}}}type") == "external":
                out[key] = "external" if not after else "both"
            elif before and after:
                out[key] = "both"
            elif before or after:
                out[key] = "before" if before else "after"
    return out
