"""The FEEL parser's token cursor: keywords, known multi-word names, names with spaces, and type names."""

from __future__ import annotations

from typing import Any, Iterable

from .errors import FeelSyntaxError
from .lexer import Token, tokenize

Node = tuple[Any, ...]
KEYWORDS = frozenset({"and", "or", "in", "between", "instance", "of", "if", "then", "else", "for", "some",
                      "every", "return", "satisfies", "true", "false", "null", "function", "external"})
_COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")
MAX_DEPTH = 60
_MULTI_WORD_TYPES = (("date", "and", "time"), ("days", "and", "time", "duration"),
                     ("years", "and", "months", "duration"))


class NameIndex:
    """Known multi-token names (built-in functions, variables), looked up by their first token."""

    def __init__(self, names: Iterable[str], functions_only: Iterable[str] = ()) -> None:
        self.by_first: dict[str, list[tuple[tuple[str, ...], str, bool]]] = {}
        for name, is_function in [(n, False) for n in names] + [(n, True) for n in functions_only]:
            try:
                parts = tuple(t.text for t in tokenize(name)[:-1])
            except FeelSyntaxError:
                continue
            if len(parts) > 1:
                self.by_first.setdefault(parts[0], []).append((parts, name, is_function))
        for candidates in self.by_first.values():
            candidates.sort(key=lambda c: -len(c[0]))


class Cursor:
    """Token access, error reporting and the name rules shared by the expression and unary-test grammar."""

    def __init__(self, text: str, names: NameIndex) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.names = names
        self.depth = 0
        self.no_filter = 0

    # ---- token helpers ---------------------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, offset: int = 1) -> Token:
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]

    def at(self, *texts: str) -> bool:
        t = self.tok
        return t.kind in ("op", "name") and t.value != "quoted" and t.text in texts

    def accept(self, *texts: str) -> bool:
        if self.at(*texts):
            self.i += 1
            return True
        return False

    def expect(self, text: str) -> Token:
        if not self.at(text):
            self.fail(f"expected {text!r}")
        token = self.tok
        self.i += 1
        return token

    def fail(self, problem: str, token: Token | None = None) -> None:
        token = token or self.tok
        found = "the end of the expression" if token.kind == "end" else repr(token.text)
        raise FeelSyntaxError(f"{problem} but found {found}", self.text, token.pos)

    def finish(self, node: Node) -> Node:
        if self.tok.kind != "end":
            self.fail("expected an operator or the end of the expression")
        return node

    def _source(self, first: int, stop: int) -> str:
        """The source text of tokens[first:stop], with runs of white space made single spaces."""
        if stop - first == 1 and self.tokens[first].value == "quoted":
            return self.tokens[first].text
        parts = [self.tokens[first].text]
        for k in range(first + 1, stop):
            gap = self.tokens[k].pos > self.tokens[k - 1].end
            parts.append((" " if gap else "") + self.tokens[k].text)
        return "".join(parts)

    def path_name(self) -> str:
        first = self.i
        self.i += 1
        while self.tok.kind == "name" and self.tok.text not in KEYWORDS:
            self.i += 1
        return self._source(first, self.i)

    def plain_name(self, problem: str) -> str:
        if self.tok.kind != "name" or (self.tok.text in KEYWORDS and self.tok.value != "quoted"):
            self.fail(problem)
        return self.name()

    def name(self) -> str:
        """A name at the cursor: the longest known multi-token name, else adjacent non-keyword name tokens."""
        t = self.tok
        for parts, full, is_function in self.names.by_first.get(t.text, ()):
            n = len(parts)
            if all(self.peek(k).text == parts[k] and self.peek(k).kind != "str" for k in range(n)):
                if is_function and not (self.peek(n).kind == "op" and self.peek(n).text == "("):
                    continue
                self.i += n
                return full
        first = self.i
        self.i += 1
        if t.value == "quoted":
            return t.text
        while self.tok.kind == "name" and self.tok.text not in KEYWORDS and self.tok.value != "quoted":
            self.i += 1
        return self._source(first, self.i)

    def type_text(self) -> str:
        """A type as written after `instance of` or a parameter's `:`, returned as normalised text."""
        first = self.i
        if self.tok.kind != "name":
            self.fail("expected a type name")
        head = self.tok.text
        for words in _MULTI_WORD_TYPES:
            if all(self.peek(k).text == word for k, word in enumerate(words)):
                self.i += len(words)
                return " ".join(words)
        self.i += 1
        while self.tok.kind == "name" and self.tok.text not in KEYWORDS:
            self.i += 1
        name = self._source(first, self.i)
        if head == "function" and self.at("<"):
            self.i += 1
            args = []
            if not self.at(">"):
                while True:
                    args.append(self.type_text())
                    if not self.accept(","):
                        break
            self.expect(">")
            self.expect("-")
            self.expect(">")
            return f"function<{', '.join(args)}>->{self.type_text()}"
        if name in ("list", "range") and self.at("<"):
            self.i += 1
            inner = self.type_text()
            self.expect(">")
            return f"{name}<{inner}>"
        if name == "context" and self.at("<"):
            self.i += 1
            fields = []
            while True:
                key = self.plain_name("expected a context type key")
                self.expect(":")
                fields.append(f"{key}: {self.type_text()}")
                if not self.accept(","):
                    break
            self.expect(">")
            return f"context<{', '.join(fields)}>"
        while self.at("."):
            self.i += 1
            name += "." + self.path_name()
        return name
