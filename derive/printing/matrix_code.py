"""NumPy code for the matrix programs of derivations (layer rules, generated modules).

:class:`ProgramPrinter` extends the matrix-calculus NumPy printer with the nodes networks use
and with the idioms vectorised code is written in:

- ``M 1`` (a sum over columns) prints ``M.sum(axis=1, keepdims=True)`` and ``1ᵀ M``
  ``M.sum(axis=0, keepdims=True)`` (the array method: ``np.sum``'s wrapper costs more than
  the sum itself on small arrays);
- a bias broadcast over the batch, ``b 1ᵀ``, prints ``b`` inside a sum (NumPy broadcasting),
  else ``np.broadcast_to``;
- ``[1ᵀ; V]`` prints ``np.vstack(...)``, W̃ without its bias column ``W[:, 1:]``;
- softmax of each column is the stable ``softmax`` of the generated module when ``helpers``
  names it, else an inline stable expression;
- symbolic sizes print as the ``.shape`` of an array that has them (``dims``).

>>> import sympy as sp
>>> n, N = sp.symbols("n N")
>>> A, b = sp.MatrixSymbol("A", n, N), sp.MatrixSymbol("b", n, 1)
>>> code(A + b * sp.OneMatrix(1, N))
'A + b'
>>> code(A * sp.OneMatrix(N, 1) / N)
'A.sum(axis=1, keepdims=True) / A.shape[1]'
"""

from __future__ import annotations

import sympy as sp

from ..calculus.matrix_printing import MatrixNumpyPrinter, dims_of
from ..calculus.matrix_nodes import Softmax
from .latex_expr import is_node


def _is_ones(expr, rows=None, cols=None) -> bool:
    return isinstance(expr, sp.OneMatrix) and (rows is None or expr.shape[0] == rows) and \
        (cols is None or expr.shape[1] == cols)


class ProgramPrinter(MatrixNumpyPrinter):
    """NumPy code of a matrix expression, with the idioms of vectorised network code.

    Parameters
    ----------
    dims : dict
        Size symbol → code giving it (``{N: "X.shape[1]"}``).
    helpers : dict, optional
        Node kind → name of a helper function of the generated module (``{"softmax":
        "softmax"}``); without one, the node is printed inline.
    """

    def __init__(self, dims: dict | None = None, helpers: dict | None = None, settings=None):
        super().__init__(dims, settings)
        self.helpers = helpers or {}

    # sizes in coefficients print as the shapes that carry them
    def _print_Symbol(self, expr):
        if expr in self.dims:
            return self.dims[expr]
        return super()._print_Symbol(expr)

    def _print_Pow(self, expr, rational=False):
        base, exponent = expr.as_base_exp()
        if exponent == -1 and base.is_Symbol:
            return f"1/{self._print(base)}"
        return super()._print_Pow(expr, rational)

    def _print_MatMul(self, expr):
        coeff, factors = expr.as_coeff_matrices()
        factors = list(factors)
        body = None
        if len(factors) >= 2 and _is_ones(factors[-1], cols=1):
            inner = sp.MatMul(*factors[:-1]).doit(deep=False) if len(factors) > 2 else factors[0]
            body = f"{self._wrap(inner)}.sum(axis=1, keepdims=True)"
        elif len(factors) >= 2 and _is_ones(factors[0], rows=1):
            inner = sp.MatMul(*factors[1:]).doit(deep=False) if len(factors) > 2 else factors[1]
            body = f"{self._wrap(inner)}.sum(axis=0, keepdims=True)"
        elif len(factors) == 2 and _is_ones(factors[1], rows=1) and factors[0].shape[1] == 1:
            body = (f"np.broadcast_to({self._print(factors[0])}, "
                    f"({self._dim(factors[0].shape[0])}, {self._dim(factors[1].shape[1])}))")
        if body is None:
            numer, denom = sp.fraction(coeff)
            if denom == 1:
                return super()._print_MatMul(expr)
            # (1/N) Δ Aᵀ is written Δ @ A.T / N, as one writes a mean (and (1/N) Δ, Δ / N).
            inner = sp.MatMul(numer, *factors).doit(deep=False)
            body = super()._print_MatMul(inner) if isinstance(inner, sp.MatMul) else \
                self._print(inner)
            if isinstance(denom, sp.Symbol) or denom.is_Integer:
                return f"{body} / {self._print(denom)}" if numer != -1 else \
                    f"-({body[1:]}) / {self._print(denom)}"
            return f"{body} / ({self._print(denom)})"
        numer, denom = sp.fraction(coeff)
        if numer != 1:
            body = f"{self._wrap(numer)}*{body}"
        if denom != 1:
            body = f"{body} / {self._wrap(denom)}"
        return body

    def _print_MatAdd(self, expr):
        parts = []                      # (is negative, is a broadcast bias, text)
        for term in expr.args:
            if isinstance(term, sp.MatMul):
                coeff, factors = term.as_coeff_matrices()
                if len(factors) == 2 and _is_ones(factors[1], rows=1) and \
                        factors[0].shape[1] == 1:
                    # b 1ᵀ in a sum is b, broadcast by NumPy over the columns.
                    text = self._print(sp.MatMul(coeff, factors[0]).doit(deep=False))
                    parts.append((text.startswith("-"), True, text))
                    continue
            text = self._print(term)
            parts.append((text.startswith("-"), False, text))
        # Textbook order: W a + b, and a − y rather than −y + a.
        parts.sort(key=lambda part: part[:2])
        text = parts[0][2]
        for _, _, part in parts[1:]:
            text += f" - {part[1:]}" if part.startswith("-") else f" + {part}"
        return text

    def _wrap(self, expr):
        if isinstance(expr, Softmax) or is_node(expr, "Augment", "DropBias", "DropFirstRow"):
            return self._print(expr)
        return super()._wrap(expr)

    def _print_HadamardProduct(self, expr):
        parts = []
        for arg in expr.args:
            if isinstance(arg, sp.MatMul):
                coeff, factors = arg.as_coeff_matrices()
                if len(factors) >= 2 and _is_ones(factors[0]) and factors[0].shape[0] != 1:
                    # (1 1ᵀ M) ⊙ S: the column sums of M, broadcast down each column.
                    rest = sp.MatMul(coeff, *factors[1:]).doit(deep=False)
                    parts.append(f"{self._wrap(rest)}.sum(axis=0, keepdims=True)")
                    continue
            parts.append(factor(self._print(arg)))
        return " * ".join(parts)

    def _print_Entrywise2(self, expr):
        u, v = sp.Symbol("XFIRSTX"), sp.Symbol("XSECONDX")
        text = self._print(expr.body(u, v))
        return "(" + text.replace("XFIRSTX", self._wrap(expr.args[1])).replace(
            "XSECONDX", self._wrap(expr.args[2])) + ")"

    def _print_Softmax(self, expr):
        helper = self.helpers.get("softmax")
        if helper:
            return f"{helper}({self._print(expr.arg)})"
        return super()._print_Softmax(expr)

    def _print_Augment(self, expr):
        v = self._print(expr.arg)
        return f"np.vstack([np.ones((1, {self._wrap(expr.arg)}.shape[1])), {v}])"

    def _print_DropBias(self, expr):
        return f"{self._wrap(expr.arg)}[:, 1:]"

    def _print_DropFirstRow(self, expr):
        return f"{self._wrap(expr.arg)}[1:, :]"


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if depth < 0:
            return False
    return depth == 0


def strip_parens(text: str) -> str:
    """``((a))`` → ``a``: outer parentheses that enclose the whole expression."""
    while text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        text = text[1:-1]
    return text


def factor(text: str) -> str:
    """``text`` as a factor of an entrywise product: parenthesised only when it has a sum, a
    difference or a matrix product at its top level."""
    text = strip_parens(text)
    depth = 0
    for i, ch in enumerate(text):
        depth += ch in "(["
        depth -= ch in ")]"
        if depth == 0 and text[i:i + 3] in (" + ", " - ", " @ ", " / "):
            return f"({text})"
    return text


def code(expr, dims: dict | None = None, helpers: dict | None = None) -> str:
    """One NumPy expression for a matrix expression of a derivation."""
    return ProgramPrinter(dims if dims is not None else dims_of(expr), helpers).doprint(expr)


__all__ = ["ProgramPrinter", "code"]
