r"""``derive.jacobian``: the calculus (:mod:`derive.calculus`) with derive's activations.

The calculus knows no activation; it reads the named functions an expression may call from a
table it is given.  This module builds that table from the registry
(:data:`derive.activations.ACTIVATIONS`) and sends each request to the calculus: explicit SymPy
matrices and scalars to :func:`~derive.calculus.concrete.concrete_jacobian`, strings (LaTeX or
SymPy syntax) and matrix expressions over MatrixSymbols to
:func:`~derive.calculus.matrix.matrix_jacobian`.  ``derive jacobian`` (the command) comes
through here too.

>>> jacobian(r"\sigma(W x)", "x", shapes={"W": ("m", "n")}).expr
DiagMatrix(Lambda(_d, sigmoid_prime(_d)).(W*x))*W
"""

from __future__ import annotations

import sympy as sp

from .activations import ACTIVATIONS
from .calculus.concrete import concrete_jacobian
from .calculus.matrix import matrix_jacobian
from .errors import BadInput


def activation_functions() -> dict:
    r"""name → SymPy function class of every elementwise activation of the registry, in the
    registry's order (softmax, vector-valued, is the calculus's own ``softmax`` node).

    >>> table = activation_functions()
    >>> table["relu"].entry.latex, "softmax" in table
    ('\\operatorname{relu}', False)
    """
    table = {}
    for name in ACTIVATIONS.names():
        if name == "softmax":
            continue
        try:
            table[name] = ACTIVATIONS.get(name).function
        except BadInput:       # a parametrised entry without defaults: named only with them
            continue
    return table


def jacobian(expr, wrt, layout: str = "numerator", shapes=None, scalars=(), symmetric=(),
             vec: bool = False):
    """∂expr/∂wrt in ``layout`` ("numerator" or "denominator"); see SPEC §3.1 and §5a.

    Parameters
    ----------
    expr : str or sympy.Basic
        An explicit SymPy Matrix or scalar of Symbols (concrete sizes), or LaTeX / SymPy syntax
        / a matrix expression over MatrixSymbols (closed matrix form, symbolic sizes); strings
        may call every activation of the registry (``\\sigma``, ``relu``, ``tanh'``).
    wrt : str or sympy.Basic
        The variable: a Matrix of Symbols or a Symbol (concrete), or a name or MatrixSymbol.
    layout : {"numerator", "denominator"}
    shapes, scalars, symmetric, vec
        As for :func:`~derive.calculus.matrix.matrix_jacobian` (``vec=True``:
        d vec(Y)/d vec(X)).

    Returns
    -------
    JacobianResult
        ``expr`` with exactly the layout's shape: numerator ∂y/∂x m×n, ∂f/∂x 1×n, ∂f/∂X q×p;
        denominator the transposes.

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
    return matrix_jacobian(expr, wrt, layout=layout, shapes=shapes, scalars=scalars,
                           symmetric=symmetric, vec=vec, functions=activation_functions())


__all__ = ["jacobian", "activation_functions"]
