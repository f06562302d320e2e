"""Compile-time policy of sandboxed script tasks: what RestrictedPython lets through, and the guards it adds."""

from __future__ import annotations

import ast
import copy
import types
from functools import lru_cache
from typing import Any

from RestrictedPython import RestrictingNodeTransformer, compile_restricted_exec
from RestrictedPython.transformer import INSPECT_ATTRIBUTES, copy_locations

from ..errors import ExpressionError
from ._limits import MAX_FORMAT_WIDTH, LimitExceeded, check_format_spec

SCRIPT_FILENAME = "<script>"
TRUST_HINT = "is not allowed in a sandboxed script; pass --trust-scripts to run scripts as full Python"
_GUARDED_BINOPS = {ast.Add: "+", ast.Mult: "*", ast.Pow: "**", ast.LShift: "<<", ast.Mod: "%"}


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's policy with our wording, no imports or classes, and size-checked operators."""

    def check_name(self, node: Any, name: str | None, allow_magic_methods: bool = False) -> None:
        if name and name.startswith("_") and name != "_":
            self.error(node, f"the name '{name}'")
        else:
            super().check_name(node, name, allow_magic_methods)

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        if node.attr.startswith("_") or node.attr in INSPECT_ATTRIBUTES:
            self.error(node, f"the attribute '{node.attr}'")
            return node
        return super().visit_Attribute(node)

    def visit_Import(self, node: ast.Import) -> Any:
        self.error(node, "import")
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> Any:
        self.error(node, "import")
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> Any:
        self.error(node, "a class definition")
        return node

    # Every loop iteration and function call starts with `_tick_(line)`, which enforces the time and memory limits.
    def visit_While(self, node: ast.While) -> Any:
        return self._ticking(super().visit_While(node))

    def visit_For(self, node: ast.For) -> Any:
        return self._ticking(super().visit_For(node))

    def visit_FunctionDef(self, node: ast.FunctionDef) -> Any:
        return self._ticking(super().visit_FunctionDef(node))

    @staticmethod
    def _ticking(node: Any) -> Any:
        tick = ast.Expr(_call("_tick_", [ast.Constant(node.lineno)], node))
        copy_locations(tick, node)
        node.body.insert(0, tick)
        return node

    def visit_comprehension(self, node: ast.comprehension) -> Any:
        node = super().visit_comprehension(node)
        node.ifs.insert(0, _call("_tick_", [ast.Constant(node.iter.lineno)], node.iter))
        return node

    def visit_Call(self, node: ast.Call) -> Any:
        if isinstance(node.func, ast.Name) and node.func.id in ("exec", "eval", "compile", "open", "__import__"):
            self.error(node, f"{node.func.id}()")
            return node
        return super().visit_Call(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> Any:
        # RestrictedPython refuses `totals[key] += 1`; rewrite it as `totals[key] = totals[key] + 1`, which
        # evaluates `totals` and `key` twice -- harmless for the plain names and constants scripts use there.
        if isinstance(node.target, ast.Subscript):
            load = ast.Subscript(value=copy.deepcopy(node.target.value), slice=copy.deepcopy(node.target.slice),
                                 ctx=ast.Load())
            assign = ast.Assign(targets=[node.target], value=ast.BinOp(left=load, op=node.op, right=node.value))
            ast.copy_location(load, node.target)
            ast.copy_location(assign.value, node)
            ast.copy_location(assign, node)
            return self.visit(assign)
        return super().visit_AugAssign(node)

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        node = self.node_contents_visit(node)
        symbol = _GUARDED_BINOPS.get(type(node.op))
        if symbol is None:
            return node
        return _call("_op_", [ast.Constant(symbol), node.left, node.right], node)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> Any:
        spec = node.format_spec
        if spec is not None:
            if not all(isinstance(part, ast.Constant) for part in getattr(spec, "values", [])):
                self.error(node, "a computed format spec in an f-string")
                return node
            try:
                check_format_spec("".join(str(part.value) for part in spec.values))  # type: ignore[attr-defined]
            except LimitExceeded:
                self.error(node, f"an f-string format width over {MAX_FORMAT_WIDTH:,}")
                return node
        # Only the value: the spec is a constant JoinedStr that must stay one (visit_JoinedStr would wrap it).
        node.value = self.visit(node.value)
        return node

    def visit_JoinedStr(self, node: ast.JoinedStr) -> Any:
        return _call("_size_", [super().visit_JoinedStr(node)], node)

    def visit_List(self, node: ast.List) -> Any:
        return self._sized_display(super().visit_List(node))

    def visit_Tuple(self, node: ast.Tuple) -> Any:
        return self._sized_display(super().visit_Tuple(node))

    def visit_Set(self, node: ast.Set) -> Any:
        return self._sized_display(super().visit_Set(node))

    @staticmethod
    def _sized_display(node: Any) -> Any:
        # `[*xs, *xs]` doubles a list without any guarded operator, so check displays that unpack.
        if isinstance(getattr(node, "ctx", None), ast.Load) and any(isinstance(e, ast.Starred) for e in node.elts):
            return _call("_size_", [node], node)
        return node

    def visit_Assign(self, node: ast.Assign) -> Any:
        # `xs[len(xs):] = xs` grows a list in place; check the assigned value's size.
        if any(isinstance(t, ast.Subscript) and isinstance(t.slice, ast.Slice) for t in node.targets):
            node.value = _call("_size_", [node.value], node.value)
        return super().visit_Assign(node)


def _call(name: str, args: list[ast.expr], where: ast.AST) -> ast.Call:
    new = ast.Call(func=ast.Name(name, ast.Load()), args=args, keywords=[])
    copy_locations(new, where)
    copy_locations(new.func, where)
    return new


@lru_cache(maxsize=256)
def compile_sandboxed(script: str) -> types.CodeType:
    try:
        tree = ast.parse(script, SCRIPT_FILENAME, "exec")
    except SyntaxError as exc:
        raise ExpressionError(syntax_message(exc)) from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError("script is nested too deeply or contains invalid characters") from None
    result = compile_restricted_exec(tree, SCRIPT_FILENAME, policy=_Policy)
    if result.errors:
        raise ExpressionError(_policy_message(result.errors[0]))
    assert result.code is not None
    return result.code


def syntax_message(exc: SyntaxError) -> str:
    text = (exc.text or "").strip()
    return f"script line {exc.lineno or 1}: {exc.msg}" + (f" in {text!r}" if text else "")


def _policy_message(error: str) -> str:
    # RestrictedPython reports 'Line N: <what>'; ours name only the forbidden thing, its own are full sentences.
    head, _, what = error.partition(": ")
    line = head.removeprefix("Line ").strip()
    what = what.rstrip(".")
    if what.endswith(" not allowed"):
        return f"script line {line}: {what} in a sandboxed script; pass --trust-scripts to run scripts as full Python"
    if " is " in what or " are " in what:
        return f"script line {line}: {what}; this {TRUST_HINT}"
    return f"script line {line}: {what} {TRUST_HINT}"

