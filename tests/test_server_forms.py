"""A user task's fields as page inputs and the posted text read back into typed values (bpmn_runner/server/pages/
forms.py), for the field types of Camunda 7 generated forms (docs.camunda.org/manual/7.15/user-guide/task-forms:
string, long, boolean, date, enum) and of JSON-schema forms (number)."""

from __future__ import annotations

from bpmn_runner.server.pages.forms import errors_by_field, field_views, read_submission

FIELDS = [{"id": "name", "label": "Name", "type": "string", "required": True},
          {"id": "count", "label": "Count", "type": "long"},
          {"id": "ok", "label": "OK?", "type": "boolean", "default": "true"},
          {"id": "when", "label": "When", "type": "date", "default": "31/01/2025"},
          {"id": "size", "label": "Size", "type": "enum", "options": ["S", "L"]},
          {"id": "price", "label": "Price", "type": "number"}]


def test_each_type_gets_its_input_and_its_default() -> None:
    views = {v["id"]: v for v in field_views(FIELDS, {}, {"count": "must be a whole number"})}
    assert [views[k]["input"] for k in ("name", "count", "ok", "when", "size", "price")] == \
        ["text", "number", "checkbox", "date", "select", "number"]
    assert views["ok"]["value"] is True and views["when"]["value"] == "2025-01-31"
    assert views["count"]["step"] == "1" and views["price"]["step"] == "any"
    assert views["count"]["error"] == "must be a whole number" and views["name"]["required"] is True


def test_the_posted_text_becomes_typed_values() -> None:
    data, errors = read_submission(FIELDS, {"name": " Ada ", "count": "-3", "when": "2025-02-01", "size": "L",
                                            "price": "2.5"})
    assert errors == {}
    assert data == {"name": "Ada", "count": -3, "ok": False, "when": "2025-02-01", "size": "L", "price": 2.5}


def test_wrong_values_are_named_by_field() -> None:
    data, errors = read_submission(FIELDS, {"count": "1.5", "size": "XL", "price": "cheap", "ok": "on"})
    assert errors == {"name": "is required", "count": "must be a whole number, not '1.5'",
                      "size": "must be one of S, L", "price": "must be a number, not 'cheap'"}
    assert data == {"ok": True}


def test_the_engines_refusals_are_split_by_field() -> None:
    fields = [{"id": "reason"}, {"id": "days"}]
    message = ("the data does not fit the form of Ask: field 'days': 'x' is not of type 'integer'; "
               "'reason' is required")
    assert errors_by_field(message, fields) == {"days": "field 'days': 'x' is not of type 'integer'",
                                                "reason": "'reason' is required"}
    assert errors_by_field("form field 'days' (Days) must be at most 10", fields) == \
        {"days": "form field 'days' (Days) must be at most 10"}
    assert errors_by_field("something else went wrong", fields) == {}
