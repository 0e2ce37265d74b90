"""The result of ``derive.jacobian``: data plus its renderings."""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

LAYOUTS = ("numerator", "denominator")


def check_layout(layout: str) -> str:
    from ..errors import BadInput

    if layout not in LAYOUTS:
        raise BadInput(f"unknown layout {layout!r}; known: {', '.join(LAYOUTS)}")
    return layout


@dataclass(frozen=True)
class JacobianResult:
    """A derivative ∂f/∂x in a stated layout.

    Attributes
    ----------
    expr : sympy.Basic
        The result: an explicit ``Matrix`` (concrete sizes) or a matrix expression.
    shape : tuple
        (rows, cols), integers or SymPy symbols; exactly the layout's shape (SPEC §3.1).
    layout : str
        ``"numerator"`` or ``"denominator"``.
    of, wrt : sympy.Basic
        What was differentiated, and by what.
    notes : tuple of str
        Remarks the user should see (e.g. "EXPR does not depend on v: the result is zero").
    """

    expr: sp.Basic
    shape: tuple
    layout: str
    of: sp.Basic
    wrt: sp.Basic
    notes: tuple = field(default=())

    @property
    def latex(self) -> str:
        return sp.latex(self.expr)

    @property
    def numpy(self) -> str:
        from ..printing.numpy_printer import numpy_code

        return numpy_code(self.expr)
