r"""Reading a matrix expression written in LaTeX: ``v^T A v``, ``\sigma(W x + b)``, ``A^{-1}``.

A tokenizer and a recursive-descent parser of our own: general LaTeX readers (latex2sympy2 and
its fork latex2sympy2_extended) read ``v^T`` as a power, ``A^T + A`` as ``2A`` and ``\log`` as
the base-10 logarithm, which would lose the meaning silently (SPEC §7).  The parser builds
SymPy matrix expressions through :class:`~derive.calculus.shape_algebra.Algebra`, so shapes are
checked as it reads.  This module holds the grammar; the tokens come from :mod:`.latex_tokens`,
the names from :mod:`.latex_name_reading` (by the rules of :mod:`.latex_names`), the function
calls from :mod:`.latex_function_reading`, the derivatives and sums (∂, ∇, Σ) from
:mod:`.latex_operators`; :mod:`.latex_claim` reads a whole claim with its definitions.

Grammar (juxtaposition is a product; unary minus binds looser than products)::

    sum      := ['+'|'-'] product (('+'|'-') product)*
    product  := postfix ((\cdot | * | \times | \odot | \circ | /)? postfix)*
    postfix  := primary ('^' sup | "'")*        sup: T, \top, \intercal, -1, -T, integers;
                                                any number on a scalar or a 1×1 expression
    primary  := number | name | ( sum ) | [ sum ] | { sum } | \frac{sum}{sum} | \sqrt[k]{sum}
              | \| sum \| [_F | _2] | | sum | | function argument | e^{sum}
              | \frac{\partial …}{\partial …} | \nabla_{name} … | \sum_… …
              | \begin{bmatrix} sum (& sum)* (\\ sum (& sum)*)* \end{bmatrix}   (blocks)
    name     := letter or \greek, with _sub and ^{[l]} / ^{(l)} decorations, \mathbf{.},
                \hat{.}, \mathcal{.} (see :mod:`.latex_names`)

A prime on a matrix name is a transpose (``W'``); on a function it is its derivative
(``\sigma'(z)``).  Functions: ``\log`` ``\ln`` (natural), ``\exp``, ``\det``, ``\log\det``,
``\operatorname{tr}``, ``\operatorname{diag}``, ``\operatorname{softmax}``,
``\operatorname{logsumexp}``, every named function of the namespace by its name or LaTeX name
(``derive.jacobian`` passes the activations: ``\sigma``, ``\tanh``, ``\operatorname{relu}``;
``\sigma'`` for a derivative), SymPy's one-variable functions (``\sin``, ``\cosh``, …; also
``\arctan``, ``\arcsin``, … by their LaTeX names), and the functions a course writes without
saying which (:attr:`~.latex_names.Dialect.function_names`: ``g'(z^{[2]})``).  A function of a
matrix applies entrywise; of a scalar or a 1×1 expression it is a scalar.

Errors raise :class:`~derive.errors.BadInput` whose message shows the input and a caret under
the offending column (of the whole input, also inside a superscript or a fraction).
"""

from __future__ import annotations

import re

import sympy as sp

from ..errors import BadInput
from .claim_nodes import Gradient, Partial, SampleSum
from .function_names import known_functions
from .latex_function_reading import NAMED, FunctionReading, spellings_of
from .latex_name_reading import NameReading
from .latex_names import ACCENTS, GREEK, PLAIN, TYPEFACES, Dialect, scalar_candidates
from .latex_operators import (derivative_fraction, read_block_matrix, read_derivative_fraction,
                              read_nabla, read_partial_inline, read_sum)
from .latex_tokens import SIZING, Token, marked, tokenize
from .matrix_nodes import is_matrix, is_one_by_one, to_scalar
from .namespace import Namespace
from .shape_algebra import Algebra, Unsized

_BLACKBOARD = {r"\mathbb", r"\mathbbm", r"\mathds"}
_TRANSPOSE = {"T", r"\top", r"\intercal", r"\mathsf{T}", r"\mathrm{T}"}
#: The largest exponent read (as SymPy-syntax EXPR allows).
MAX_EXPONENT = 1000
#: What a reader notices that makes an expression a matrix one (the front end routes on it).
MATRIX_FEATURES = frozenset({"transpose", "hadamard", "layer index", "norm", "matrix function",
                             "derivative", "sum", "identity", "ones", "block matrix"})


class Group(str):
    """The text of a braced group or token after ^ or _, and where it starts in the input."""

    start: int | None = None

    @classmethod
    def at(cls, text: str, start: int | None) -> "Group":
        group = cls(text)
        group.start = start
        return group


#: A braced name with a superscript, primed: ``{g^{[1]}}'`` (how printers write the
#: derivative of a layer's activation, since ``g^{[1]}'`` reads badly in LaTeX).
_PRIMED_GROUP = re.compile(r"\{(\\?[A-Za-z]+\^\{[^{}]*\})\}(?=')")


def _unbrace_primed_names(text: str) -> str:
    """``{g^{[1]}}'`` read as ``g^{[1]}'`` — the braces made spaces, so positions stay."""
    return _PRIMED_GROUP.sub(lambda m: f" {m.group(1)} ", text)


class LatexReader(NameReading, FunctionReading):
    """Recursive-descent parser over :func:`tokenize`'s tokens.

    ``dialect`` says which course's conventions apply (:class:`~.latex_names.Dialect`);
    ``layout`` is the layout of the derivatives ∂…/∂… the text names; ``echo`` the text that
    error messages show (the whole input, when ``text`` is a part of it padded with spaces).
    """

    def __init__(self, text: str, namespace: Namespace, where: str | None = "EXPR",
                 dialect: Dialect | None = None, layout: str = "numerator",
                 echo: str | None = None):
        self.text = text
        self.echo = text if echo is None else echo
        self.namespace = namespace
        self.where = where
        self.dialect = dialect or PLAIN
        self.layout = layout
        try:
            self.tokens = tokenize(_unbrace_primed_names(text), where)
        except BadInput as exc:
            if echo is None:
                raise
            raise BadInput(marked(self.echo, exc.column, exc.reason), where) from None
        self.index = 0
        self.algebra = Algebra(where, namespace)
        self.closers: list[str] = []
        self.spellings = spellings_of(namespace.functions)
        self.features: set = set()          # what was read: "transpose", "layer index", …
        self.names_read: list = []          # (start, end, name) of every variable read
        self.context: dict = {}             # the index of an enclosing \sum: entry or sample
        self.name_end = -1                  # token index just after the last name read
        self.spelling: list | None = None   # spelled_name collects names here, looks none up

    # token helpers
    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def peek(self, offset=1) -> Token:
        return self.tokens[min(self.index + offset, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.token
        self.index += 1
        return token

    def fail(self, message: str, token: Token | None = None, candidates=()):
        token = token or self.token
        error = BadInput(marked(self.echo, token.start, message), self.where)
        error.candidates = tuple(candidates)
        raise error

    def skip_sizing(self):
        while self.token.kind == "command" and self.token.text in SIZING:
            self.advance()

    def expect(self, text: str, what: str | None = None):
        self.skip_sizing()
        if self.token.text != text:
            found = "the end" if self.token.kind == "end" else repr(self.token.text)
            self.fail(f"expected {what or repr(text)}, found {found}")
        return self.advance()

    def source(self, start: int) -> str:
        end = self.tokens[self.index - 1].end if self.index else start
        return self.text[start:end].strip()

    def with_algebra_position(self, token: Token, build, candidates=()):
        try:
            return build()
        except BadInput as exc:
            message = str(exc)
            if self.where and message.startswith(f"{self.where}: "):
                message = message[len(self.where) + 2:]
            if "\n" in message:
                raise
            error = BadInput(marked(self.echo, token.start, message), self.where)
            error.candidates = tuple(candidates)
            error.kind = "shape"
            raise error from None

    # grammar
    def read(self):
        if self.token.kind == "end":
            self.fail("the expression is empty")
        start = self.token
        value = self.sum()
        if self.token.kind != "end":
            self.fail(f"unexpected {self.token.text!r}")
        if isinstance(value, sp.Basic) and value.has(sp.zoo, sp.nan, sp.oo):
            self.fail("the expression is undefined (a division by zero?)", start)
        return self.with_algebra_position(start,
                                          lambda: self.algebra.sized(value, self.text.strip()))

    def sum(self):
        start_token = self.token
        sign = 1
        if self.token.text in "+-" and self.token.kind == "symbol":
            sign = -1 if self.advance().text == "-" else 1
        value = self.product()
        if sign == -1:
            value = self.algebra.neg(value)
        left_text = self.source(start_token.start)
        while self.token.kind == "symbol" and self.token.text in "+-":
            op = self.advance()
            right_start = self.token
            right = self.product()
            right_text = self.source(right_start.start)
            value = self.with_algebra_position(
                op, lambda: self.algebra.add(value, right, left_text, right_text,
                                             sign=1 if op.text == "+" else -1))
            left_text = self.source(start_token.start)
        return value

    _PRODUCT_OPS = {r"\cdot": "mul", "*": "mul", r"\times": "mul", r"\odot": "hadamard",
                    r"\circ": "hadamard", "/": "div"}

    def product(self):
        start_token = self.token
        value = self.postfix()
        while True:
            left_text = self.source(start_token.start)
            left_end = self.tokens[self.index - 1].end
            op = self._PRODUCT_OPS.get(self.token.text)
            op_token = self.token
            if op is not None:
                self.advance()
            elif not self.starts_primary():
                return value
            right_start = self.token
            right = self.postfix()
            right_text = self.source(right_start.start)
            kind = op or "mul"
            if kind == "hadamard":
                self.features.add("hadamard")
            candidates = scalar_candidates(self.namespace, right) if kind == "div" else \
                scalar_candidates(self.namespace, value, columns_only=True) \
                if kind == "mul" else ()
            try:
                value = self.with_algebra_position(
                    op_token, lambda: getattr(self.algebra, kind)(value, right, left_text,
                                                                  right_text), candidates)
            except BadInput as exc:
                if kind == "mul" and not hasattr(exc, "operands"):  # to try them swapped
                    exc.operands = ((start_token.start, left_end),
                                    (right_start.start, self.tokens[self.index - 1].end))
                raise

    def starts_primary(self) -> bool:
        token = self.token
        if token.kind in ("letter", "number"):
            return True
        if token.kind == "norm":
            return "norm" not in self.closers
        if token.kind == "symbol":
            if token.text == "|":
                return "abs" not in self.closers
            return token.text in "([{"
        if token.kind == "command":
            if token.text in (r"\right", r"\end"):
                return False
            if token.text in SIZING:
                nxt = self.peek()
                return not (nxt.kind == "norm" and "norm" in self.closers) and \
                    not (nxt.text == "|" and "abs" in self.closers) and \
                    nxt.text not in ")]}"
            return token.text not in self._PRODUCT_OPS
        return False

    def postfix(self):
        start_token = self.token
        value = self.primary()
        while True:
            if self.token.text == "^":
                text = self.source(start_token.start)
                caret = self.advance()
                value = self.superscript(value, text, caret)
            elif self.token.text == "'":
                value = self.prime(value, start_token)
            else:
                return value

    def prime(self, value, start_token: Token):
        """``W'``: the transpose of a matrix name (a prime elsewhere is not read)."""
        mark = self.token
        if self.name_end != self.index:
            self.fail("a prime is read after a matrix name (W') or a function (\\sigma'(z)); "
                      "for the transpose of an expression write (…)^T")
        if not is_matrix(value):
            self.fail(f"a prime on the scalar {self.source(start_token.start)!r} is not read "
                      "(for a transpose the name must be a matrix; for a derivative write "
                      "\\frac{d}{dx} or f'(x))")
        self.advance()
        if self.token.text == "'":
            self.fail("a second prime on a matrix name is not read", mark)
        self.features.add("transpose")
        return self.algebra.transpose(value)

    def transposes(self, compact: str) -> bool:
        return compact in _TRANSPOSE or (compact == "t" and self.dialect.small_t_transpose)

    def superscript(self, value, text, caret):
        group = self.group_text()
        compact = group.replace(" ", "")
        if self.transposes(compact):
            self.features.add("transpose")
            return self.algebra.transpose(value)
        if compact in ("-1",):
            return self.with_algebra_position(caret, lambda: self.algebra.inverse(value, text))
        if compact in ("-T", r"-\top", r"-\intercal"):
            self.features.add("transpose")
            return self.with_algebra_position(
                caret, lambda: self.algebra.transpose(self.algebra.inverse(value, text)))
        if re.fullmatch(r"(?:\[[^\[\]]*\]|\([^()]*\))+", compact):
            # ^{[1]}, ^{(l)}: a layer index, which belongs to a name (z^{[1]}); after anything
            # else it would read as the power [1] = 1 and silently drop the index.
            self.fail(f"the superscript {{{group}}} is a layer index, which is part of a name: "
                      f"write the name with it (z^{{{group}}}), not after braces or an "
                      "expression", caret)
        candidates = scalar_candidates(self.namespace, value)
        if re.fullmatch(r"-?[0-9]+", compact):
            k = sp.Integer(int(compact))
            self.check_exponent(k, caret)
            return self.with_algebra_position(caret, lambda: self.algebra.power(value, k, text),
                                              candidates)
        if not is_matrix(value) or is_one_by_one(value):
            exponent = self.sub_reader(group).read()
            if is_matrix(exponent):
                if not is_one_by_one(exponent):
                    self.fail(f"the exponent {group!r} is not a number", caret,
                              scalar_candidates(self.namespace, exponent))
                exponent = to_scalar(exponent)
            self.check_exponent(exponent, caret)
            return self.with_algebra_position(
                caret, lambda: self.algebra.power(value, exponent, text))
        self.fail(f"cannot read the superscript {group!r} (write ^T, ^{{-1}} or an integer "
                  "power)", caret, candidates)

    def check_exponent(self, exponent, caret: Token) -> None:
        """An exponent of a size SymPy computes with: |k| ≤ 1000 (10^{10^{10}} would not end)."""
        if isinstance(exponent, sp.Number) and abs(exponent) > MAX_EXPONENT:
            self.fail(f"an exponent must be at most {MAX_EXPONENT} in size", caret)

    def sub_reader(self, group: str, token: Token | None = None) -> "LatexReader":
        """A reader of a group of this input: positions (and the echo) stay the input's."""
        start = getattr(group, "start", None)
        if start is None:
            reader = LatexReader(group, self.namespace, self.where, self.dialect, self.layout)
        else:
            padded = " " * start + group
            reader = LatexReader(padded, self.namespace, self.where, self.dialect, self.layout,
                                 echo=self.echo)
        reader.spellings = self.spellings
        reader.features = self.features
        reader.names_read = self.names_read
        reader.context = self.context
        return reader

    def group_text(self) -> Group:
        """The raw text of a braced group or of one token, after ^ or _."""
        if self.token.text == "{":
            open_token = self.advance()
            depth = 1
            while depth:
                token = self.advance()
                if token.kind == "end":
                    self.fail("unclosed '{'", open_token)
                depth += {"{": 1, "}": -1}.get(token.text, 0)
            raw = self.text[open_token.end:self.tokens[self.index - 1].start]
            start = open_token.end + len(raw) - len(raw.lstrip())
            text = raw.strip()
            if re.search(r"(?<!\\)(\\\\)*\\$", text):
                text += " "                               # the space of a final "\ "
            return Group.at(text, start)
        token = self.advance()
        if token.kind == "end":
            self.fail("missing superscript or subscript", token)
        if token.kind == "command" and token.text in (r"\mathsf", r"\mathrm") and \
                self.token.text == "{":
            return Group.at(token.text + "{" + self.group_text() + "}", token.start)
        return Group.at(token.text, token.start)

    def primary(self):
        self.skip_sizing()
        token = self.token
        if token.kind == "number":
            self.advance()
            return sp.Rational(token.text)
        if token.kind == "letter":
            if self.calls_generic(token.text):
                self.advance()
                return self.apply_function(token.text, token, generic=True)
            called = self.bare_function()
            return called if called is not None else self.name()
        if token.kind == "norm":
            if "norm" in self.closers:
                self.fail("missing operand before '\\|'")
            return self.norm()
        if token.kind == "symbol":
            if token.text in "([{":
                closing = {"(": ")", "[": "]", "{": "}"}[token.text]
                self.advance()
                self.closers.append("group")
                value = self.sum()
                self.closers.pop()
                self.expect(closing)
                return value
            if token.text == "|":
                return self.absolute()
            self.fail(f"unexpected {token.text!r}")
        if token.kind == "command":
            return self.command()
        self.fail("unexpected end of the expression" if token.kind == "end"
                  else f"unexpected {token.text!r}")

    def norm(self):
        open_token = self.advance()
        start = self.token
        self.closers.append("norm")
        value = self.sum()
        self.closers.pop()
        self.skip_sizing()
        if self.token.kind != "norm":
            self.fail("expected a closing \\| of the norm opened here", open_token)
        self.advance()
        text = self.text[start.start:self.tokens[self.index - 2].end].strip()
        kind = None
        if self.token.text == "_":
            self.advance()
            kind = self.group_text().replace(" ", "")
            kind = {"2": "2", "F": "F", r"\mathrm{F}": "F", "Fro": "F", "fro": "F"}.get(kind, kind)
        self.features.add("norm")
        return self.with_algebra_position(open_token, lambda: self.algebra.norm(value, kind, text))

    def absolute(self):
        open_token = self.advance()
        start = self.token
        self.closers.append("abs")
        value = self.sum()
        self.closers.pop()
        self.skip_sizing()
        self.expect("|", "a closing |")
        text = self.text[start.start:self.tokens[self.index - 2].end].strip()
        if isinstance(value, Unsized) or is_matrix(value) and not is_one_by_one(value):
            self.features.add("matrix function")
            return self.with_algebra_position(open_token, lambda: self.algebra.det(value, text))
        return sp.Abs(to_scalar(value))

    # commands
    def command(self):
        token = self.token
        if token.text in (r"\frac", r"\dfrac", r"\tfrac"):
            if derivative_fraction(self):
                self.features.add("derivative")
                return read_derivative_fraction(self)
            return self.fraction(token)
        if token.text == r"\sqrt":
            return self.root()
        if token.text == r"\partial":
            self.features.add("derivative")
            return read_partial_inline(self)
        if token.text == r"\nabla":
            self.features.add("derivative")
            return read_nabla(self)
        if token.text == r"\sum":
            self.features.add("sum")
            return read_sum(self)
        if token.text == r"\begin":
            return read_block_matrix(self)
        if token.text == r"\end":
            self.fail("unexpected \\end: an entry is missing before it")
        if token.text in (r"\prod", r"\int"):
            self.fail(f"{token.text} is not supported in a matrix expression; write it with "
                      "matrix products (x^T y, \\|x\\|^2, \\operatorname{tr})")
        if token.text[1:] in self.dialect.function_names and self.calls_generic(token.text[1:]):
            self.advance()
            return self.apply_function(token.text[1:], token, generic=True)
        named = self.function_name()
        if named is not None:
            return self.apply_function(*named)
        bold_one = self.peek().text == "1" or [self.peek(k).text for k in (1, 2, 3)] == \
            ["{", "1", "}"]
        if token.text in TYPEFACES | _BLACKBOARD and bold_one:
            self.advance()
            if self.advance().text == "{":
                self.advance()
                self.advance()
            return self.ones(token)
        if token.text in _BLACKBOARD and self.peek().text == "{" and self.peek(2).text == "I":
            self.advance()
            self.advance()
            self.advance()
            self.expect("}")
            return self.name("I", token)
        if token.text in TYPEFACES or token.text in ACCENTS:
            return self.decorated_name(token)
        if token.text[1:] in GREEK:
            self.advance()
            return self.name(token.text[1:], token)
        if token.text in NAMED and self.peek().text == "{":
            self.advance()
            word = self.group_text()
            self.fail(f"unknown function {token.text}{{{word}}}; known: "
                      f"{known_functions(self.namespace.functions)}",
                      token)
        self.fail(f"unknown command {token.text}; known functions: "
                  f"{known_functions(self.namespace.functions)}")

    def fraction(self, token: Token):
        self.advance()
        if self.token.kind == "number" and len(self.token.text) == 2:
            digits = self.advance().text          # \frac12 is 1/2
            numerator, denominator = sp.Integer(digits[0]), sp.Integer(digits[1])
            return numerator / denominator
        start = self.token
        numerator = self.frac_part()
        num_text = self.source(start.start)
        start = self.token
        denominator = self.frac_part()
        den_text = self.source(start.start)
        return self.with_algebra_position(
            token, lambda: self.algebra.div(numerator, denominator, num_text, den_text),
            scalar_candidates(self.namespace, denominator))

    def root(self):
        r"""``\sqrt{x}`` and ``\sqrt[k]{x}`` (entrywise on a matrix)."""
        token = self.advance()
        if self.token.text == "[":
            self.advance()
            start = self.token
            depth = 0
            while not (self.token.text == "]" and depth == 0):
                if self.token.kind == "end":
                    self.fail("unclosed '[' of \\sqrt[k]", start)
                depth += {"[": 1, "]": -1}.get(self.token.text, 0)
                self.advance()
            degree_text = Group.at(self.text[start.start:self.token.start].strip(), start.start)
            self.advance()
            degree = self.sub_reader(degree_text).read()
            if is_matrix(degree):
                self.fail("the degree of a root must be a number", start)
            value = self.braced()
            return self.with_algebra_position(
                token, lambda: self.algebra.apply(lambda t: t ** (1 / degree), value))
        value = self.braced()
        return self.algebra.apply(sp.sqrt, value)

    def frac_part(self):
        """A \\frac argument: {…} or a single letter, digit or command."""
        self.skip_sizing()
        if self.token.text == "{":
            return self.braced()
        if self.token.kind == "number" and len(self.token.text) == 1:
            return sp.Integer(self.advance().text)
        if self.token.kind in ("letter", "command"):
            return self.primary()
        self.fail("expected {…} after \\frac")

    def braced(self):
        self.expect("{")
        self.closers.append("group")
        value = self.sum()
        self.closers.pop()
        self.expect("}")
        return value

    def argument(self):
        """A function's argument: (…), {…}, or one postfix term (\\log x, \\det X)."""
        self.skip_sizing()
        if self.token.text in ("(", "[", "{"):
            return self.primary()
        return self.postfix()

def read_latex(text: str, namespace: Namespace | None = None, where: str | None = "EXPR",
               dialect: Dialect | None = None):
    r"""A SymPy (matrix) expression from LaTeX.

    >>> ns = Namespace(shapes={"A": (3, 3), "v": (3, 1)})
    >>> read_latex("v^T A v", ns)
    v.T*A*v
    >>> read_latex(r"\log\det X", Namespace(shapes={"X": ("n", "n")}))
    log(Determinant(X))
    >>> read_latex(r"\hat{y} - y", Namespace(shapes={"y": (3, 1), r"\hat{y}": (3, 1)}))
    \hat{y} - y
    """
    reader = LatexReader(text, namespace if namespace is not None else Namespace(), where,
                         dialect)
    value = reader.read()
    if isinstance(value, sp.Basic) and value.has(Partial, Gradient, SampleSum):
        mark = next(t for t in reader.tokens if t.text in (r"\partial", r"\nabla", r"\sum")
                    or t.kind == "end")
        reader.fail(f"{mark.text or 'a derivative'} names a quantity a claim is checked against "
                    "(verify.parse_latex reads it); an expression to differentiate writes "
                    "it out (x^T y, \\|x\\|^2, \\sum_i over entries)", mark)
    return value


__all__ = ["read_latex", "LatexReader", "Group", "MATRIX_FEATURES"]
