"""The result of a Jacobian: data plus its renderings; the layouts.

>>> check_layout("sideways")
Traceback (most recent call last):
...
derive.errors.BadInput: unknown layout 'sideways'; known: numerator, denominator
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from ..errors import BadInput
from .numpy_code import numpy_code

LAYOUTS = ("numerator", "denominator")


def check_layout(layout: str) -> str:
    """``layout`` when it is one of :data:`LAYOUTS`; :class:`BadInput` otherwise."""
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
        return numpy_code(self.expr)
