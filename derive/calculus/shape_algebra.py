"""Shape-checked construction of matrix expressions, shared by the two readers.

:class:`Algebra` builds SymPy matrix expressions with the shapes checked; an operation on operands
of incompatible shapes raises :class:`~derive.errors.BadInput` naming both operands (as written)
and their shapes.  Both readers (SymPy syntax in :mod:`.sympy_input`, LaTeX in
:mod:`.latex_input`) build through it, so they agree on what EXPR means and on every message.
:class:`Unsized` is the identity I or the ones vector 1 written without a size, sized by the
operand it meets.

Glossary: ``a``, ``b`` operands; ``ta``, ``tb`` their texts as written.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..errors import BadInput
from .matrix_nodes import (LogSumExp, MatNorm, Softmax, elementwise, hadamard_of, is_column,
                           is_matrix, is_one_by_one, matrix_sum, to_scalar)
from .namespace import Namespace, counted, shape_text


@dataclass(frozen=True)
class Unsized:
    """The identity I or the ones vector 1 written without a size: the reader takes the size
    from the operand it meets (``x^T A x - I``, ``\\mathbf{1}^T y``).

    ``kind`` is ``"identity"`` or ``"ones"``; ``row`` marks 1ᵀ; ``coeff`` a scalar factor.
    """

    kind: str
    row: bool = False
    coeff: sp.Expr = sp.S.One

    def text(self) -> str:
        name = "I" if self.kind == "identity" else ("1^T" if self.row else "1")
        return name if self.coeff == 1 else f"{self.coeff} {name}"

    def sized(self, rows, cols=None):
        """The matrix, ``rows`` (× ``cols``) given by the context."""
        if self.kind == "identity":
            matrix = sp.Identity(rows)
        else:
            matrix = sp.OneMatrix(1, rows) if self.row else sp.OneMatrix(rows, 1)
            if cols is not None:
                matrix = sp.OneMatrix(rows, cols)
        return matrix if self.coeff == 1 else sp.MatMul(self.coeff, matrix).doit(deep=False)


def describe(value, text: str | None) -> str:
    """``'W a' (3×2)`` for error messages."""
    if isinstance(value, Unsized):
        return f"'{(text or value.text()).strip()}' (size not given)"
    shape = "scalar" if not is_matrix(value) else shape_text(value.shape)
    return f"'{text.strip()}' ({shape})" if text else f"{value} ({shape})"


class Algebra:
    """Shape-checked construction of matrix expressions; ``ta``, ``tb`` are operand texts.

    An :class:`Unsized` operand (I, 1) takes its size from the other operand; a scalar added
    to a vector is that scalar times the ones vector (1 − y).
    """

    def __init__(self, where: str | None = None, namespace: Namespace | None = None):
        self.where, self.namespace = where, namespace

    def fail(self, message: str):
        if self.namespace is not None and self.namespace.defaulted:
            message += (" (no shape was declared for " + ", ".join(self.namespace.defaulted)
                        + ": declare it with --shape NAME=RxC or --scalar NAME)")
        raise BadInput(message, self.where)

    def sized(self, value, text=None):
        """``value``, which must not be an :class:`Unsized` (whose size nothing fixes here)."""
        if isinstance(value, Unsized):
            hint = "I_n" if value.kind == "identity" else "\\mathbf{1}_n"
            self.fail(f"cannot tell the size of {describe(value, text)} here; write it with "
                      f"its size, e.g. {hint}")
        return value

    def _fit_product(self, a, b, ta, tb):
        """Sizes for Unsized factors of a product a b, from the other factor."""
        if isinstance(a, Unsized) and isinstance(b, Unsized):
            self.sized(a, ta)
        if isinstance(a, Unsized):
            if not is_matrix(b):
                return Unsized(a.kind, a.row, a.coeff * b), None
            if a.kind == "identity" or a.row:
                return a.sized(b.shape[0]), b
            self.sized(a, ta)                        # 1 (k×1) times b: k is not fixed
        if isinstance(b, Unsized):
            if not is_matrix(a):
                return Unsized(b.kind, b.row, b.coeff * a), None
            if b.kind == "identity" or not b.row:
                return a, b.sized(a.shape[1])
            self.sized(b, tb)
        return a, b

    def _fit_alike(self, a, b, ta, tb):
        """Sizes for Unsized terms of a sum or Hadamard product, from the other term."""
        if isinstance(a, Unsized) and isinstance(b, Unsized):
            self.sized(a, ta)
        if isinstance(a, Unsized) and is_matrix(b):
            return (a.sized(b.shape[0], None if a.kind == "identity" else b.shape[1]), b)
        if isinstance(b, Unsized) and is_matrix(a):
            return (a, b.sized(a.shape[0], None if b.kind == "identity" else a.shape[1]))
        return self.sized(a, ta), self.sized(b, tb)

    def mul(self, a, b, ta=None, tb=None):
        a, b = self._fit_product(a, b, ta, tb)
        if b is None:
            return a
        if not is_matrix(a) or not is_matrix(b):
            if not is_matrix(a) and not is_matrix(b):
                return a * b
            return sp.MatMul(a, b).doit(deep=False)
        if a.shape[1] != b.shape[0]:
            if is_one_by_one(a):
                return sp.MatMul(to_scalar(a), b).doit(deep=False)
            if is_one_by_one(b):
                return sp.MatMul(to_scalar(b), a).doit(deep=False)
            self.fail(f"cannot multiply {describe(a, ta)} by {describe(b, tb)}: "
                      f"{counted(a.shape[1], 'column')} against {counted(b.shape[0], 'row')}")
        return sp.MatMul(a, b).doit(deep=False)

    def add(self, a, b, ta=None, tb=None, sign=1):
        b = b if sign == 1 else self.neg(b)
        a, b = self._fit_alike(a, b, ta, tb)
        if is_matrix(a) and is_matrix(b):
            if a.shape != b.shape:
                verb = "add" if sign == 1 else "subtract"
                self.fail(f"cannot {verb} {describe(a, ta)} and {describe(b, tb)}: "
                          "shapes differ")
            return matrix_sum(a, b)
        for value, other in ((a, b), (b, a)):
            if is_matrix(value) and not is_one_by_one(value):
                if value.shape[0] == 1 or value.shape[1] == 1:
                    # 1 − y for a vector y: the scalar times the ones vector
                    ones = sp.OneMatrix(*value.shape)
                    spread = ones if other == 1 else sp.MatMul(other, ones).doit(deep=False)
                    return matrix_sum(value, spread)
                text_value, text_other = (ta, tb) if value is a else (tb, ta)
                self.fail(f"cannot add {describe(value, text_value)} and the scalar "
                          f"{describe(other, text_other)} (for c I or c 1 1^T write it so)")
        return to_scalar(a) + to_scalar(b)

    def neg(self, a):
        if isinstance(a, Unsized):
            return Unsized(a.kind, a.row, -a.coeff)
        return sp.MatMul(-1, a).doit(deep=False) if is_matrix(a) else -a

    def div(self, a, b, ta=None, tb=None):
        self.sized(b, tb)
        if is_matrix(b):
            if not is_one_by_one(b) and 1 in b.shape:
                # y / a of vectors: entry by entry (a vector has no inverse), as the
                # per-entry loss's derivative is written (\frac{y}{a^{[3]}})
                inverse = sp.HadamardPower(b, -1)
                if not is_matrix(a):
                    return sp.MatMul(a, inverse).doit(deep=False)
                return self.hadamard(a, inverse, ta, tb)
            if not is_one_by_one(b):
                self.fail(f"cannot divide by the matrix {describe(b, tb)}; multiply by its "
                          "inverse instead")
            b = to_scalar(b)
        if isinstance(a, Unsized):
            return Unsized(a.kind, a.row, a.coeff / b)
        if is_matrix(a):
            return sp.MatMul(1 / b, a).doit(deep=False)
        return a / b

    def power(self, a, k, ta=None):
        self.sized(a, ta)
        if not is_matrix(a):
            return a ** k
        if is_one_by_one(a):
            return to_scalar(a) ** k
        if a.shape[0] != a.shape[1]:
            self.fail(f"cannot raise {describe(a, ta)} to a power: it is not square "
                      "(for entrywise powers write x \\odot x)")
        if k == -1:
            return sp.Inverse(a)
        if not (isinstance(k, (int, sp.Integer)) or getattr(k, "is_Integer", False)):
            self.fail(f"matrix power {describe(a, ta)}^{k} needs an integer exponent")
        return sp.MatPow(a, k).doit(deep=False) if k != 1 else a

    def transpose(self, a):
        if isinstance(a, Unsized):
            return a if a.kind == "identity" else Unsized(a.kind, not a.row, a.coeff)
        return sp.Transpose(a) if is_matrix(a) else a

    def inverse(self, a, ta=None):
        self.sized(a, ta)
        if not is_matrix(a):
            return 1 / a
        if a.shape[0] != a.shape[1]:
            self.fail(f"cannot invert {describe(a, ta)}: it is not square")
        return sp.Inverse(a)

    def hadamard(self, a, b, ta=None, tb=None):
        a, b = self._fit_alike(a, b, ta, tb)
        if not is_matrix(a) or not is_matrix(b):
            return self.mul(a, b, ta, tb)
        if a.shape != b.shape:
            self.fail(f"cannot take the Hadamard product of {describe(a, ta)} and "
                      f"{describe(b, tb)}: shapes differ")
        return hadamard_of(a, b)

    def square_matrix(self, a, ta, what):
        if not is_matrix(a) or a.shape[0] != a.shape[1]:
            self.fail(f"{what} needs a square matrix, got {describe(a, ta)}")

    def trace(self, a, ta=None):
        self.sized(a, ta)
        if not is_matrix(a):
            return a
        self.square_matrix(a, ta, "the trace")
        return sp.Trace(a)

    def det(self, a, ta=None):
        self.sized(a, ta)
        if not is_matrix(a):
            return a
        self.square_matrix(a, ta, "the determinant")
        return sp.Determinant(a)

    def norm(self, a, kind=None, ta=None):
        self.sized(a, ta)
        if not is_matrix(a):
            return sp.Abs(a)
        vector = a.shape[0] == 1 or a.shape[1] == 1
        if kind in (None, "2") and not vector:
            self.fail(f"the 2-norm of the matrix {describe(a, ta)} (its largest singular value) "
                      "has no closed-form gradient here; write the Frobenius norm \\|X\\|_F")
        if kind not in (None, "2", "F"):
            self.fail(f"unknown norm subscript {kind!r}; use \\|x\\|, \\|x\\|_2 or \\|X\\|_F")
        return MatNorm(a)

    def diag(self, a, ta=None):
        self.sized(a, ta)
        if not is_matrix(a) or is_one_by_one(a):
            return a                                 # diag of a number is that number
        if a.shape[1] == 1:
            return sp.DiagMatrix(a)
        if a.shape[0] == 1:
            return sp.DiagMatrix(sp.Transpose(a))
        self.square_matrix(a, ta, "diag")
        return sp.DiagonalOf(a)

    def softmax(self, a, ta=None):
        self.sized(a, ta)
        if not is_column(a):
            self.fail(f"softmax needs a column vector, got {describe(a, ta)}")
        return Softmax(a)

    def logsumexp(self, a, ta=None):
        self.sized(a, ta)
        if not is_column(a):
            self.fail(f"logsumexp needs a column vector, got {describe(a, ta)}")
        return LogSumExp(a)

    def apply(self, function, a, ta=None):
        """A function of one variable: of a scalar (or 1×1) it is a scalar; of a matrix it
        applies entrywise."""
        self.sized(a, ta)
        if not is_matrix(a):
            return function(a)
        if is_one_by_one(a):
            return function(to_scalar(a))
        return elementwise(function, a)


__all__ = ["Algebra", "Unsized", "describe"]
