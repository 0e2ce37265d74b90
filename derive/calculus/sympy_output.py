"""Writing SymPy syntax: an expression of the calculus as text the SymPy-syntax reader reads back.

One contract with :mod:`.sympy_input`: what :func:`to_sympy_syntax` writes,
:class:`~derive.calculus.sympy_input.SympySyntaxReader` reads back to an equal expression, given
the same shapes, scalars and named functions.
"""

from __future__ import annotations

import json
import keyword

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.printing.str import StrPrinter

from .function_names import scalar_function
from .functions import NamedFunction
from .matrix_nodes import ActivationPrime, AsScalar, CommutationMatrix, Softmax, lambda_head
from .sympy_input import CONSTANTS

# Nodes printed as a name or a call, which ``.T`` and ``.applyfunc`` may follow unbracketed.
_POSTFIX_SAFE = (sp.MatrixSymbol, sp.Identity, sp.ZeroMatrix, sp.OneMatrix, sp.Transpose,
                 ElementwiseApplyFunction, sp.HadamardProduct, sp.HadamardPower,
                 sp.KroneckerProduct, sp.DiagMatrix, sp.DiagonalOf, Softmax, CommutationMatrix)


def _plain_name(name: str) -> bool:
    """A name the reader reads back as the variable of that name when written bare."""
    return name.isidentifier() and not keyword.iskeyword(name) and "__" not in name \
        and name not in CONSTANTS and name != "S"          # S.T would read as S.<singleton>


def _by_name(function) -> bool:
    """Φ written by its name in ``.applyfunc(Φ)``: a named function or its derivative (read back
    through the namespace's table, as ``sigmoid`` and ``sigmoid_prime``), or a SymPy function
    the name calls."""
    return issubclass(function, (NamedFunction, ActivationPrime)) or \
        scalar_function(function.__name__) is function


class SympySyntaxPrinter(StrPrinter):
    """SymPy syntax (``str`` of SymPy, where that reads back) for the calculus' expressions.

    Differs from ``str``: ``Identity(n)``, ``ZeroMatrix(m, n)``, ``OneMatrix(1, n)`` (not
    ``I``, ``0``, ``1``), ``hadamard_product(a, b)``, ``(W*x + b).applyfunc(sigmoid)`` and
    ``.applyfunc(Lambda(t, 1 - tanh(t)**2))`` (not ``Lambda(_d, ...).(W*x + b)``), a 1×1
    matrix used as a number in brackets ``(x.T*x)``, ``norm``, ``softmax``, ``logsumexp``, and
    names that are not Python identifiers as ``MatrixSymbol("W^{[2]}", m, n)``.
    """

    def __init__(self, taken=(), settings=None):
        super().__init__(settings)
        self.taken = set(taken)

    def _postfix(self, expr) -> str:
        text = self._print(expr)
        return text if isinstance(expr, _POSTFIX_SAFE) else f"({text})"

    def _print_Symbol(self, expr):
        return expr.name if _plain_name(expr.name) else f"Symbol({json.dumps(expr.name)})"

    def _print_MatrixSymbol(self, expr):
        if _plain_name(expr.name):
            return expr.name
        rows, cols = (self._print(size) for size in expr.shape)
        return f"MatrixSymbol({json.dumps(expr.name)}, {rows}, {cols})"

    def _print_Identity(self, expr):
        return f"Identity({self._print(expr.rows)})"

    def _print_ZeroMatrix(self, expr):
        return f"ZeroMatrix({self._print(expr.rows)}, {self._print(expr.cols)})"

    def _print_OneMatrix(self, expr):
        return f"OneMatrix({self._print(expr.rows)}, {self._print(expr.cols)})"

    def _print_Transpose(self, expr):
        return f"{self._postfix(expr.arg)}.T"

    def _print_HadamardProduct(self, expr):
        return f"hadamard_product({', '.join(self._print(arg) for arg in expr.args)})"

    def _variable_name(self) -> str:
        for name in ("t", "s", "u", "r", *(f"t_{k}" for k in range(len(self.taken) + 1))):
            if name not in self.taken:
                return name
        raise AssertionError("unreachable: there is always a free name")

    def _print_Lambda(self, expr):
        (var,), body = expr.variables, expr.expr
        fresh = sp.Symbol(self._variable_name(), real=True)
        return f"Lambda({fresh.name}, {self._print(body.xreplace({var: fresh}))})"

    def _print_ElementwiseApplyFunction(self, expr):
        head = lambda_head(expr.function)
        function = head.__name__ if head is not None and _by_name(head) \
            else self._print(expr.function)
        return f"{self._postfix(expr.expr)}.applyfunc({function})"

    def _print_AsScalar(self, expr):
        return f"({self._print(expr.matrix)})"

    def _print_Function(self, expr):
        args = [self._print(a.matrix) if isinstance(a, AsScalar) else self._print(a)
                for a in expr.args]
        return f"{expr.func.__name__}({', '.join(args)})"

    def _print_MatNorm(self, expr):
        return f"norm({self._print(expr.matrix)})"

    def _print_Softmax(self, expr):
        return f"softmax({self._print(expr.vector)})"

    def _print_LogSumExp(self, expr):
        return f"logsumexp({self._print(expr.vector)})"


def to_sympy_syntax(expr) -> str:
    """``expr`` as SymPy-syntax text that :class:`SympySyntaxReader` reads back to an equal
    expression, given the same shapes and scalars.

    >>> from derive.calculus.matrix_input import read_expression
    >>> from derive.calculus.matrix_nodes import elementwise
    >>> from derive.calculus.namespace import Namespace
    >>> n = sp.Symbol("n")
    >>> W, x = sp.MatrixSymbol("W", n, n), sp.MatrixSymbol("x", n, 1)
    >>> text = to_sympy_syntax(sp.DiagMatrix(elementwise(sp.tanh, W*x)) * W)
    >>> text
    'DiagMatrix((W*x).applyfunc(tanh))*W'
    >>> read_expression(text, Namespace()) == sp.DiagMatrix(elementwise(sp.tanh, W*x)) * W
    True
    """
    taken = {s.name for s in expr.atoms(sp.Symbol, sp.MatrixSymbol)} \
        if isinstance(expr, sp.Basic) else set()
    return SympySyntaxPrinter(taken).doprint(expr)


__all__ = ["SympySyntaxPrinter", "to_sympy_syntax"]
