"""Reading an EXPR string: SymPy syntax or LaTeX, told apart by the text itself.

:func:`read_expression` sends EXPR to the SymPy-syntax reader (:mod:`.sympy_input`) when it has
no LaTeX markup and is a Python expression whose calls call functions
(:func:`~derive.calculus.sympy_input.looks_like_sympy`), and to the LaTeX reader
(:mod:`.latex_input`) otherwise.  Both read into one
:class:`~derive.calculus.namespace.Namespace` (shapes, scalars, named functions) and build
through one shape-checked :class:`~derive.calculus.shape_algebra.Algebra`, so ``v^T A v`` and
``v.T*A*v`` are the same expression.

>>> from derive.calculus.namespace import Namespace
>>> shapes = {"A": (3, 3), "v": (3, 1)}
>>> read_expression("v^T A v", Namespace(shapes)) == read_expression("v.T*A*v", Namespace(shapes))
True
"""

from __future__ import annotations

from ..errors import BadInput
from .latex_input import read_latex
from .namespace import Namespace
from .sympy_input import SympySyntaxReader, looks_like_sympy


def read_expression(text: str, namespace: Namespace, where: str | None = "EXPR"):
    """An EXPR string in SymPy syntax or LaTeX → a SymPy (matrix) expression.

    Parameters
    ----------
    text : str
        EXPR as the user wrote it.
    namespace : Namespace
        Declared shapes, scalars and named functions; receives the symbols made and the notes.
    where : str, optional
        What to name in error messages (``"EXPR"``, ``"--wrt"``).

    Returns
    -------
    sympy.MatrixExpr or sympy.Expr
        r×c with the shapes of ``namespace`` (a scalar for a scalar EXPR).

    Raises
    ------
    BadInput
        An empty or unreadable EXPR, or operands of incompatible shapes.
    """
    if not isinstance(text, str) or not text.strip():
        raise BadInput("the expression is empty", where)
    if looks_like_sympy(text, namespace):
        return SympySyntaxReader(text, namespace, where).read()
    return read_latex(text, namespace, where)


__all__ = ["read_expression"]
