"""Differentiation: concrete Jacobians and the matrix-expression calculus.

:func:`jacobian` is the one public entry point.  Explicit SymPy matrices and scalars go to
:mod:`.concrete`; strings (LaTeX or SymPy syntax) and matrix expressions over MatrixSymbols go to
the matrix-expression calculus in :mod:`.matrix`.
"""

from __future__ import annotations

import sympy as sp

from .concrete import concrete_jacobian
from .result import LAYOUTS, JacobianResult


def jacobian(expr, wrt, layout: str = "numerator", shapes=None, scalars=(), symmetric=(),
             vec: bool = False):
    """∂expr/∂wrt in ``layout`` ("numerator" or "denominator"); see SPEC §3.1 and §5a.

    Explicit SymPy matrices go to :func:`concrete_jacobian`; strings and matrix expressions to
    :func:`~derive.calculus.matrix.matrix_jacobian` (``vec=True``: d vec(Y)/d vec(X)).

    >>> import sympy as sp
    >>> x1, x2 = sp.symbols("x1 x2", real=True)
    >>> jacobian(sp.Matrix([x1**2, x2**2]), sp.Matrix([x1, x2])).expr
    Matrix([
    [2*x1,    0],
    [   0, 2*x2]])
    """
    concrete = isinstance(expr, (sp.MatrixBase, sp.Expr)) \
        and not isinstance(expr, sp.MatrixExpr) and not expr.atoms(sp.MatrixSymbol) \
        and not isinstance(wrt, sp.MatrixSymbol)
    if concrete and not isinstance(wrt, str) and not vec:
        return concrete_jacobian(expr, wrt, layout)
    from .matrix import matrix_jacobian

    return matrix_jacobian(expr, wrt, layout=layout, shapes=shapes, scalars=scalars,
                           symmetric=symmetric, vec=vec)


__all__ = ["jacobian", "concrete_jacobian", "JacobianResult", "LAYOUTS"]
