"""What a report draws for one file: the modeler's diagrams, or a generated layout where the file draws nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .di import Diagram, read_diagrams
from .layout import generate_layout
from .semantics import Semantics

NO_DI_NOTE = "This file has no diagram layout (no BPMN DI)."
GENERATED_NOTE = "The diagram below is a generated left-to-right layout, not the modeler's."
DMN_NOTE = "This is a decision model (DMN); its decisions are listed under Decisions."


@dataclass
class Drawing:
    """The diagrams of one file, whether the file has its own DI, and notes for the reader."""

    diagrams: list[Diagram] = field(default_factory=list)
    has_di: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def di_element_ids(self) -> set[str]:
        """Ids of the elements the file's own DI draws (not the generated layout)."""
        return {i for d in self.diagrams if not d.generated for i in d.element_ids}


def read_drawing(root: Any, semantics: Semantics, *, layout_missing: bool = True) -> Drawing:
    """Every drawn plane; empty planes of collapsed sub-processes and files without DI get a generated layout."""
    diagrams, empty_planes = read_diagrams(root, semantics)
    drawing = Drawing(diagrams=diagrams, has_di=bool(diagrams))
    for empty in empty_planes if drawing.has_di else ():
        generated = generate_layout(semantics, [empty.plane_element or ""]) if layout_missing else []
        if generated:
            drawing.diagrams.extend(generated[:1])
        else:
            drawing.notes.append(f"Diagram \u201c{empty.name}\u201d is empty: nothing inside it is drawn "
                                 "in this file.")
    if not drawing.has_di:
        drawing.notes.append(NO_DI_NOTE)
        if layout_missing:
            generated = generate_layout(semantics)
            if generated:
                drawing.notes.append(GENERATED_NOTE)
            drawing.diagrams.extend(generated)
    return drawing
