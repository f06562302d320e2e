"""Rules about SpiffArena user task forms: the JSON-schema and UI-schema files a user task names exist."""

from __future__ import annotations

from ..user_forms import find_form_file
from ..loader.dialects import NSMAP
from ..loader.documents import Document
from ._core import Context, Rule, describe

FORM_FILE_FOUND = Rule("form-file-found", "error", "a user task's formJsonSchemaFilename and formUiSchemaFilename "
                                                   "name files beside the diagram (or in its forms/ folder)")
RULES = (FORM_FILE_FOUND,)
_PROPERTIES = ("formJsonSchemaFilename", "formUiSchemaFilename")


def check_form_files(ctx: Context, document: Document) -> None:
    for task in ctx.index(document).elements("userTask"):
        for prop in task.xpath("./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property",
                               namespaces=NSMAP):
            name, value = prop.get("name"), (prop.get("value") or "").strip()
            if name in _PROPERTIES and value and find_form_file(document.path, value) is None:
                ctx.report(FORM_FILE_FOUND, document, task,
                           f"{describe(task)} names {name} {value!r}, which is not beside the diagram or in its "
                           f"forms/ folder; add the file or fix the name")


PER_DOCUMENT = (check_form_files,)
