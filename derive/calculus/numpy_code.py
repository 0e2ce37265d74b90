"""NumPy code for SymPy expressions: one expression with the module alias ``np``.

SymPy's own NumPy printer does not know named functions (σ, relu, a user's swish) and prints
``Max`` of an array against a scalar in a form that fails on arrays; this subclass prints every
:class:`~derive.calculus.functions.NamedFunction` through its explicit formula and uses ufuncs
that broadcast.  The matrix printer (:mod:`.matrix_printing`) and derive's program printers
build on it.

>>> z = sp.Symbol("z", real=True)
>>> numpy_code(sp.Max(0, z) + sp.Heaviside(z, 1))
'np.heaviside(z, 1.0) + np.maximum(0, z)'
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from .functions import NamedFunction


class NumpyCodePrinter(NumPyPrinter):
    """Prints with the module alias ``np`` and broadcasting ufuncs."""

    def __init__(self, settings=None):
        super().__init__({"fully_qualified_modules": False, "inline": True,
                          **(settings or {})})
        self.module_imports.clear()

    def _module_format(self, fqn, register=True):
        return fqn.replace("numpy.", "np.") if fqn.startswith("numpy.") else fqn

    # Parenthesised: the formula stands for one factor (sigmoid(z)**2, 1/sigmoid(z)).  Named
    # functions are reached through _print_Function: SymPy's dispatch skips the classes between
    # a Function subclass and Function.  A function class named softmax (softmax(i, z1, …, zn),
    # with an explicit formula) is dispatched by its name.
    def _print_softmax(self, expr):
        return f"({self._print(expr.explicit())})"

    def _print_Function(self, expr):
        if isinstance(expr, NamedFunction):
            return f"({self._print(expr.explicit())})"
        return super()._print_Function(expr)

    def _print_Max(self, expr):
        return self._fold("np.maximum", expr.args)

    def _print_Min(self, expr):
        return self._fold("np.minimum", expr.args)

    def _fold(self, ufunc, args):
        first, *rest = [self._print(a) for a in args]
        for nxt in rest:
            first = f"{ufunc}({first}, {nxt})"
        return first

    def _print_Heaviside(self, expr):
        value_at_zero = expr.args[1] if len(expr.args) > 1 else sp.S.Half
        return f"np.heaviside({self._print(expr.args[0])}, {self._print(sp.Float(value_at_zero))})"

    def _print_sign(self, expr):
        return f"np.sign({self._print(expr.args[0])})"

    def _print_KroneckerDelta(self, expr):
        i, j = expr.args
        return f"(1.0 if {self._print(i)} == {self._print(j)} else 0.0)"


def numpy_code(expr: sp.Basic) -> str:
    """One NumPy expression (module alias ``np``) for a SymPy expression."""
    return NumpyCodePrinter().doprint(expr)


__all__ = ["NumpyCodePrinter", "numpy_code"]
