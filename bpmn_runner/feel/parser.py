"""FEEL parser: tokens to a tuple AST, for expressions and unary tests (DMN 1.5 10.3.1 grammar and precedence)."""

from __future__ import annotations

from typing import Any

from .errors import FeelSyntaxError
from .parser_base import _COMPARISONS, KEYWORDS, MAX_DEPTH, Cursor, NameIndex, Node
from .temporal import parse_temporal
from .values import DECIMAL

__all__ = ["NameIndex", "Parser", "parse_expression", "parse_unary_tests"]


class Parser(Cursor):
    """Recursive descent over the FEEL grammar; each method returns a tuple node (see compiler.py)."""

    def expression(self) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail("expression nested too deeply")
        try:
            t = self.tok
            if t.kind == "name" and t.value != "quoted":
                if t.text == "if":
                    return self.if_expression()
                if t.text == "for" and self.peek().kind == "name":
                    return self.for_expression()
                if t.text in ("some", "every") and self.peek().kind == "name":
                    return self.quantified(t.text)
            return self.disjunction()
        finally:
            self.depth -= 1

    def if_expression(self) -> Node:
        self.i += 1
        condition = self.expression()
        self.expect("then")
        then = self.expression()
        self.expect("else")
        return ("if", condition, then, self.expression())

    def iteration_contexts(self, keyword: str) -> list[tuple[str, Node, Node | None]]:
        contexts = []
        while True:
            name = self.plain_name("expected a variable name")
            self.expect("in")
            start = self.expression()
            end = self.expression() if keyword == "for" and self.accept("..") else None
            contexts.append((name, start, end))
            if not self.accept(","):
                return contexts

    def for_expression(self) -> Node:
        self.i += 1
        contexts = self.iteration_contexts("for")
        self.expect("return")
        return ("for", contexts, self.expression())

    def quantified(self, kind: str) -> Node:
        self.i += 1
        contexts = self.iteration_contexts(kind)
        self.expect("satisfies")
        return (kind, contexts, self.expression())

    def disjunction(self) -> Node:
        node = self.conjunction()
        while self.accept("or"):
            node = ("or", node, self.conjunction())
        return node

    def conjunction(self) -> Node:
        node = self.comparison()
        while self.accept("and"):
            node = ("and", node, self.comparison())
        return node

    def comparison(self) -> Node:
        node = self.additive()
        while True:
            if self.tok.kind == "op" and self.tok.text in _COMPARISONS:
                op = self.tok.text
                self.i += 1
                node = ("cmp", op, node, self.additive())
            elif self.accept("between"):
                low = self.additive()
                self.expect("and")
                node = ("between", node, low, self.additive())
            elif self.accept("in"):
                node = ("in", node, self.in_tests())
            elif self.at("instance") and self.peek().text == "of":
                self.i += 2
                node = ("instance", node, self.type_text())
            else:
                return node

    def in_tests(self) -> list[Node]:
        if self.at("(") and self._parenthesised_list():
            self.i += 1
            tests = self.positive_tests()
            self.expect(")")
            return tests
        return [self.positive_test()]

    def _parenthesised_list(self) -> bool:
        depth, j = 0, self.i
        while j < len(self.tokens):
            t = self.tokens[j]
            if t.kind == "op" and t.text in "([{":
                depth += 1
            elif t.kind == "op" and t.text in ")]}":
                depth -= 1
                if depth == 0:
                    return False
            elif t.kind == "op" and depth == 1 and t.text == "..":
                return False
            elif t.kind == "op" and depth == 1 and t.text == ",":
                return True
            elif t.kind == "end":
                return False
            j += 1
        return False

    def additive(self) -> Node:
        node = self.multiplicative()
        while self.tok.kind == "op" and self.tok.text in ("+", "-"):
            op = self.tok.text
            self.i += 1
            node = ("arith", op, node, self.multiplicative())
        return node

    def multiplicative(self) -> Node:
        node = self.power()
        while self.tok.kind == "op" and self.tok.text in ("*", "/"):
            op = self.tok.text
            self.i += 1
            node = ("arith", op, node, self.power())
        return node

    def power(self) -> Node:
        node = self.unary()
        while self.tok.kind == "op" and self.tok.text == "**":
            self.i += 1
            node = ("arith", "**", node, self.unary())
        return node

    def unary(self) -> Node:
        if self.tok.kind == "op" and self.tok.text == "-":
            self.i += 1
            operand = self.unary()
            if operand[0] == "lit" and operand[1].__class__.__name__ == "Decimal":
                return ("lit", -operand[1])
            return ("neg", operand)
        if self.tok.kind == "op" and self.tok.text == "+" and self.peek().kind == "num":
            self.i += 1
        return self.postfix()

    def postfix(self) -> Node:
        node = self.primary()
        while True:
            if self.accept("."):
                if self.tok.kind != "name":
                    self.fail("expected a name after '.'")
                node = ("path", node, self.path_name())
            elif self.at("[") and not (self.no_filter and self._closes_range()):
                self.i += 1
                node = ("filter", node, self.expression())
                self.expect("]")
            elif self.at("("):
                node = self.call(node)
            else:
                return node

    def _closes_range(self) -> bool:
        """Is the `[` at the cursor the end of an open range `]1..10[` rather than a filter?"""
        following = self.peek()
        return following.kind == "end" or (following.kind == "op" and following.text in (")", "]", ",", "}", "=", "."))\
            or (following.kind == "name" and following.text in KEYWORDS)

    def call(self, callee: Node) -> Node:
        self.expect("(")
        positional: list[Node] = []
        named: list[tuple[str, Node]] = []
        if not self.accept(")"):
            while True:
                key = self._named_argument()
                if key is not None:
                    named.append((key, self.expression()))
                else:
                    if named:
                        self.fail("positional arguments cannot follow named ones")
                    positional.append(self.expression())
                if self.accept(")"):
                    break
                self.expect(",")
        return ("call", callee, positional, named if named else None)

    def _named_argument(self) -> str | None:
        j = self.i
        while self.tokens[j].kind == "name" or (self.tokens[j].kind == "op" and self.tokens[j].text in "-'./"
                                                  and j > self.i):
            j += 1
        if j > self.i and self.tokens[j].kind == "op" and self.tokens[j].text == ":":
            name = self._source(self.i, j)
            self.i = j + 1
            return name
        return None

    def primary(self) -> Node:
        t = self.tok
        if t.kind == "num":
            self.i += 1
            try:
                return ("lit", DECIMAL.create_decimal(t.text))
            except ArithmeticError:
                raise FeelSyntaxError(f"the number {t.text} is out of range", self.text, t.pos) from None
        if t.kind == "str":
            self.i += 1
            return ("lit", t.value)
        if t.kind == "op":
            if t.text == "(":
                self.i += 1
                if self.tok.kind == "op" and self.tok.text in _COMPARISONS:
                    op = self.tok.text
                    self.i += 1
                    endpoint = self.additive()
                    self.expect(")")
                    return ("cmp_range", op, endpoint)
                inner = self.expression()
                if self.accept(".."):
                    return self.range_rest(inner, False)
                self.expect(")")
                return inner
            if t.text in ("[", "]"):
                return self.list_or_range()
            if t.text == "{":
                return self.context()
            if t.text == "@" and self.peek().kind == "str":
                literal = self.peek()
                self.i += 2
                # like the conversion function it stands for, an invalid @-literal is null (the TCK's 0093)
                return ("lit", parse_temporal(str(literal.value)))
            if t.text in ("<", "<=", ">", ">=", "=", "!="):
                self.fail("expected a value (a comparison like '< 5' is a unary test)")
        if t.kind == "name":
            if t.value != "quoted":
                if t.text in ("true", "false"):
                    self.i += 1
                    return ("lit", t.text == "true")
                if t.text == "null":
                    self.i += 1
                    return ("lit", None)
                if t.text == "function" and self.peek().text == "(":
                    return self.function_definition()
                if t.text in KEYWORDS and not (t.text in ("for", "some", "every") ):
                    self.fail("expected a value")
                if t.text in ("if", "for", "some", "every") and self.peek().text != "(":
                    return self.expression()
            return ("name", self.name())
        self.fail("expected a value")
        raise AssertionError

    def range_rest(self, start: Node, start_included: bool) -> Node:
        self.no_filter += 1
        try:
            end = self.expression()
        finally:
            self.no_filter -= 1
        if self.accept("]"):
            return ("range", start, end, start_included, True)
        if self.accept(")", "["):
            return ("range", start, end, start_included, False)
        self.fail("expected ']', ')' or '[' to close the range")
        raise AssertionError

    def list_or_range(self) -> Node:
        opening = self.tok.text
        self.i += 1
        if opening == "[" and self.accept("]"):
            return ("list", [])
        first = self.expression()
        if self.accept(".."):
            return self.range_rest(first, opening == "[")
        if opening == "]":
            self.fail("expected '..' in a range")
        items = [first]
        while self.accept(","):
            items.append(self.expression())
        self.expect("]")
        return ("list", items)

    def context(self) -> Node:
        self.expect("{")
        entries: list[tuple[str, Node]] = []
        if not self.accept("}"):
            while True:
                if self.tok.kind == "str":
                    key = str(self.tok.value)
                    self.i += 1
                else:
                    first = self.i
                    while not (self.tok.kind == "op" and self.tok.text in (":", ",", "}")) and self.tok.kind != "end":
                        self.i += 1
                    if first == self.i:
                        self.fail("expected a context key")
                    key = self._source(first, self.i)
                self.expect(":")
                entries.append((key, self.expression()))
                if self.accept("}"):
                    break
                self.expect(",")
        return ("context", entries)

    def function_definition(self) -> Node:
        self.i += 1
        self.expect("(")
        params: list[tuple[str, str | None]] = []
        if not self.accept(")"):
            while True:
                name = self.plain_name("expected a parameter name")
                type_name = self.type_text() if self.accept(":") else None
                params.append((name, type_name))
                if self.accept(")"):
                    break
                self.expect(",")
        if self.accept("external"):
            body = self.expression()
            return ("function", params, body, True)
        return ("function", params, self.expression(), False)

    # ---- unary tests -----------------------------------------------------------------------------------
    def unary_tests(self) -> Node:
        if self.at("-") and self.peek().kind == "end":
            self.i += 1
            return ("ut_any",)
        if self.at("not") and self.peek().text == "(":
            start = self.i
            self.i += 2
            tests = self.positive_tests()
            if self.accept(")") and self.tok.kind == "end":
                return ("ut_not", tests)
            self.i = start
        return ("ut_list", self.positive_tests())

    def positive_tests(self) -> list[Node]:
        tests = [self.positive_test()]
        while self.accept(","):
            tests.append(self.positive_test())
        return tests

    def positive_test(self) -> Node:
        t = self.tok
        if t.kind == "op" and t.text in _COMPARISONS:
            self.i += 1
            return ("ut_cmp", t.text, self.additive())
        expr = self.expression()
        return ("ut_expr", expr, _mentions(expr, "?"))


def _mentions(node: Any, name: str) -> bool:
    if isinstance(node, tuple):
        if len(node) == 2 and node[0] == "name" and node[1] == name:
            return True
        return any(_mentions(child, name) for child in node[1:])
    if isinstance(node, list):
        return any(_mentions(child, name) for child in node)
    return False


def parse_expression(text: str, names: NameIndex) -> Node:
    parser = Parser(text, names)
    if parser.tok.kind == "end":
        raise FeelSyntaxError("empty expression", text, 0)
    try:
        return parser.finish(parser.expression())
    except RecursionError:
        raise FeelSyntaxError("the expression is nested too deeply", text, parser.tok.pos) from None


def parse_unary_tests(text: str, names: NameIndex) -> Node:
    parser = Parser(text, names)
    if parser.tok.kind == "end":
        return ("ut_any",)
    try:
        return parser.finish(parser.unary_tests())
    except RecursionError:
        raise FeelSyntaxError("the tests are nested too deeply", text, parser.tok.pos) from None
