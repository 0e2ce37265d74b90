r"""The names part of the LaTeX reader: a variable as written, to its symbol.

:class:`NameReading` is mixed into :class:`~derive.calculus.latex_input.LatexReader`; its
methods read a name at point — a letter or Greek letter under a typeface or an accent
(``\mathbf{x}``, ``\hat{y}``, ``\mathcal{L}``), with a subscript (``W_1``, ``W1``) and a layer
index (``a^{[3]}``, ``W^{(2)}``, Ensimag's ``\alpha^{j}``) — and look it up in the namespace,
resolving its spelling (:func:`~.latex_names.resolve`).  Also I (the identity), ``e^{…}`` (the
exponential) and π, and inside a sum the entry or the sample a subscript names.  The rules for
names are in :mod:`.latex_names`; this module applies them to tokens.
"""

from __future__ import annotations

import re

import sympy as sp

from ..errors import BadInput
from .latex_names import (GREEK, LAYER_INDEX, TYPEFACES, decorated, resolve, scalar_candidates,
                          undecorated)
from .latex_tokens import Token
from .matrix_nodes import is_matrix
from .namespace import size_of
from .shape_algebra import Unsized


class NameReading:
    """Reading names (mixed into the LaTeX reader, whose tokens and namespace it uses)."""

    def name(self, base: str | None = None, start: Token | None = None,
             decoration: str | None = None):
        """A variable: its symbol (declared, defaulted, or inferred), or I, e^{…}, π."""
        start = start or self.token
        if base is None:
            base = self.advance().text
        plain = decoration is None or decoration in TYPEFACES
        spelled = decorated(decoration, base)
        sub = self.name_subscript(base, decoration)
        role = self.index_role(sub)
        sub_part = "" if sub is None or role else (f"_{sub}" if len(sub) == 1 else f"_{{{sub}}}")
        if base == "I" and plain and role is None and not self.declared("I" + sub_part):
            # the identity: I (size from its neighbours) or I_n
            self.features.add("identity")
            return Unsized("identity") if sub is None else sp.Identity(self.size(sub, start))
        sup_part, transposed, sampled = self.layer_index(spelled)
        if sub is None and self.token.text == "_":       # x^{(i)}_j: the subscript after
            sub = self.name_subscript(base, decoration)
            role = self.index_role(sub)
            sub_part = "" if role else (f"_{sub}" if len(sub) == 1 else f"_{{{sub}}}")
        if base == "e" and plain and not sub_part and not sup_part and \
                self.token.text == "^" and not self.declared("e"):
            caret = self.advance()
            group = self.group_text()
            exponent = self.sub_reader(group).read()
            if is_matrix(exponent) and 1 not in tuple(exponent.shape):
                self.fail(f"e^{{{group}}} of a matrix could be the matrix exponential; for the "
                          f"entrywise exponential write \\exp({group})", caret,
                          scalar_candidates(self.namespace, exponent))
            return self.algebra.apply(sp.exp, exponent)
        if base == "pi" and decoration is None and not sub_part and not sup_part and \
                not self.declared("pi"):
            return sp.pi
        name = resolve(self.namespace, spelled + sub_part + sup_part)
        if self.spelling is not None:                      # spelled_name: no lookup
            self.spelling.append(name)
            return sp.Symbol(name)
        self.names_read.append((start.start, self.tokens[self.index - 1].end, name))
        symbol = self.symbol(name, role, sub, start, sampled)
        self.name_end = self.index
        if transposed:
            self.features.add("transpose")
            return self.algebra.transpose(symbol)
        return symbol


    def name_subscript(self, base: str, decoration: str | None) -> str | None:
        """The subscript of a name: ``_i``, ``_{12}``, or digits written against a letter
        (``W1`` is ``W_1``)."""
        if self.token.text == "_":
            self.advance()
            return self.group_text().replace(" ", "")
        previous = self.tokens[self.index - 1]
        if decoration is None and len(base) == 1 and self.token.kind == "number" and \
                self.token.start == previous.end and self.token.text.isdigit():
            return self.advance().text
        return None


    def index_role(self, sub: str | None) -> str | None:
        """``"entry"`` or ``"sample"`` when ``sub`` is the index of an enclosing \\sum."""
        for role in ("entry", "sample"):
            if sub is not None and role in self.context and self.context[role][0] == sub:
                return role
        return None


    def layer_index(self, spelled: str) -> tuple[str, bool, bool]:
        """The superscript that is part of the name (``^{[2]}``, ``^{(l)}``, a profile's
        ``^{j}``): (its spelling, whether a transpose followed, whether it named a sample)."""
        if self.token.text != "^":
            return "", False, False
        if self.peek().text == "{" and self.peek(2).text in "[(":
            self.advance()
            index = self.group_text().replace(" ", "")
            transposed = False
            split = re.fullmatch(r"((?:\[[^\]]*\]|\([^)]*\))+)(T|\\top|\\intercal|t)", index)
            if split and self.transposes(split.group(2)):
                index, transposed = split.group(1), True
            sampled = False
            if "sample" in self.context:
                own = f"({self.context['sample'][0]})"
                segments = re.findall(r"\[[^\]]*\]|\([^)]*\)", index)
                if own in segments and "".join(segments) == index:
                    sampled = True
                    index = "".join(s for s in segments if s != own)
            if index:
                self.features.add("layer index")
            return ("^{" + index + "}" if index else ""), transposed, sampled
        names = self.dialect.superscript_names
        if spelled in names or undecorated(spelled) in names:
            saved = self.index
            self.advance()
            index = self.group_text().replace(" ", "")
            split = re.fullmatch(r"(.+?)(T|\\top|\\intercal)", index)
            transposed = bool(split and LAYER_INDEX.fullmatch(split.group(1)))
            if transposed:                                   # \alpha^{jT}
                index = split.group(1)
            if LAYER_INDEX.fullmatch(index) and not self.transposes(index):
                self.features.add("layer index")
                return "^{" + index + "}", transposed, False
            self.index = saved
        return "", False, False


    def symbol(self, name: str, role: str | None, sub: str | None, start: Token,
               sampled: bool):
        """The symbol of a resolved name; inside a \\sum, the entry or the sample it names."""
        if "entry" in self.context and role is None and not self.declared(name) and \
                name not in self.namespace.symbols:
            self.take_as_scalar(name)      # \sum_i \lambda x_i: λ is not indexed by i
        try:
            symbol = self.namespace.lookup(name)
        except BadInput as exc:             # a definition in terms of itself: mark the use
            if "\n" in str(exc):
                raise
            self.fail(str(exc), start)
        if role == "entry":
            if not is_matrix(symbol) or (symbol.shape[0] != 1 and symbol.shape[1] != 1):
                self.fail(f"{name}_{sub} is an entry of a vector, but {name} is "
                          f"{'a scalar' if not is_matrix(symbol) else 'a matrix'}", start)
            column = symbol if symbol.shape[1] == 1 else symbol.T
            entry = sp.Symbol(f"{name}[{sub}]", real=True)
            self.context["entry"][1][entry] = column
            return entry
        if role == "sample" or sampled:
            self.context["sample"][1].setdefault(name, symbol)
        return symbol


    def take_as_scalar(self, name: str) -> None:
        """Read the undeclared ``name`` as a scalar (a loss ∂L, an unindexed factor in Σ)."""
        if self.declared(name) or name in self.namespace.symbols:
            return
        forced = getattr(self.namespace, "forced", None)
        if forced is not None:
            forced.add(name)
        else:
            self.namespace.scalars = (*self.namespace.scalars, name)


    def spelled_name(self) -> tuple[str | None, int]:
        """(the resolved name of the lone variable at point, the token index after it), or
        (``None``, …): nothing consumed, nothing looked up.  For a definition's left side and
        for the L of ∂L/∂W and ∇_W L."""
        saved, features, names = self.index, set(self.features), len(self.names_read)
        self.spelling, found = [], None
        try:
            self.primary()
            found = self.spelling[0] if len(self.spelling) == 1 else None
        except BadInput:
            pass
        finally:
            end, self.index, self.spelling = self.index, saved, None
            self.features.clear()
            self.features.update(features)
            del self.names_read[names:]
        return found, end


    def declared(self, name: str) -> bool:
        return name in self.namespace.shapes or name in self.namespace.scalars or \
            name in getattr(self.namespace, "definitions", {})


    def size(self, text: str, token: Token):
        try:
            return size_of(text.strip("{}"), self.where)
        except BadInput:
            self.fail(f"cannot read the size {text!r} (an integer or a name such as n)", token)


    def ones(self, token: Token):
        """1 or 1_n after \\mathbf{1}: the ones vector, sized by its subscript or context."""
        self.features.add("ones")
        if self.token.text == "_":
            self.advance()
            return sp.OneMatrix(self.size(self.group_text().replace(" ", ""), token), 1)
        return Unsized("ones")


    def decorated_name(self, token: Token):
        r"""``\mathbf{x}``, ``\hat{y}``, ``\hat y``, ``\mathcal{L}``, ``\boldsymbol{\alpha}``."""
        self.advance()
        braced = self.token.text == "{"
        if braced:
            self.advance()
        inner = self.advance()
        if inner.kind == "command" and inner.text in TYPEFACES and self.token.text == "{":
            self.advance()                                 # \hat{\mathbf{y}}: the hat counts
            inner = self.advance()
            self.expect("}")
        if inner.kind not in ("letter", "command") or \
                inner.kind == "command" and inner.text[1:] not in GREEK:
            self.fail(f"expected a letter or a Greek letter after {token.text}", inner)
        if braced:
            self.expect("}", f"'}}' closing {token.text}{{…}} (one letter)")
        return self.name(inner.text.lstrip("\\"), token, decoration=token.text)


__all__ = ["NameReading"]
