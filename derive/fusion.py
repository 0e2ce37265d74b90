"""The loss at the output: its matrix form, its gradient, and the fused output signal.

The per-sample cost is C = 1ᵀ ℓ(a^L, y) (ℓ applied entry by entry), so ∇_{a^L} C = ℓ'(a^L, y)
entrywise.  At the output, B^L = Φ'(z^L) ⊙ ℓ'(a^L, y) (softmax: (diag(s) − s sᵀ) ℓ'(s, y)) is
often simpler written in a^L and y: σ + bce, softmax + cross-entropy and identity + mse give
a^L − y.  :func:`fuse_output` finds such forms by algebra on one entry — never by the names of
the functions — and checks each against the unfused product:

- Φ' written in Φ's outputs (σ' = a(1 − a), tanh' = 1 − a²), times ℓ'(a, y), simplified;
- otherwise (a user's 1/(1 + e^{−x}), whose derivative has no registered form in its output)
  the product written out in z, tested for being Φ(z) − y;
- softmax: s ⊙ ℓ'(s, y) = c y entrywise, and on the simplex (Σ_k y_k = 1) the coupling term
  s (sᵀ ℓ') is c s, so B^L = c (y − s).

Glossary: ``u`` stands for one entry of a^L (ŷ), ``v`` for the target entry y, ``z`` for the
pre-activation entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from .activations import expand_activations
from .calculus.matrix_nodes import Entrywise2, U, V, entrywise2
from .calculus.constructors import madd, mm
from .derivation import Check
from .errors import CheckFailed
from .losses import Loss, y as Y_SYMBOL, yhat as YHAT_SYMBOL
from .registry import decide_equal

_Z = sp.Symbol("z", real=True)


def loss_matrix(loss: Loss, prediction, target):
    """ℓ(Ŷ, Y) entry by entry, as a matrix expression of the shape of ``prediction``."""
    return entrywise2(loss.expr, YHAT_SYMBOL, Y_SYMBOL, prediction, target)


def loss_gradient(loss: Loss, prediction, target):
    """∇_Ŷ C = ℓ'(Ŷ, Y) entrywise (ℓ' from sympy.diff), simplified to a linear form when it
    is one (mse: Ŷ − Y)."""
    return linear_matrix(loss.derivative().xreplace({YHAT_SYMBOL: U, Y_SYMBOL: V}),
                         prediction, target)


@dataclass(frozen=True)
class Fusion:
    """A fused output signal.

    Attributes
    ----------
    scalar : sympy.Expr
        One entry of B^L, in ``U`` (an entry of a^L) and ``V`` (the target entry).
    check : Check
        How it was checked against the unfused product.
    recognised : bool
        Whether it is a^L − y.
    rule : str
        ``simplify``, or ``target_domain`` when it rests on Σ_k y_k = 1.
    """

    scalar: sp.Expr
    check: Check
    recognised: bool
    rule: str

    def matrix(self, a, y) -> sp.Basic:
        """B^L as a matrix expression of ``a`` (a^L) and ``y``."""
        return linear_matrix(self.scalar, a, y)

    def entries(self, a, y) -> list:
        """B^L entry by entry for explicit columns ``a`` and ``y``."""
        return [self.scalar.xreplace({U: entry, V: target}) for entry, target in zip(a, y)]


def is_residual(expr) -> bool:
    """Whether ``expr`` (of U, V) is U − V identically."""
    difference = expr - (U - V)
    if sp.expand(difference) == 0:
        return True
    if decide_equal(expr, U - V, {U, V} | difference.free_symbols, simplify=False,
                    trials=3) is None:
        return False
    return sp.simplify(difference) == 0


@lru_cache(maxsize=256)
def fuse_output(activation, loss: Loss) -> Fusion | None:
    """One entry of B^L written in a^L and y when that is simpler than Φ'(z^L) ⊙ ℓ'(a^L, y).

    Returns ``None`` when no simpler form exists (see the module docstring).  Entries are
    immutable, so the result is kept per (activation, loss).

    Raises
    ------
    CheckFailed
        A simplification disagrees with the unfused product (a bug, never the user's).
    """
    derivative = loss.derivative().xreplace({YHAT_SYMBOL: U, Y_SYMBOL: V})
    if activation.vector_valued:
        return _fuse_softmax(derivative, loss)
    in_output = activation.derivative_in_output(U)
    explicit_a = expand_activations(activation.apply(_Z))
    if in_output is None:
        raw = derivative.xreplace({U: explicit_a}) * expand_activations(
            activation.derivative_at(_Z))
        if decide_equal(raw, explicit_a - V, [_Z, V], simplify=False, trials=3) is None:
            return None
        check = decide_equal(raw, explicit_a - V, [_Z, V], against="unfused")
        if check is None:
            return None
        simplified = U - V
    else:
        raw = derivative * in_output
        simplified = sp.factor_terms(sp.cancel(sp.together(raw)))
        if not is_residual(simplified) and sp.count_ops(simplified) >= sp.count_ops(raw):
            return None
        check = _equal_for_every_output(raw, simplified)
        if check is None:
            explicit = {U: explicit_a}
            check = decide_equal(raw.xreplace(explicit), simplified.xreplace(explicit), [_Z, V],
                                 simplify=False, against="unfused")
        if check is None:
            raise CheckFailed(f"fused output signal failed its check: {raw} vs {simplified}")
    return Fusion(simplified, check, is_residual(simplified), "simplify")


def _equal_for_every_output(raw, simplified) -> Check | None:
    """Exact when ``raw`` and ``simplified`` are equal as functions of a (and y): over a common
    denominator their difference expands to zero, so they are equal in particular at
    a = Φ(z), for every z."""
    if sp.expand(sp.numer(sp.together(raw - simplified))) == 0:
        return Check("exact", "unfused")
    return None


def _fuse_softmax(derivative, loss: Loss) -> Fusion | None:
    weighted = sp.factor_terms(sp.cancel(U * derivative))
    if weighted.has(U):
        return None
    coefficient = sp.cancel(weighted / V)
    if loss.targets != "simplex" or coefficient.free_symbols:
        return None
    check = decide_equal(U * derivative, coefficient * V, [U, V], against="unfused")
    if check is None:
        return None
    scalar = coefficient * V - coefficient * U
    return Fusion(scalar, check.under("simplex"), is_residual(scalar), "target_domain")


def linear_matrix(expr, a, y):
    """``expr`` (a scalar of U = a, V = y) as a matrix expression: a sum of multiples of a and
    y when it is linear, otherwise an entrywise function."""
    poly = sp.Poly(expr, U, V) if expr.is_polynomial(U, V) else None
    if poly is not None and poly.total_degree() <= 1:
        coeffs = dict(zip(poly.monoms(), poly.coeffs()))
        terms = []
        if (1, 0) in coeffs:
            terms.append(mm(coeffs[(1, 0)], a))
        if (0, 1) in coeffs:
            terms.append(mm(coeffs[(0, 1)], y))
        if (0, 0) in coeffs:
            terms.append(mm(coeffs[(0, 0)], sp.OneMatrix(*a.shape)))
        return madd(*terms)
    return Entrywise2(sp.Lambda((U, V), expr), a, y)


__all__ = ["Fusion", "fuse_output", "is_residual", "linear_matrix", "loss_gradient",
           "loss_matrix"]
