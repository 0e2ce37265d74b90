r"""Stable rewrites: formulas of the derivation rewritten so that float64 never overflows them.

Each rewrite is checked equal to the formula it replaces before the code generator uses it:

- :func:`stable_form` (activations and losses): ``log(1 + e^t)`` becomes ``np.logaddexp(0, t)``
  and ``1/(1 + e^t)`` becomes ``np.exp(-np.logaddexp(0, t))``; checked at 20 random points by
  :func:`equal_numerically`;
- :func:`stable_derivative_form` (Φ' in gradients()): every power ``(1 + e^t)^k`` becomes
  ``e^(k logaddexp(0, t))`` and the exponentials of a product are merged into one, so
  ``e^t/(1 + e^t)`` is ``np.exp(t - np.logaddexp(0, t))``; checked against Φ' evaluated to 30
  digits at 24 points by :func:`equal_to_30_digits` (:func:`stable_derivatives`);
- :func:`stable_loss`: the loss of Φ(z) computed from z^L (``np.logaddexp`` for bce and
  logistic with σ, log-softmax for softmax with cross-entropy);
- :func:`general_softmax_signal`: the softmax output signal for targets off the simplex,
  written without dividing by s (s ⊙ ℓ'(s, y) cancelled first).

Glossary: :data:`T` the scalar variable of the derivative formulas; Φ an activation, ℓ a loss,
s the softmax outputs.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..activations import ActivationFunction, expand_activations
from ..calculus.matrix_nodes import prime_function
from ..losses import y as Y_SYMBOL, yhat as YHAT_SYMBOL

#: The scalar variable of the stable derivative formulas (Φ'(T)).
T = sp.Symbol("t", real=True)


class LogAddExp0(sp.Function):
    """log(1 + e^t), printed ``np.logaddexp(0, t)``."""

    nargs = 1

    def fdiff(self, argindex=1):
        return 1 / (1 + sp.exp(-self.args[0]))

    def _eval_evalf(self, prec):
        return sp.log(1 + sp.exp(self.args[0]))._eval_evalf(prec)


class LogSoftmax(sp.Function):
    """log softmax(Z) entry by entry (Z a column-batch), printed from the module's helper."""

    nargs = 1


NUMPY_MODULES = [{"LogAddExp0": lambda t: np.logaddexp(0, t)}, "numpy"]


def _is_one_plus_exp(arg) -> bool:
    return isinstance(arg, sp.Add) and len(arg.args) == 2 and sp.S.One in arg.args and \
        any(isinstance(t, sp.exp) for t in arg.args)


def _exponent(arg):
    return next(t for t in arg.args if isinstance(t, sp.exp)).args[0]


def _rewrite_exp_logs(expr):
    expr = expr.replace(lambda e: isinstance(e, sp.log) and _is_one_plus_exp(e.args[0]),
                        lambda e: LogAddExp0(_exponent(e.args[0])))
    expr = expr.replace(lambda e: isinstance(e, sp.Pow) and e.exp == -1 and
                        _is_one_plus_exp(e.base),
                        lambda e: sp.exp(-LogAddExp0(_exponent(e.base))))
    return expr.replace(lambda e: isinstance(e, sp.log) and isinstance(e.args[0], sp.exp),
                        lambda e: e.args[0].args[0])


def stable_form(expr):
    """``expr`` with log(1 + e^t) and 1/(1 + e^t) written through log-add-exp, or ``None``
    when a log or a 1/(1 + e^t) would be left behind (then there is no stable form).

    >>> z, y = sp.symbols("z y", real=True)
    >>> sigma = 1 / (1 + sp.exp(-z))
    >>> stable_form(-y * sp.log(sigma) - (1 - y) * sp.log(1 - sigma))
    -y*z + LogAddExp0(z)
    """
    logs_split = expr.replace(lambda e: isinstance(e, sp.log),
                              lambda e: sp.log(sp.factor(sp.together(e.args[0]))))
    for candidate in (expr, sp.expand_log(logs_split, force=True)):
        rewritten = _rewrite_exp_logs(candidate)
        if rewritten.has(sp.log) or rewritten == expr:
            continue
        return sp.expand(rewritten) if rewritten.has(LogAddExp0) else rewritten
    return None


def equal_numerically(a, b, symbols, rng) -> bool:
    """``a`` equals ``b`` (rel and abs 1e-12) at 20 points drawn in [-4, 4]."""
    f = sp.lambdify(symbols, [a, b], modules=NUMPY_MODULES)
    for _ in range(20):
        point = rng.uniform(-4, 4, size=len(symbols))
        left, right = f(*point)
        if not np.isclose(left, right, rtol=1e-12, atol=1e-12):
            return False
    return True


def _merge_exponentials(expr):
    """e^a e^b … → e^(a + b + …) in every product (e^t e^(-logaddexp(0, t)) would be ∞ · 0)."""
    def merge(product):
        exponents = [f.args[0] for f in product.args if isinstance(f, sp.exp)]
        rest = [f for f in product.args if not isinstance(f, sp.exp)]
        return sp.Mul(*rest, sp.exp(sp.Add(*exponents)))

    return expr.replace(lambda e: isinstance(e, sp.Mul) and
                        sum(isinstance(f, sp.exp) for f in e.args) >= 2, merge)


def stable_derivative_form(expr):
    """A derivative ``expr`` with log(1 + e^t) written log-add-exp, every integer power
    (1 + e^t)^k written e^(k logaddexp(0, t)) and the exponentials of each product merged, or
    ``None`` when nothing was rewritten.  Unlike :func:`stable_form`, other logs and
    exponentials may remain (a user's Φ' mixes both kinds).  The result is not expanded
    (``expand`` would split e^(a + b) again).

    >>> z = sp.Symbol("z", real=True)
    >>> stable_derivative_form(sp.exp(z) / (1 + sp.exp(z)))
    exp(z - LogAddExp0(z))
    >>> stable_derivative_form(z * sp.exp(-z) / (1 + sp.exp(-z)) ** 2)
    z*exp(-z - 2*LogAddExp0(-z))
    """
    rewritten = expr.replace(lambda e: isinstance(e, sp.log) and _is_one_plus_exp(e.args[0]),
                             lambda e: LogAddExp0(_exponent(e.args[0])))
    rewritten = rewritten.replace(
        lambda e: isinstance(e, sp.Pow) and e.exp.is_Integer and _is_one_plus_exp(e.base),
        lambda e: sp.exp(e.exp * LogAddExp0(_exponent(e.base))))
    rewritten = _merge_exponentials(rewritten)
    if rewritten == expr or not rewritten.has(LogAddExp0):
        return None
    return rewritten


#: Points where a rewritten Φ' is checked against Φ' (20 drawn in [-4, 4] and these, where
#: the raw formula is still finite but e^t is large or tiny).
WIDE_POINTS = (-30.0, -10.0, 10.0, 30.0)
DERIVATIVE_POINTS = 20 + len(WIDE_POINTS)


def equal_to_30_digits(stable, reference, var, rng) -> bool:
    """``stable`` in float64 NumPy equals ``reference`` evaluated to 30 digits (rel 1e-10,
    abs 1e-12) at :data:`DERIVATIVE_POINTS` points; activations in either are expanded to
    their formulas."""
    f = sp.lambdify([var], expand_activations(stable), modules=NUMPY_MODULES)
    exact = expand_activations(reference)
    for point in [*rng.uniform(-4, 4, size=20), *WIDE_POINTS]:
        try:
            expected = complex(exact.evalf(30, subs={var: sp.Float(point, 30)}))
        except (TypeError, ValueError):
            return False
        with np.errstate(all="ignore"):
            value = complex(f(np.float64(point)))
        if expected.imag or value.imag or not np.isfinite(expected.real) or \
                not np.isclose(value.real, expected.real, rtol=1e-10, atol=1e-12):
            return False
    return True


def stable_derivatives(activations, helpers: dict) -> dict:
    """Φ' of each elementwise activation printed into gradients() that has a stable form:
    prime function class → formula of :data:`T`, checked by :func:`equal_to_30_digits`.

    Activations with a helper stay calls of it (the helper is stable already); the others
    are expanded to their formulas, as the printer would inline them (softplus' = σ).
    Activations whose Φ' is written in Φ's output (σ' = a(1 − a)) are skipped: their Φ' is
    never printed."""
    rng = np.random.default_rng(0)
    stable = {}
    for activation in activations:
        if activation.vector_valued or activation.derivative_in_output(T) is not None:
            continue
        prime = prime_function(activation.function)
        if prime in stable:
            continue
        formula = activation.derivative_at(T)
        inline = formula.replace(lambda e: isinstance(e, ActivationFunction) and
                                 type(e) not in helpers, lambda e: e.explicit())
        candidate = stable_derivative_form(inline)
        if candidate is not None and equal_to_30_digits(candidate, formula, T, rng):
            stable[prime] = candidate
    return stable


#: Why the loss is computed the way it is (keys of :func:`stable_loss`'s answer).
LOSS_FROM_LOG_SOFTMAX, LOSS_FROM_LOGADDEXP, LOSS_HAS_NO_LOG, LOSS_AS_WRITTEN = (
    "log_softmax", "logaddexp", "no_log", "as_written")


def stable_loss(activation, loss):
    """(ℓ(Φ(z), y) per entry as an expression of z and ``Y_SYMBOL``, or ``None``; the reason).

    The reason is one of :data:`LOSS_FROM_LOG_SOFTMAX` (softmax output: ``log s`` written
    ``LogSoftmax(z)``), :data:`LOSS_FROM_LOGADDEXP` (an elementwise Φ whose loss has a
    :func:`stable_form`, checked by :func:`equal_numerically`), :data:`LOSS_HAS_NO_LOG` and
    :data:`LOSS_AS_WRITTEN` (``None``: compute from a^L).
    """
    expr = loss.expr
    z = sp.Symbol("z", real=True)
    if activation.vector_valued:
        s = sp.Symbol("s", positive=True)
        entry = expr.xreplace({YHAT_SYMBOL: s})
        candidate = entry.replace(lambda e: isinstance(e, sp.log) and e.args[0] == s,
                                  lambda e: LogSoftmax(z))
        if candidate != entry and not candidate.has(s):
            return candidate, LOSS_FROM_LOG_SOFTMAX
        return None, LOSS_AS_WRITTEN
    if not expr.has(sp.log):
        return None, LOSS_HAS_NO_LOG
    entry = expand_activations(expr.xreplace({YHAT_SYMBOL: activation.apply(z)}))
    stable = stable_form(entry)
    if stable is not None and equal_numerically(stable, entry, [z, Y_SYMBOL],
                                                np.random.default_rng(1)):
        return stable, LOSS_FROM_LOGADDEXP
    return None, LOSS_AS_WRITTEN


def general_softmax_signal(loss, s: sp.MatrixSymbol, y: sp.MatrixSymbol):
    """∂C/∂Z^L for a softmax output and targets whose columns need not sum to 1, or ``None``.

    The softmax Jacobian applied to g = ℓ'(s, y) is s ⊙ g − s ⊙ (1 1ᵀ (s ⊙ g)).  When
    w = s ⊙ g cancels to c_s s + c_y y (cross-entropy: w = −y), the columns of s summing to 1
    make it c_y (y − s ⊙ (1 1ᵀ y)): no division by s, which underflows to 0 at large logits.
    ``None`` for any other w (then the fused form needed no property of the targets).

    >>> from derive.losses import LOSSES
    >>> s, y = sp.MatrixSymbol("s", 3, sp.Symbol("N")), sp.MatrixSymbol("Y", 3, sp.Symbol("N"))
    >>> general_softmax_signal(LOSSES.get("cross_entropy"), s, y)
    HadamardProduct(1*Y, s) - Y
    """
    u, v = sp.Symbol("u", positive=True), sp.Symbol("v", real=True)
    weighted = sp.cancel(u * loss.derivative().xreplace({YHAT_SYMBOL: u, Y_SYMBOL: v}))
    poly = sp.Poly(weighted, u, v) if weighted.is_polynomial(u, v) else None
    if poly is None or poly.total_degree() > 1 or poly.coeff_monomial(1) != 0:
        return None
    c_y = poly.coeff_monomial(v)
    if c_y == 0:
        return None
    rows = s.shape[0]
    column_sums = sp.OneMatrix(rows, 1) * (sp.OneMatrix(1, rows) * y)
    return c_y * y - c_y * sp.HadamardProduct(column_sums, s)


__all__ = ["T", "LogAddExp0", "LogSoftmax", "stable_form", "stable_derivative_form",
           "equal_numerically", "equal_to_30_digits", "stable_derivatives", "stable_loss",
           "general_softmax_signal", "WIDE_POINTS", "DERIVATIVE_POINTS"]
