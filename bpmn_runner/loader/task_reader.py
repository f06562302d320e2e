"""The TaskReader the loader hands the spec builder (`_spiff`), so it never imports the loader."""

from __future__ import annotations

from ..models import TaskReader
from .dialects import read_binding, read_connector, read_io_mappings, read_spiff_parameters
from .dmn import read_dmn_bytes, read_dmn_tree
from .listeners import read_listeners
from .scopes import read_scope
from .user_tasks import read_assignment

TASK_READER = TaskReader(binding=read_binding, io_mappings=read_io_mappings, spiff_parameters=read_spiff_parameters,
                         connector=read_connector, listeners=read_listeners, scope=read_scope,
                         assignment=read_assignment, decisions=read_dmn_tree,
                         decisions_from_bytes=read_dmn_bytes)
