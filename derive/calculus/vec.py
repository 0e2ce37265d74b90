r"""The vec convention: d vec(Y) / d vec(X) for any Y and X, with Kronecker products.

The derivative of a matrix Y (r×c) by a matrix X (p×q) is a tensor of order 4; stacking the
columns of each (vec) makes it an ordinary rc × pq matrix (Magnus & Neudecker).  It is built in
forward mode from the differential of each node, read through vec(L dX R) = (Rᵀ ⊗ L) vec(dX):

- d(X) = dX                      →  I_{pq}
- d(Yᵀ) = (dY)ᵀ                  →  K_{r,c} J_Y       (K the commutation matrix)
- d(L Y R) = L dY R              →  (Rᵀ ⊗ L) J_Y
- d(c Y) = dc Y + c dY           →  vec(Y) ∇c-row + c J_Y      (∇c by reverse mode)
- d(Y⁻¹) = −Y⁻¹ dY Y⁻¹           →  −(Y⁻ᵀ ⊗ Y⁻¹) J_Y
- d Φ(Y) = Φ'(Y) ⊙ dY            →  diag(vec Φ'(Y)) J_Y
- d(Y ⊙ Z) = dY ⊙ Z + Y ⊙ dZ     →  diag(vec Z) J_Y + diag(vec Y) J_Z
- d softmax(z) = (diag(s) − s sᵀ) dz
- d Yᵏ = Σ Yⁱ dY Yᵏ⁻¹⁻ⁱ          →  Σ ((Yᵀ)ᵏ⁻¹⁻ⁱ ⊗ Yⁱ) J_Y

so A X B gives Bᵀ ⊗ A and σ(W x + b) by W gives diag(σ'(W x + b)) (xᵀ ⊗ I).  This is the
numerator layout; the denominator layout is its transpose.

Glossary: J_Y = d vec(Y) / d vec(X); r×c the shape of Y; p×q the shape of X; K_{r,c} the
commutation matrix, K_{r,c} vec(A) = vec(Aᵀ) for A r×c.
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.kronecker import KroneckerProduct

from .matrix_nodes import (CommutationMatrix, Softmax, Vec, elementwise_derivative, is_column,
                           is_matrix, is_row, shape_of)
from .constructors import hadamard, madd, mm, transpose
from .steps import NoClosedForm, Rewrite
from .tidy import tidy
from .vjp_rules import backpropagate


def vec(matrix):
    """vec(M): the columns of M stacked (a column is itself, a row its transpose)."""
    if not is_matrix(matrix) or is_column(matrix):
        return matrix
    if is_row(matrix):
        return transpose(matrix)
    return Vec(matrix)


def kron(left, right):
    """left ⊗ right; I_a ⊗ I_b = I_ab, I_1 ⊗ M = M ⊗ I_1 = M."""
    if isinstance(left, sp.Identity) and isinstance(right, sp.Identity):
        return sp.Identity(left.shape[0] * right.shape[0])
    for one, other in ((left, right), (right, left)):
        if isinstance(one, sp.Identity) and one.shape[0] == 1:
            return other
    return KroneckerProduct(left, right)


def _identity(size):
    return sp.Identity(size)


class _Forward:
    """d vec(node) / d vec(X) for every node, by one rule per node class."""

    def __init__(self, wrt, steps: list):
        self.wrt, self.steps = wrt, steps
        rows, cols = shape_of(wrt)
        self.size = rows * cols

    def __call__(self, node):
        if node == self.wrt:
            return _identity(self.size)
        if not node.has(self.wrt):
            return None
        if not is_matrix(node) or shape_of(node) == (1, 1) and not isinstance(node, sp.MatMul):
            return self.scalar(node)
        for klass in type(node).__mro__:
            rule = _RULES.get(klass)
            if rule is not None:
                name, method = rule
                result = method(self, node)
                if result is not None:
                    self.steps.append(Rewrite(name, node, result))
                return result
        known = ", ".join(sorted(k.__name__ for k in _RULES))
        raise NoClosedForm(f"no vec rule for {type(node).__name__} ({node}); known: {known}")

    def scalar(self, node):
        """A scalar c: d c = ⟨∇c, dX⟩, the row vec(∇c)ᵀ (1 × pq)."""
        gradient = backpropagate(node, sp.S.One, self.wrt, self.steps)
        if gradient is None:
            return None
        return transpose(vec(tidy(gradient, steps=self.steps)))

    def matadd(self, node):
        parts = [self(term) for term in node.args]
        parts = [p for p in parts if p is not None]
        return madd(*parts) if parts else None

    def matmul(self, node):
        coeff, factors = node.as_coeff_matrices()
        terms = []
        for i, factor in enumerate(factors):
            inner = self(factor)
            if inner is None:
                continue
            left, right = factors[:i], factors[i + 1:]
            rows, cols = shape_of(factor)
            left_m = mm(*left) if left else _identity(rows)
            right_t = transpose(mm(*right)) if right else _identity(cols)
            terms.append(mm(coeff, kron(right_t, left_m), inner))
        scalar_part = self(coeff) if isinstance(coeff, sp.Basic) and coeff.has(self.wrt) \
            else None
        if scalar_part is not None:
            terms.append(mm(vec(mm(*factors)), scalar_part))
        return madd(*terms) if terms else None

    def transpose(self, node):
        inner = self(node.arg)
        rows, cols = shape_of(node.arg)
        if rows == 1 or cols == 1:                   # a vector: vec(vᵀ) = vec(v)
            return inner
        return mm(CommutationMatrix(rows, cols), inner)

    def inverse(self, node):
        return mm(-1, kron(transpose(node), node), self(node.arg))

    def elementwise(self, node):
        derivative = elementwise_derivative(node)
        inner = self(node.expr)
        if not is_matrix(derivative):
            return mm(derivative, inner)
        return mm(sp.DiagMatrix(vec(derivative)), inner)

    def hadamard(self, node):
        terms = []
        for i, arg in enumerate(node.args):
            inner = self(arg)
            if inner is not None:
                others = node.args[:i] + node.args[i + 1:]
                terms.append(mm(sp.DiagMatrix(vec(hadamard(*others))), inner))
        return madd(*terms)

    def hadamard_power(self, node):
        base, k = node.base, node.exp
        power = base if k == 2 else sp.HadamardPower(base, k - 1)
        return mm(k, sp.DiagMatrix(vec(power)), self(node.base))

    def softmax(self, node):
        s = node
        return mm(madd(sp.DiagMatrix(s), mm(-1, s, transpose(s))), self(node.vector))

    def matpow(self, node):
        base, k = node.base, node.exp
        if not k.is_Integer or k == 0:
            raise NoClosedForm(f"no vec rule for the power {node} (exponent {k})")
        inner = self(base)
        if k < 0:                                    # Y⁻ᵏ = (Y⁻¹)ᵏ
            base, k = sp.Inverse(base), -k
            inner = mm(-1, kron(transpose(base), base), inner)
        size = base.shape[0]

        def power(matrix, e):
            return mm(*[matrix] * e) if e else _identity(size)
        k = int(k)
        return madd(*[mm(kron(power(transpose(base), k - 1 - i), power(base, i)), inner)
                      for i in range(k)])


_RULES = {
    sp.MatAdd: ("vec d(Y + Z) = vec dY + vec dZ", _Forward.matadd),
    sp.MatMul: ("vec(L dY R) = (Rᵀ ⊗ L) vec dY", _Forward.matmul),
    sp.Transpose: ("vec(dYᵀ) = K vec dY", _Forward.transpose),
    sp.Inverse: ("vec d(Y⁻¹) = −(Y⁻ᵀ ⊗ Y⁻¹) vec dY", _Forward.inverse),
    ElementwiseApplyFunction: ("vec dΦ(Y) = diag(vec Φ'(Y)) vec dY", _Forward.elementwise),
    sp.HadamardProduct: ("vec d(Y ⊙ Z) = diag(vec Z) vec dY + diag(vec Y) vec dZ",
                         _Forward.hadamard),
    sp.HadamardPower: ("vec d(Y^∘k) = k diag(vec Y^∘(k−1)) vec dY", _Forward.hadamard_power),
    Softmax: ("d softmax(z) = (diag(s) − s sᵀ) dz", _Forward.softmax),
    sp.MatPow: ("vec d(Yᵏ) = Σ ((Yᵀ)ᵏ⁻¹⁻ⁱ ⊗ Yⁱ) vec dY", _Forward.matpow),
}


def vec_jacobian(expr, wrt, steps: list | None = None):
    """d vec(expr) / d vec(wrt) in numerator layout, untidied; ``None`` when independent.

    Parameters
    ----------
    expr : sympy.MatrixExpr or sympy.Expr
        Y, r×c (a scalar counts as 1×1).
    wrt : sympy.MatrixSymbol or sympy.Symbol
        X, p×q.
    steps : list, optional
        Receives a :class:`~derive.calculus.steps.Rewrite` per rule applied.

    Returns
    -------
    sympy.MatrixExpr or None
        rc × pq.

    Examples
    --------
    >>> m, n, p = sp.symbols("m n p")
    >>> A, X, B = sp.MatrixSymbol("A", m, n), sp.MatrixSymbol("X", n, p), sp.MatrixSymbol("B", p, m)
    >>> vec_jacobian(A * X * B, X)
    KroneckerProduct(B.T, A)
    """
    return _Forward(wrt, steps if steps is not None else [])(expr)


__all__ = ["vec", "kron", "vec_jacobian"]
