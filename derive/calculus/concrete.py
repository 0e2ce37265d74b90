"""Jacobians at concrete sizes: every entry an explicit SymPy expression.

Shapes follow SPEC §3.1.  Numerator layout: ∂y/∂x is m×n for y ∈ R^m, x ∈ R^n; ∂f/∂x is 1×n
for a scalar f; ∂f/∂X is q×p for X ∈ R^{p×q}.  Denominator layout is the transpose of each.
A row vector (vᵀA) counts as the vector of its entries.

>>> import sympy as sp
>>> a1, a2, w1, w2 = sp.symbols("a1 a2 w1 w2", real=True)
>>> concrete_jacobian(w1 * a1 + w2 * a2, sp.Matrix([w1, w2])).expr
Matrix([[a1, a2]])
>>> concrete_jacobian(w1 * a1 + w2 * a2, sp.Matrix([w1, w2]), "denominator").shape
(2, 1)
"""

from __future__ import annotations

import sympy as sp

from ..errors import BadInput
from .result import JacobianResult, check_layout


def _as_entries(value) -> tuple[list, str]:
    """(entries, kind) where kind is 'scalar', 'vector' or 'matrix'."""
    if isinstance(value, sp.MatrixBase):
        if value.rows == 1 or value.cols == 1:
            return list(value), "vector"
        return list(value), "matrix"
    value = sp.sympify(value)
    return [value], "scalar"


class TermIndex:
    """The additive terms of each output, indexed by the symbols they contain.

    By the sum rule ∂(Σ t)/∂v = Σ_{t ∋ v} ∂t/∂v, so each derivative only differentiates the few
    terms that contain v.  A term linear in v — v itself, or a product c·v whose other factors c
    do not contain v — has derivative c (the product rule with constant factors; exactly what
    ``sympy.diff`` returns); every other term goes to ``sympy.diff``.  Derivatives are memoised,
    so build the index once per set of outputs and take as many Jacobians from it as needed.
    """

    def __init__(self, outputs):
        self.outputs = list(outputs)
        self._terms: list[dict] = []
        self._occurs: dict = {}
        for i, out in enumerate(self.outputs):
            table: dict = {}
            for term in sp.Add.make_args(out):
                for symbol in term.free_symbols:
                    table.setdefault(symbol, []).append(term)
            for symbol in table:
                self._occurs.setdefault(symbol, []).append(i)
            self._terms.append(table)
        self._derivatives: dict = {}

    def derivative(self, i: int, v: sp.Symbol) -> sp.Expr:
        """∂outputs[i]/∂v."""
        key = (i, v)
        value = self._derivatives.get(key)
        if value is None:
            terms = self._terms[i].get(v)
            value = add_terms([term_derivative(t, v) for t in terms]) if terms else sp.S.Zero
            self._derivatives[key] = value
        return value

    def occurrences(self, v: sp.Symbol) -> list[int]:
        """Indices of the outputs that contain ``v`` (the others have derivative zero)."""
        return self._occurs.get(v, [])

    def jacobian_rows(self, inputs) -> list[list]:
        """Numerator-layout Jacobian ∂outputs/∂inputs as a list of rows of entries."""
        inputs = list(inputs)
        zero = sp.S.Zero
        rows = [[zero] * len(inputs) for _ in self.outputs]
        for c, v in enumerate(inputs):
            for i in self.occurrences(v):
                rows[i][c] = self.derivative(i, v)
        return rows

    def jacobian(self, inputs) -> sp.Matrix:
        """Numerator-layout Jacobian ∂outputs/∂inputs."""
        rows = self.jacobian_rows(inputs)
        return sp.Matrix(len(rows), len(rows[0]) if rows else len(list(inputs)),
                         [e for row in rows for e in row])


def add_terms(terms: list) -> sp.Expr:
    """``sp.Add(*terms)``, without the call for zero or one term (the result is the same)."""
    if len(terms) == 1:
        return terms[0]
    return sp.Add(*terms) if terms else sp.S.Zero


def term_derivative(term: sp.Expr, v: sp.Symbol) -> sp.Expr:
    """∂term/∂v: directly for v and c·v with c free of v, otherwise by ``sympy.diff``."""
    if term == v:
        return sp.S.One
    if term.is_Mul:
        factors = term.args
        hits = [k for k, f in enumerate(factors) if f == v]
        if len(hits) == 1:
            rest = factors[:hits[0]] + factors[hits[0] + 1:]
            if not any(v in f.free_symbols for f in rest):
                return sp.Mul(*rest)
    return sp.diff(term, v)


def jacobian_matrix(outputs, inputs) -> sp.Matrix:
    """Numerator-layout Jacobian, differentiating only terms where the input occurs."""
    return TermIndex(outputs).jacobian(inputs)


def concrete_jacobian(expr, wrt, layout: str = "numerator") -> JacobianResult:
    """∂expr/∂wrt with explicit entries, in ``layout``.

    Parameters
    ----------
    expr : sympy.Expr or sympy.Matrix
        A scalar, or a column or row vector of expressions.
    wrt : sympy.Symbol or sympy.Matrix of Symbols
        A scalar, a column/row vector (n entries) or a p×q matrix of distinct symbols.
    layout : {"numerator", "denominator"}

    Returns
    -------
    JacobianResult
        ``expr`` is an explicit Matrix with exactly the layout's shape.
    """
    check_layout(layout)
    outputs, out_kind = _as_entries(expr)
    inputs, in_kind = _as_entries(wrt)
    if not all(isinstance(v, sp.Symbol) for v in inputs):
        raise BadInput("can only differentiate with respect to symbols, got "
                       f"{[str(v) for v in inputs if not isinstance(v, sp.Symbol)]}")
    if out_kind == "matrix":
        raise BadInput("the expression is a matrix; its derivative is a tensor of order "
                       "3 or 4 — differentiate a vector or a scalar (or vectorise it)")
    if in_kind == "matrix" and out_kind != "scalar":
        raise BadInput("a vector differentiated by a matrix is a 3-tensor; differentiate a "
                       "scalar by the matrix, or a vector by one of its columns")
    if in_kind == "matrix":
        p, q = wrt.shape
        # Numerator layout: ∂f/∂X is q×p, entry (j, i) = ∂f/∂X_ij.
        grad = sp.Matrix(p, q, lambda i, j: jacobian_matrix(outputs, [wrt[i, j]])[0, 0])
        result = grad.T if layout == "numerator" else grad
    else:
        numerator = jacobian_matrix(outputs, inputs)
        result = numerator if layout == "numerator" else numerator.T
    notes = ()
    if all(entry == 0 for entry in result):
        notes = ("the expression does not depend on the variable: the result is zero",)
    return JacobianResult(expr=result, shape=result.shape, layout=layout, of=expr, wrt=wrt,
                          notes=notes)
