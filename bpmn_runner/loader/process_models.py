"""SpiffArena's process-model tree: folders marked by process_group.json / process_model.json, where a call
activity or a business rule task finds its process or decision by id anywhere in the tree."""

from __future__ import annotations

from pathlib import Path

from .documents import Document

MARKERS = ("process_group.json", "process_model.json")
MAX_FILES = 5000  # a tree is searched file by file; stop rather than read a whole disk


def _marked(folder: Path) -> bool:
    return any((folder / marker).is_file() for marker in MARKERS)


def find_models_root(documents: list[Document]) -> Path | None:
    """The folder that holds the SpiffArena tree the diagrams are in: going up from a diagram's folder while the
    folder is a process model or group, the first folder that is not; None when the diagrams are in no tree."""
    for doc in documents:
        folder = doc.path.resolve().parent
        if not _marked(folder):
            continue
        while folder.parent != folder and _marked(folder):
            folder = folder.parent
        return folder
    return None


def tree_candidates(root: Path, documents: list[Document]) -> list[Path]:
    """Every .bpmn and .dmn file under the tree root that is not loaded yet (hidden folders left out)."""
    loaded = {d.path.resolve() for d in documents}
    out: list[Path] = []
    for path in sorted(root.rglob("*")):
        if len(out) >= MAX_FILES:
            break
        if any(part.startswith(".") for part in path.relative_to(root).parts):
            continue
        try:
            if path.suffix.lower() in (".bpmn", ".dmn") and path.is_file() and path.resolve() not in loaded:
                out.append(path)
        except OSError:  # a file that cannot be looked at does not stop the lookup
            continue
    return out
