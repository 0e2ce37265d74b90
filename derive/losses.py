"""Registry of losses: one entry each, an expression of one output component.

A loss ℓ(ŷ, y) is written for one component; the per-sample cost of a vector output is the sum
over components (cross_entropy: −Σ_k y_k log ŷ_k is exactly that sum).  An entry also says which
targets it is meant for (``targets``, a key of :data:`derive.targets.TARGET_DOMAINS`), the open
interval its prediction must lie in (``prediction_domain``; the log of bce needs 0 < ŷ < 1),
whether it is a margin loss on signed labels (``margin``: logistic, hinge), and where it has
kinks.  The tests build their cases from this metadata (``tests/cases.py``), so a new entry is
swept with no test change.

The target domain matters to the mathematics: softmax + cross_entropy gives ŷ − y only because
cross_entropy targets are probability vectors (Σ_k y_k = 1).  The engine uses that fact, and says
so, rather than assuming the result.

Glossary: ``yhat`` ŷ, ``y`` the target, ``delta`` the Huber threshold δ.

>>> LOSSES.get("bce").expr
-y*log(yhat) - (1 - y)*log(1 - yhat)
>>> LOSSES.get("huber(2)").kinks      # conservative: every branch boundary of the formula
(y, y - 2, y + 2)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from .activations import ACTIVATIONS, expand_activations
from .errors import BadInput
from .registry import Registry, find_kinks, parse_user_expression
from .targets import target_domain

yhat = sp.Symbol("yhat", real=True)
y = sp.Symbol("y", real=True)


@dataclass(frozen=True)
class Loss:
    """A per-component loss ℓ(ŷ, y); the per-sample cost is Σ_k ℓ(ŷ_k, y_k).

    Attributes
    ----------
    name, latex : str
        Registry name (``huber_2`` for ``huber(2)``) and LaTeX name.
    expr : sympy.Expr
        ℓ as an expression of :data:`yhat` and :data:`y`.
    targets : str
        The target domain, a key of :data:`derive.targets.TARGET_DOMAINS`.
    prediction_domain : tuple
        (low, high) of the open interval ŷ must lie in, ``None`` for an unbounded side.
    margin : bool
        A margin loss on real scores with ±1 labels (logistic, hinge).
    kinks : tuple
        Values of ŷ (expressions of y) where ℓ may not be differentiable.
    family : tuple or None
        ``(name, parameter)`` of a parametrised registry entry (``("huber", "2")``).
    """

    name: str
    latex: str
    expr: sp.Expr
    targets: str = "real"
    prediction_domain: tuple = (None, None)
    margin: bool = False
    kinks: tuple = ()
    family: tuple | None = field(default=None, compare=False)

    def per_sample(self, prediction: sp.Matrix, target: sp.Matrix) -> sp.Expr:
        """C(ŷ, y) = Σ_k ℓ(ŷ_k, y_k) for columns of equal length."""
        return sp.Add(*[self.expr.subs({yhat: p, y: t}, simultaneous=True)
                        for p, t in zip(prediction, target)])

    def derivative(self) -> sp.Expr:
        """∂ℓ/∂ŷ from sympy.diff (as an expression of yhat and y)."""
        return sp.diff(self.expr, yhat).replace(sp.DiracDelta, lambda *a: sp.S.Zero)


def make_loss(name: str, expr: sp.Expr, latex: str, targets: str = "real",
              prediction_domain: tuple = (None, None), margin: bool = False,
              family: tuple | None = None, where: str | None = None) -> Loss:
    """Build an entry: check its target domain and find its kinks (see :class:`Loss`)."""
    target_domain(targets, where)
    return Loss(name=name, latex=latex, expr=expr, targets=targets,
                prediction_domain=prediction_domain, margin=margin,
                kinks=find_kinks(expr, yhat), family=family)


LOSSES: Registry = Registry("loss")


def _builtin(name, expr, latex, **kwargs):
    entry = make_loss(name, expr, latex, **kwargs)
    LOSSES.register(name, lambda: entry)


def _huber(delta=1) -> Loss:
    delta = sp.Rational(delta)
    if delta <= 0:
        raise BadInput(f"huber needs delta > 0, got {delta}")
    r = yhat - y
    expr = sp.Piecewise((r ** 2 / 2, sp.Abs(r) <= delta), (delta * (sp.Abs(r) - delta / 2), True))
    suffix = "" if delta == 1 else "_" + str(delta).replace("/", "_")
    return make_loss("huber" + suffix, expr, rf"\operatorname{{huber}}_{{{delta}}}",
                     family=("huber", str(delta)))


_builtin("mse", (y - yhat) ** 2 / 2, r"\tfrac{1}{2}\lVert y - \hat y\rVert^2")
_builtin("squared", (y - yhat) ** 2, r"\lVert y - \hat y\rVert^2")
_builtin("l1", sp.Abs(y - yhat), r"\lVert y - \hat y\rVert_1")
LOSSES.register("huber", _huber)
_builtin("logistic", sp.log(1 + sp.exp(-y * yhat)), r"\operatorname{logistic}",
         targets="sign", margin=True)
_builtin("hinge", sp.Max(0, 1 - y * yhat), r"\operatorname{hinge}", targets="sign", margin=True)
_builtin("bce", -(y * sp.log(yhat) + (1 - y) * sp.log(1 - yhat)), r"\operatorname{BCE}",
         targets="binary", prediction_domain=(0, 1))
_builtin("cross_entropy", -y * sp.log(yhat), r"\operatorname{CE}", targets="simplex",
         prediction_domain=(0, None))


def custom(name: str, expr: str | sp.Expr, latex: str | None = None,
           targets: str = "real", where: str | None = None) -> Loss:
    """A user-defined loss from any SymPy expression of yhat and y.

    >>> custom("logcosh", "log(cosh(yhat - y))").expr
    log(cosh(y - yhat))
    """
    target_domain(targets, where)
    allowed = {"yhat": yhat, "y": y}
    functions = {n: ACTIVATIONS.get(n).function for n in ACTIVATIONS.names() if n != "softmax"}
    if isinstance(expr, str):
        expr = parse_user_expression(expr, allowed, functions, f"loss {name!r}", where)
    else:
        expr = sp.sympify(expr)
        stray = expr.free_symbols - {yhat, y}
        if stray:
            raise BadInput(f"loss {name!r} uses {sorted(map(str, stray))}; "
                           "it may use only yhat and y", where)
    if not expr.has(yhat):
        raise BadInput(f"loss {name!r} does not depend on yhat", where)
    return make_loss(name, expand_activations(expr), latex or rf"\operatorname{{{name}}}",
                     targets=targets, where=where)
