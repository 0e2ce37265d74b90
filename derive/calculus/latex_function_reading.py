r"""The functions part of the LaTeX reader: ``\sigma(z)``, ``\sigma'(z)``, ``\tanh^2 x``, ``g'(z)``.

:class:`FunctionReading` is mixed into :class:`~derive.calculus.latex_input.LatexReader`; its
methods recognise a function name at point — a command (``\tanh``, ``\arctan``), a word in
``\operatorname{…}``, ``\mathrm{…}`` or ``\text{…}``, plain letters called (``tr(A)``), or the
function a course writes without saying which (``g``, ``\Phi``, Mines' ``h_{(l)}``) — and apply
it with its prime and power to its argument: entrywise on a matrix, as a number on a scalar or a
1×1 expression.
"""

from __future__ import annotations

import re

import sympy as sp

from .function_names import known_functions, scalar_function
from .functions import NamedFunction, latex_name
from .latex_names import GREEK, LAYER_INDEX, scalar_candidates
from .latex_tokens import SIZING, Token
from .matrix_nodes import elementwise, is_matrix, is_one_by_one, prime_function

NAMED = {r"\operatorname", r"\mathrm", r"\text", r"\textrm", r"\mathit", r"\operatorname*"}
SPECIAL = {"tr": "trace", "Tr": "trace", "trace": "trace", "det": "det", "logdet": "logdet",
           "diag": "diag", "Diag": "diag", "softmax": "softmax", "logsumexp": "logsumexp",
           "lse": "logsumexp", "LSE": "logsumexp", "sqrt": "sqrt", "ln": "log", "log": "log",
           "exp": "exp", "norm": "norm"}
#: LaTeX's names of functions SymPy spells otherwise.
SYNONYMS = {"arctan": "atan", "arcsin": "asin", "arccos": "acos", "arccot": "acot",
            "arcsec": "asec", "arccsc": "acsc", "arsinh": "asinh", "arcsinh": "asinh",
            "arcosh": "acosh", "arccosh": "acosh", "artanh": "atanh", "arctanh": "atanh"}


def spellings_of(functions: dict) -> dict:
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


_AT, _POINT = sp.Dummy("d", real=True), sp.Dummy("u", real=True)


def derivative_of(function):
    """Φ' for a function class: a named function's own Φ', else d ↦ Φ'(d) written
    ``Subs(Derivative(Φ(u), u), u, d)`` (an undefined function's derivative at any argument,
    resolved when the function is)."""
    if isinstance(function, type) and issubclass(function, NamedFunction):
        return prime_function(function)
    return sp.Lambda(_AT, sp.Subs(sp.Derivative(function(_POINT), _POINT), _POINT, _AT))


class FunctionReading:
    """Reading function calls (mixed into the LaTeX reader)."""

    def function_name(self) -> tuple[str, Token] | None:
        """(name, token) when the tokens at point name a function, else None (not consumed)."""
        token = self.token
        if token.text in NAMED and self.peek().text == "{":
            closing = self.index + 2
            parts = []
            while self.tokens[closing].text != "}" and self.tokens[closing].kind != "end":
                parts.append(self.tokens[closing].text)
                closing += 1
            word = "".join(parts)
            known = SYNONYMS.get(word, word)
            if word in SPECIAL or word in self.spellings or word.lower() in self.spellings \
                    or (token.text != r"\mathrm"
                        and scalar_function(known, self.namespace.functions) is not None) \
                    or (token.text == r"\mathrm" and word in SYNONYMS):
                self.index = closing + 1
                return word, token
            return None
        if token.kind == "command":
            word = token.text[1:]
            if word in self.namespace.shapes or word in self.namespace.scalars:
                return None
            known = SYNONYMS.get(word, word)
            if word in SPECIAL or token.text in self.spellings or word in self.spellings \
                    or (word not in GREEK
                        and scalar_function(known, self.namespace.functions) is not None):
                self.advance()
                return word, token
        return None


    def apply_function(self, word: str, token: Token, generic: bool = False):
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
                compact = power.replace(" ", "")
                if generic and (re.fullmatch(r"\[[^\]]*\]|\([^)]*\)", compact) or
                                (self.dialect.superscript_names and
                                 LAYER_INDEX.fullmatch(compact))):
                    # the course's function of one layer (g^{[2]}, Ensimag's \Phi^{2}): a
                    # layer index, not a power; the layer is its argument's
                    word += f"^{{{compact}}}"
                    power = None
                    continue
                if power.replace(" ", "") in ("-1", "{-1}"):
                    self.fail(f"{token.text}^{{-1}} is ambiguous (the inverse function or "
                              f"1/{word}); write 1/{token.text}(…) or name the inverse "
                              "function", caret)
            elif generic:
                self.advance()                  # Mines' h_{(l)}: the layer's function
                sub = self.group_text().replace(" ", "")
                word += f"_{sub}" if len(sub) == 1 else f"_{{{sub}}}"
            else:
                self.fail("a subscript on a function is not read")
        if word == "log" and self.function_name_is("det"):
            word = "logdet"
        start = self.token
        value = self.argument()
        text = self.source(start.start)
        algebra = self.algebra
        kind = None if generic else SPECIAL.get(word)
        if kind in ("trace", "det", "diag", "logdet"):
            self.features.add("matrix function")
        if prime and not generic and word not in self.spellings and \
                word.lower() not in self.spellings and token.text not in self.spellings:
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
            if generic:
                function = sp.Function(word, real=True)
            else:
                name = self.spellings.get(word) or self.spellings.get(word.lower()) or \
                    self.spellings.get(token.text)
                function = self.namespace.functions[name] if name else \
                    scalar_function(SYNONYMS.get(word, word), self.namespace.functions)
            if prime:
                function = derivative_of(function)
            if is_matrix(value) and not is_one_by_one(value):
                return elementwise(function, value)
            return algebra.apply(function, value, text)
        result = self.with_algebra_position(token, build)
        if power is not None:
            exponent = self.sub_reader(power).read()
            if is_matrix(exponent):
                self.fail(f"the power {power!r} of {token.text} is not a number", token)
            self.check_exponent(exponent, token)
            result = self.with_algebra_position(
                token, lambda: self.algebra.power(result, exponent, word),
                scalar_candidates(self.namespace, result))
        return result


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
        while self.tokens[after].kind == "command" and self.tokens[after].text in SIZING:
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


    def calls_generic(self, word: str) -> bool:
        """``word`` names the course's unnamed function (g, Φ, h) and is called at point:
        ``g(z)``, ``g'(z)``, ``h_{(2)}(s)``, ``\\Phi^2(z)`` (nothing consumed)."""
        if word not in self.dialect.function_names or self.declared(word):
            return False
        tokens, at = self.tokens, self.index + 1
        while tokens[at].text in ("'", "_", "^"):
            at += 1
            if tokens[at - 1].text == "'":
                continue
            if tokens[at].text == "{":
                depth = 0
                while tokens[at].kind != "end":
                    depth += {"{": 1, "}": -1}.get(tokens[at].text, 0)
                    if depth == 0:
                        break
                    at += 1
            if tokens[at].kind == "end":
                return False
            at += 1
        while tokens[at].kind == "command" and tokens[at].text in SIZING:
            at += 1
        return tokens[at].text == "("

    def is_function_word(self, word: str) -> bool:
        if word in self.namespace.shapes or word in self.namespace.scalars:
            return False
        return word in SPECIAL or word in self.spellings or word.lower() in self.spellings \
            or scalar_function(SYNONYMS.get(word, word), self.namespace.functions) is not None


    def function_name_is(self, word: str) -> bool:
        saved = self.index
        named = self.function_name()
        self.index = saved
        return named is not None and named[0] == word


__all__ = ["FunctionReading", "NAMED", "SPECIAL", "SYNONYMS", "spellings_of", "derivative_of"]
