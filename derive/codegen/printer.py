"""The code printer: one NumPy expression per definition of the derivation, in the module's names.

:class:`CodePrinter` is the matrix program printer of :mod:`derive.printing.matrix_code` plus
what a generated module has: its activation helpers (``relu(z1)``), the stable derivative
formulas of :mod:`derive.codegen.stable_forms`, ``np.logaddexp`` and ``log_softmax``, and
arrays made in the module's precision (``dtype=X.dtype``).  The constants of ``np.maximum``,
``np.minimum``, ``np.logaddexp`` and the masks print as floats (``np.maximum(0.0, z)``): NumPy
converts an int operand on every call, which costs as much as the operation on a small array.

A Heaviside step H(z) whose value at 0 is 0 or 1 prints as the mask ``(z > 0.0)`` or
``(z >= 0.0)`` (``np.heaviside`` is a generic ufunc some 50 times slower on large arrays); relu'
is H(z) with H(0) = 0, PyTorch's convention (:mod:`derive.activations`).

>>> CodePrinter({}, {}).doprint(sp.Heaviside(sp.Symbol("z"), 0))
'(z > 0.0).astype(DTYPE)'
"""

from __future__ import annotations

import sympy as sp

from ..activations import ActivationFunction
from ..calculus.matrix_nodes import ActivationPrime
from ..printing.matrix_code import ProgramPrinter, factor, strip_parens
from .stable_forms import T, LogAddExp0, LogSoftmax


class CodePrinter(ProgramPrinter):
    """Prints derivation expressions with the module's helper functions and names.

    Parameters
    ----------
    helper_names : dict
        Activation function class → the name of its module-level helper.
    dims : dict
        Size symbol → code giving it (``{N: "N"}``).
    derivatives : dict, optional
        Φ' function class → its stable formula of :data:`~derive.codegen.stable_forms.T`.
    """

    def __init__(self, helper_names: dict, dims: dict, derivatives: dict | None = None):
        super().__init__(dims, helpers={"softmax": "softmax"})
        self.helper_names = helper_names
        self.derivatives = derivatives or {}

    def _print_ActivationPrime(self, expr):
        # Reached through _print_Function: SymPy's dispatch skips the classes between a
        # Function subclass and Function.
        formula = self.derivatives.get(type(expr))
        if formula is None:
            return super()._print_ActivationPrime(expr)
        return f"({self._print(formula.xreplace({T: expr.args[0]}))})"

    def _print_Heaviside(self, expr):
        at_zero = expr.args[1] if len(expr.args) > 1 else sp.S.Half
        if at_zero in (0, 1):
            comparison = ">=" if at_zero == 1 else ">"
            return f"({self._print(expr.args[0])} {comparison} 0.0).astype(DTYPE)"
        return super()._print_Heaviside(expr)

    def _print_Max(self, expr):
        return self._fold_floats("np.maximum", expr.args)

    def _print_Min(self, expr):
        return self._fold_floats("np.minimum", expr.args)

    def _fold_floats(self, ufunc: str, args) -> str:
        # np.maximum(0.0, z), not (0, z): an int operand costs a conversion on every call.
        first, *rest = [f"{float(a)!r}" if a.is_Integer else self._print(a) for a in args]
        for nxt in rest:
            first = f"{ufunc}({first}, {nxt})"
        return first

    def _print_ActivationFunction(self, expr):
        helper = self.helper_names.get(type(expr))
        if helper is None:                      # step inside leaky_relu' = step(z): inline
            return factor(self._print(expr.explicit()))
        return f"{helper}({self._print(expr.args[0])})"

    def _print_Function(self, expr):
        if isinstance(expr, ActivationFunction):
            return self._print_ActivationFunction(expr)
        if isinstance(expr, ActivationPrime):
            return self._print_ActivationPrime(expr)
        if isinstance(expr, LogAddExp0):
            return f"np.logaddexp(0.0, {self._print(expr.args[0])})"
        if isinstance(expr, LogSoftmax):
            return f"log_softmax({self._print(expr.args[0])})"
        return super()._print_Function(expr)

    def _print_ElementwiseApplyFunction(self, expr):
        (var,), body = expr.function.variables, expr.function.expr
        placeholder = sp.Symbol("XARGX")
        text = strip_parens(self._print(body.xreplace({var: placeholder})))
        return text.replace("XARGX", self._wrap(expr.expr))

    def _print_OneMatrix(self, expr):
        return (f"np.ones(({self._dim(expr.shape[0])}, {self._dim(expr.shape[1])}), "
                "dtype=X.dtype)")

    def _print_ZeroMatrix(self, expr):
        # In the module's precision: a float64 zero signal would make float32 gradients float64.
        return (f"np.zeros(({self._dim(expr.shape[0])}, {self._dim(expr.shape[1])}), "
                "dtype=X.dtype)")

    def _print_Augment(self, expr):
        v = self._print(expr.arg)
        return f"np.vstack([np.ones((1, N), dtype=X.dtype), {v}])"


__all__ = ["CodePrinter"]
