"""CloudEvents 1.0 in structured JSON mode, by hand (the format is seven attributes; no SDK needed): read an
inbound event strictly, write an outbound one."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ..store import OutboxRecord

CONTENT_TYPE = "application/cloudevents+json"
REQUIRED = ("specversion", "id", "source", "type")


class PoisonEvent(Exception):
    """An inbound event that cannot be used; it goes to the dead-letter destination with this reason."""


@dataclass(frozen=True)
class CloudEvent:
    id: str
    source: str
    type: str
    data: dict[str, Any]
    attributes: dict[str, Any]

    @property
    def inbox_id(self) -> str:
        """The key of the inbox: CloudEvents ids are unique within their source."""
        return f"{self.source} {self.id}"[:255]


def parse_event(body: bytes) -> CloudEvent:
    """A structured-mode CloudEvent 1.0 with a JSON object as `data`; anything else raises PoisonEvent."""
    try:
        value = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise PoisonEvent("the body is not UTF-8 text (a structured-mode CloudEvent is JSON)") from None
    except json.JSONDecodeError as exc:
        raise PoisonEvent(f"the body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if not isinstance(value, dict):
        raise PoisonEvent("the body is not a JSON object (a structured-mode CloudEvent)")
    missing = [a for a in REQUIRED if not isinstance(value.get(a), str) or not value.get(a)]
    if missing:
        raise PoisonEvent(f"not a CloudEvent: attribute {missing[0]!r} is missing or not a non-empty string")
    if value["specversion"] != "1.0":
        raise PoisonEvent(f"CloudEvents specversion {value['specversion']!r} is not supported (use \"1.0\")")
    if "data_base64" in value:
        raise PoisonEvent("binary data (data_base64) is not supported: send data as a JSON object")
    content_type = value.get("datacontenttype", "application/json")
    if not isinstance(content_type, str) or not (content_type.split(";")[0].strip() == "application/json"
                                                 or content_type.split(";")[0].strip().endswith("+json")):
        raise PoisonEvent(f"datacontenttype {content_type!r} is not JSON (use application/json)")
    data = value.get("data", {})
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise PoisonEvent("data is not a JSON object (the bridge hands data to the process as variables)")
    attributes = {k: v for k, v in value.items() if k != "data"}
    return CloudEvent(value["id"], value["source"], value["type"], data, attributes)


def outbound_event(row: OutboxRecord, *, source: str, type_: str) -> bytes:
    """The CloudEvent a thrown message becomes; its `id` is the thrown message's, the same on every re-publish."""
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": row.id,
        "source": source,
        "type": type_,
        "time": datetime.fromtimestamp(row.created_at, timezone.utc).isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/json",
    }
    subject = row.correlation_key or row.business_key
    if subject:
        event["subject"] = subject
    event["bpmninstance"] = row.instance_id  # an extension attribute: the instance that threw it
    event["data"] = message_data(row.payload)
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def message_data(payload: Any) -> Any:
    """A thrown message's payload as event data (a Camunda payload expression's value is unwrapped)."""
    if isinstance(payload, dict) and set(payload) == {"payload", "result_var"}:
        return payload["payload"]
    return payload
