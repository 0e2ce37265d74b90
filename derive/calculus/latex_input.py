r"""Reading a matrix expression written in LaTeX: ``v^T A v``, ``\sigma(W x + b)``, ``A^{-1}``.

A tokenizer and a recursive-descent parser of our own: general LaTeX readers (latex2sympy2 and
its fork latex2sympy2_extended) read ``v^T`` as a power, ``A^T + A`` as ``2A`` and ``\log`` as
the base-10 logarithm, which would lose the meaning silently (SPEC §7).  The parser builds
SymPy matrix expressions through :class:`~derive.calculus.shape_algebra.Algebra`, so shapes are
checked as it reads; the tokens come from :mod:`.latex_tokens`.

Grammar (juxtaposition is a product; unary minus binds looser than products)::

    sum      := ['+'|'-'] product (('+'|'-') product)*
    product  := postfix ((\cdot | * | \times | \odot | \circ | /)? postfix)*
    postfix  := primary ('^' sup | "'")*        sup: T, \top, \intercal, -1, -T, integers
    primary  := number | name | ( sum ) | [ sum ] | { sum } | \frac{sum}{sum} | \sqrt{sum}
              | \| sum \| [_F | _2] | | sum | | function argument | e^{sum}
    name     := letter or \greek, with _sub and ^{[l]} / ^{(l)} decorations, \mathbf{.} etc.

Functions: ``\log`` ``\ln`` (natural), ``\exp``, ``\det``, ``\log\det``, ``\operatorname{tr}``,
``\operatorname{diag}``, ``\operatorname{softmax}``, ``\operatorname{logsumexp}``, every named
function of the namespace by its name or LaTeX name (``derive.jacobian`` passes the activations:
``\sigma``, ``\tanh``, ``\operatorname{relu}``; ``\sigma'`` for a derivative), and SymPy's
one-variable functions (``\sin``, ``\cos``, ``\sinh``, …).  A function of a matrix applies
entrywise; of a scalar or a 1×1 expression it is a scalar.

Errors raise :class:`~derive.errors.BadInput` whose message shows the input and a caret under
the offending column.
"""

from __future__ import annotations

import re

import sympy as sp

from ..errors import BadInput
from .function_names import known_functions, scalar_function
from .functions import NamedFunction, latex_name
from .latex_tokens import Token, marked, tokenize
from .matrix_nodes import elementwise, is_matrix, is_one_by_one, prime_function, to_scalar
from .namespace import Namespace, size_of
from .shape_algebra import Algebra, Unsized

_SIZING = {r"\left", r"\right", r"\bigl", r"\bigr", r"\Bigl", r"\Bigr", r"\big", r"\Big",
           r"\biggl", r"\biggr", r"\bigg", r"\Bigg", r"\mathopen", r"\mathclose"}
_FONT = {r"\mathbf", r"\boldsymbol", r"\bm", r"\vec", r"\mathit", r"\mathrm", r"\mathsf",
         r"\bar", r"\hat", r"\tilde"}
_BLACKBOARD = {r"\mathbb", r"\mathbbm", r"\mathds"}
_NAMED = {r"\operatorname", r"\mathrm", r"\text", r"\textrm", r"\mathit", r"\operatorname*"}
_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta",
          "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau",
          "upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta", "Lambda",
          "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega"}
_TRANSPOSE = {"T", r"\top", r"\intercal", r"\mathsf{T}", r"\mathrm{T}"}
_SPECIAL = {"tr": "trace", "Tr": "trace", "trace": "trace", "det": "det", "logdet": "logdet",
            "diag": "diag", "Diag": "diag", "softmax": "softmax", "logsumexp": "logsumexp",
            "lse": "logsumexp", "LSE": "logsumexp", "sqrt": "sqrt", "ln": "log", "log": "log",
            "exp": "exp", "norm": "norm"}


def _spellings(functions: dict) -> dict:
    """LaTeX or plain name → table name, for every named function of ``functions``
    (``\\sigma`` and ``sigmoid`` → ``sigmoid``, ``relu`` for ``\\operatorname{relu}``)."""
    names = {}
    for name, function in functions.items():
        names[name] = name
        names[name.lower()] = name
        if not issubclass(function, NamedFunction):
            continue                    # a SymPy function under a name of one's own: no LaTeX
        latex = latex_name(function)
        match = re.fullmatch(r"\\operatorname\{(\w+)\}", latex)
        names[match.group(1) if match else latex.lstrip("\\")] = name
    return names


class LatexReader:
    """Recursive-descent parser over :func:`tokenize`'s tokens."""

    def __init__(self, text: str, namespace: Namespace, where: str | None = "EXPR"):
        self.text = text
        self.namespace = namespace
        self.where = where
        self.tokens = tokenize(text, where)
        self.index = 0
        self.algebra = Algebra(where, namespace)
        self.closers: list[str] = []
        self.spellings = _spellings(namespace.functions)

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

    def fail(self, message: str, token: Token | None = None):
        token = token or self.token
        raise BadInput(marked(self.text, token.start, message), self.where)

    def skip_sizing(self):
        while self.token.kind == "command" and self.token.text in _SIZING:
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

    def with_algebra_position(self, token: Token, build):
        try:
            return build()
        except BadInput as exc:
            message = str(exc)
            if self.where and message.startswith(f"{self.where}: "):
                message = message[len(self.where) + 2:]
            if "\n" in message:
                raise
            raise BadInput(marked(self.text, token.start, message), self.where) from None

    # grammar
    def read(self):
        if self.token.kind == "end":
            self.fail("the expression is empty")
        start = self.token
        value = self.sum()
        if self.token.kind != "end":
            self.fail(f"unexpected {self.token.text!r}")
        return self.with_algebra_position(start, lambda: self.algebra.sized(value, self.text))

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
            value = self.with_algebra_position(
                op_token, lambda: getattr(self.algebra, kind)(value, right, left_text, right_text))

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
            if token.text == r"\right":
                return False
            if token.text in _SIZING:
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
                caret = self.advance()
                value = self.superscript(value, self.source(start_token.start), caret)
            elif self.token.text == "'":
                self.fail("a prime on a variable is not read (write ^T for a transpose)")
            else:
                return value

    def superscript(self, value, text, caret):
        group = self.group_text()
        compact = group.replace(" ", "")
        if compact in _TRANSPOSE:
            return self.algebra.transpose(value)
        if compact in ("-1",):
            return self.with_algebra_position(caret, lambda: self.algebra.inverse(value, text))
        if compact in ("-T", r"-\top", r"-\intercal"):
            return self.with_algebra_position(
                caret, lambda: self.algebra.transpose(self.algebra.inverse(value, text)))
        if re.fullmatch(r"-?[0-9]+", compact):
            k = sp.Integer(int(compact))
            return self.with_algebra_position(caret, lambda: self.algebra.power(value, k, text))
        if not is_matrix(value):
            return value ** self.sub_reader(group, caret).read()
        self.fail(f"cannot read the superscript {group!r} (write ^T, ^{{-1}} or an integer "
                  "power)", caret)

    def sub_reader(self, group: str, token: Token) -> "LatexReader":
        reader = LatexReader(group, self.namespace, self.where)
        reader.spellings = self.spellings
        return reader

    def group_text(self) -> str:
        """The raw text of a braced group or of one token, after ^ or _."""
        if self.token.text == "{":
            open_token = self.advance()
            depth = 1
            while depth:
                token = self.advance()
                if token.kind == "end":
                    self.fail("unclosed '{'", open_token)
                depth += {"{": 1, "}": -1}.get(token.text, 0)
            return self.text[open_token.end:self.tokens[self.index - 1].start].strip()
        token = self.advance()
        if token.kind == "end":
            self.fail("missing superscript or subscript", token)
        if token.kind == "command" and token.text in (r"\mathsf", r"\mathrm") and \
                self.token.text == "{":
            return token.text + "{" + self.group_text() + "}"
        return token.text

    def primary(self):
        self.skip_sizing()
        token = self.token
        if token.kind == "number":
            self.advance()
            return sp.Rational(token.text)
        if token.kind == "letter":
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
            return self.with_algebra_position(open_token, lambda: self.algebra.det(value, text))
        return sp.Abs(to_scalar(value))

    def is_function_word(self, word: str) -> bool:
        if word in self.namespace.shapes or word in self.namespace.scalars:
            return False
        return word in _SPECIAL or word in self.spellings or word.lower() in self.spellings \
            or scalar_function(word, self.namespace.functions) is not None

    def bare_function(self):
        """A function written as plain letters and called, ``tr(A^T A)``, ``log(det(X))``:
        applied; ``None`` when the letters at point are not such a call (not consumed)."""
        end = self.index
        while self.tokens[end + 1].kind == "letter" and \
                self.tokens[end + 1].start == self.tokens[end].end:
            end += 1
        if end == self.index:
            return None
        after = end + 1
        while self.tokens[after].kind == "command" and self.tokens[after].text in _SIZING:
            after += 1
        if self.tokens[after].text != "(":
            return None
        start = self.token
        word = "".join(t.text for t in self.tokens[self.index:end + 1])
        if self.is_function_word(word):
            self.index = end + 1
            return self.apply_function(word, start)
        letters = [t.text for t in self.tokens[self.index:end + 1]]
        if all(ch in self.namespace.shapes or ch in self.namespace.scalars for ch in letters):
            return None                  # a product of declared variables: ab(x + y)
        self.fail(f"unknown function {word!r}; known: "
                  f"{known_functions(self.namespace.functions)} (for a product, "
                  "separate the factors with spaces)", start)

    def name(self, base: str | None = None, start: Token | None = None):
        start = start or self.token
        if base is None:
            base = self.advance().text
        head, sub = base, None
        if self.token.text == "_":
            self.advance()
            sub = self.group_text().replace(" ", "")
            base += f"_{sub}" if len(sub) == 1 else f"_{{{sub}}}"
        if head == "I" and not self.declared(base):
            # the identity: I (size from its neighbours) or I_n
            return Unsized("identity") if sub is None else sp.Identity(self.size(sub, start))
        transposed = False
        if self.token.text == "^" and self.peek().text == "{" and self.peek(2).text in "[(":
            self.advance()
            index = self.group_text().replace(" ", "")
            # a^{[2]T}: the layer index, then a transpose
            split = re.fullmatch(r"(\[[^\]]*\]|\([^)]*\))(T|\\top|\\intercal)", index)
            if split:
                index, transposed = split.group(1), True
            base += "^{" + index + "}"
        if base == "e" and self.token.text == "^" and "e" not in self.namespace.shapes \
                and "e" not in self.namespace.scalars:
            caret = self.advance()
            group = self.group_text()
            exponent = self.sub_reader(group, caret).read()
            if is_matrix(exponent) and 1 not in tuple(exponent.shape):
                self.fail(f"e^{{{group}}} of a matrix could be the matrix exponential; for the "
                          f"entrywise exponential write \\exp({group})", caret)
            return self.algebra.apply(sp.exp, exponent)
        symbol = self.namespace.lookup(base)
        return self.algebra.transpose(symbol) if transposed else symbol

    def declared(self, name: str) -> bool:
        return name in self.namespace.shapes or name in self.namespace.scalars

    def size(self, text: str, token: Token):
        try:
            return size_of(text.strip("{}"), self.where)
        except BadInput:
            self.fail(f"cannot read the size {text!r} (an integer or a name such as n)", token)

    def ones(self, token: Token):
        """1 or 1_n after \\mathbf{1}: the ones vector, sized by its subscript or context."""
        if self.token.text == "_":
            self.advance()
            return sp.OneMatrix(self.size(self.group_text().replace(" ", ""), token), 1)
        return Unsized("ones")

    def function_name(self) -> tuple[str, Token] | None:
        """(name, token) when the tokens at point name a function, else None (not consumed)."""
        token = self.token
        if token.text in _NAMED and self.peek().text == "{":
            closing = self.index + 2
            parts = []
            while self.tokens[closing].text != "}" and self.tokens[closing].kind != "end":
                parts.append(self.tokens[closing].text)
                closing += 1
            word = "".join(parts)
            if word in _SPECIAL or word in self.spellings or word.lower() in self.spellings \
                    or (token.text != r"\mathrm"
                        and scalar_function(word, self.namespace.functions) is not None) \
                    or (token.text == r"\mathrm" and (word in _SPECIAL or word in self.spellings)):
                self.index = closing + 1
                return word, token
            return None
        if token.kind == "command":
            word = token.text[1:]
            if word in self.namespace.shapes or word in self.namespace.scalars:
                return None
            if word in _SPECIAL or token.text in self.spellings or word in self.spellings \
                    or (word not in _GREEK
                        and scalar_function(word, self.namespace.functions) is not None):
                self.advance()
                return word, token
        return None

    def command(self):
        token = self.token
        if token.text == r"\frac" or token.text == r"\dfrac" or token.text == r"\tfrac":
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
                token, lambda: self.algebra.div(numerator, denominator, num_text, den_text))
        if token.text == r"\sqrt":
            self.advance()
            value = self.braced()
            return self.algebra.apply(sp.sqrt, value)
        if token.text in (r"\sum", r"\prod", r"\int", r"\partial", r"\nabla"):
            self.fail(f"{token.text} is not supported in a matrix expression; write the sum "
                      "with matrix products (x^T y, \\|x\\|^2, \\operatorname{tr})")
        named = self.function_name()
        if named is not None:
            return self.apply_function(*named)
        bold_one = self.peek().text == "1" or [self.peek(k).text for k in (1, 2, 3)] == \
            ["{", "1", "}"]
        if token.text in _FONT | _BLACKBOARD and bold_one:
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
        if token.text in _FONT and self.peek().text == "{":
            self.advance()
            self.advance()
            inner = self.advance()
            if inner.kind not in ("letter", "command"):
                self.fail("expected a name", inner)
            self.expect("}")
            base = inner.text.lstrip("\\")
            return self.name(base, token)
        if token.text[1:] in _GREEK:
            self.advance()
            return self.name(token.text[1:], token)
        if token.text in _NAMED and self.peek().text == "{":
            self.advance()
            word = self.group_text()
            self.fail(f"unknown function {token.text}{{{word}}}; known: "
                      f"{known_functions(self.namespace.functions)}",
                      token)
        self.fail(f"unknown command {token.text}; known functions: "
                  f"{known_functions(self.namespace.functions)}")

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

    def apply_function(self, word: str, token: Token):
        prime = False
        power = None
        while self.token.text in ("'", "^", "_"):
            if self.token.text == "'":
                if prime:
                    self.fail("only a first derivative mark is read (for Φ'' write its "
                              "formula)")
                self.advance()
                prime = True
            elif self.token.text == "^":
                caret = self.advance()
                power = self.group_text()
                if power.replace(" ", "") in ("-1", "{-1}"):
                    self.fail(f"{token.text}^{{-1}} is ambiguous (the inverse function or "
                              f"1/{word}); write 1/{token.text}(…) or name the inverse "
                              "function", caret)
            else:
                self.fail("a subscript on a function is not read")
        if word == "log" and self.function_name_is("det"):
            word = "logdet"
        start = self.token
        value = self.argument()
        text = self.source(start.start)
        algebra = self.algebra
        kind = _SPECIAL.get(word)
        if prime and word not in self.spellings and word.lower() not in self.spellings \
                and token.text not in self.spellings:
            self.fail(f"a derivative mark on {word} is only read for activations", token)

        def build():
            if kind in ("trace", "det", "diag", "softmax", "logsumexp", "norm"):
                return getattr(algebra, kind)(value, ta=text)
            if kind == "logdet":
                return sp.log(algebra.det(value, text))
            if kind == "sqrt":
                return algebra.apply(sp.sqrt, value, text)
            if kind in ("log", "exp"):
                return algebra.apply(getattr(sp, kind), value, text)
            name = self.spellings.get(word) or self.spellings.get(word.lower()) or \
                self.spellings.get(token.text)
            function = self.namespace.functions[name] if name else \
                scalar_function(word, self.namespace.functions)
            if prime:
                function = prime_function(function)
            if is_matrix(value) and not is_one_by_one(value):
                return elementwise(function, value)
            return algebra.apply(function, value, text)
        result = self.with_algebra_position(token, build)
        if power is not None:
            exponent = self.sub_reader(power, token).read()
            result = self.with_algebra_position(
                token, lambda: self.algebra.power(result, exponent, word))
        return result

    def function_name_is(self, word: str) -> bool:
        saved = self.index
        named = self.function_name()
        self.index = saved
        return named is not None and named[0] == word


def read_latex(text: str, namespace: Namespace | None = None, where: str | None = "EXPR"):
    r"""A SymPy (matrix) expression from LaTeX.

    >>> ns = Namespace(shapes={"A": (3, 3), "v": (3, 1)})
    >>> read_latex("v^T A v", ns)
    v.T*A*v
    >>> read_latex(r"\log\det X", Namespace(shapes={"X": ("n", "n")}))
    log(Determinant(X))
    """
    return LatexReader(text, namespace if namespace is not None else Namespace(), where).read()


__all__ = ["read_latex", "LatexReader"]
