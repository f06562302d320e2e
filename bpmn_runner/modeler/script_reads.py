"""The process variables a Python script reads: names loaded before the script assigns them."""

from __future__ import annotations

import ast
import builtins

from ..expressions.script_names import SCRIPT_MODULES

_PROVIDED = set(dir(builtins)) | set(SCRIPT_MODULES) | {
    "get_env", "get_current_user", "get_frontend_url", "get_process_initiator_user", "get_toplevel_process_info",
    "get_process_info", "get_current_task_info", "get_last_user_completing_task", "get_secret"}


def script_reads(script: str) -> set[str]:
    """Names the script reads from the data (in source order, a load before any store of that name)."""
    try:
        tree = ast.parse(script)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    names = sorted((n for n in ast.walk(tree) if isinstance(n, ast.Name)),
                   key=lambda n: (n.lineno, n.col_offset, isinstance(n.ctx, ast.Store)))
    bound = {a.arg for a in ast.walk(tree) if isinstance(a, ast.arg)}
    bound |= {f.name for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))}
    stored: set[str] = set()
    reads: set[str] = set()
    for node in names:
        if isinstance(node.ctx, ast.Store):
            stored.add(node.id)
        elif node.id not in stored and node.id not in bound and node.id not in _PROVIDED:
            reads.add(node.id)
    return reads
