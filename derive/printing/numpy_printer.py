"""NumPy printer for derive's expressions.

SymPy's own NumPy printer does not know our activation functions and prints ``Max`` of an
array against a scalar in a form that fails on arrays; this subclass prints every registered
activation through its explicit expression and uses ufuncs that broadcast.

>>> import sympy as sp
>>> from derive.activations import ACTIVATIONS
>>> z = sp.Symbol("z", real=True)
>>> numpy_code(ACTIVATIONS.get("relu").apply(z))
'(np.maximum(0, z))'
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from ..activations import ActivationFunction, softmax


class NumpyCodePrinter(NumPyPrinter):
    """Prints with the module alias ``np`` and broadcasting ufuncs."""

    def __init__(self, settings=None):
        super().__init__({"fully_qualified_modules": False, "inline": True,
                          **(settings or {})})
        self.module_imports.clear()

    def _module_format(self, fqn, register=True):
        return fqn.replace("numpy.", "np.") if fqn.startswith("numpy.") else fqn

    # Parenthesised: the formula stands for one factor (sigmoid(z)**2, 1/sigmoid(z)).
    def _print_ActivationFunction(self, expr):
        return f"({self._print(expr.explicit())})"

    def _print_softmax(self, expr):
        return f"({self._print(expr.explicit())})"

    def _print_Function(self, expr):
        if isinstance(expr, (ActivationFunction, softmax)):
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
