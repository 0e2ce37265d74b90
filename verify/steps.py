"""One entry differenced and compared: the step per parameter scale, the noise floor, the verdict.

* **step** — h = ε^(1/3)·max(1, |θ_i|) per coordinate (ε the machine epsilon of the precision
  the loss is differenced in); along a unit direction u, h = ε^(1/3)·max(1, max|θ|) over the
  tensor.  ε^(1/3) balances the O(h²) truncation error of central differences against the
  O(ε/h) rounding error.
* **comparison** — rel = |a − n| / max(|a|, |n|, tiny) must be ≤ rtol (:data:`RTOL`: 1e-6 for
  float64 code, 1e-4 for float32 code against float64 differences; :data:`RTOL_OWN_PRECISION`:
  1e-3 against float32 ones).  tiny = atol/rtol, atol = η/h the rounding noise of the
  difference quotient, η = 32·ε·max|L| the rounding noise of one loss value (plus, for float32
  code, the rounding noise of the analytic gradient, 32·ε₃₂·max|g|): entries within the noise
  are compared absolutely.  When the first quotient disagrees, the half-step quotient and the
  Richardson extrapolation (4·n(h/2) − n(h))/3 are tried before calling it a disagreement, and
  the five loss values then at hand go to the kink test (:func:`verify.kinks.at_kink`).

:func:`check_entry` returns an :class:`Outcome`: ``ok``, ``fail`` or ``kink``.

>>> compare(1.0, 1.0 + 1e-7, atol=1e-9, rtol=1e-6)[2]
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .evaluation import Evaluator, Point
from .kinks import at_kink

#: rtol per precision of the checked code, against float64 central differences (of its own
#: loss when that resolves float64 inputs, else of its float64 twin); others get 3·sqrt(ε).
#: Correct float32 modules stay below 1e-5 (benchmarked on generated networks up to 40-40-40-3
#: and 784-256-10): the float32 rounding of the analytic side.
RTOL = {np.dtype(np.float64): 1e-6, np.dtype(np.float32): 1e-4}
#: rtol when no float64 differences can be had: the loss differenced in its own precision.
RTOL_OWN_PRECISION = {np.dtype(np.float32): 1e-3}
#: η = NOISE_FACTOR·ε·max|L|: the rounding noise assumed for one loss value.
NOISE_FACTOR = 32


@dataclass(frozen=True)
class StepRule:
    """The step, the noise model and rtol of one check, fixed by its precisions.

    ``eps_code`` is the machine epsilon of the code's precision (the analytic side),
    ``eps_work`` that of the differences; ``root`` = eps_work^(1/3) scales every step.
    """

    rtol: float
    eps_code: float
    eps_work: float

    @classmethod
    def of(cls, code_dtype: np.dtype, work_dtype: np.dtype, *, own_precision: bool,
           rtol: float | None = None) -> "StepRule":
        """The rule for ``code_dtype`` code differenced in ``work_dtype``; ``own_precision``
        when the loss is differenced in the code's precision; ``rtol`` overrides the table."""
        eps_code = float(np.finfo(code_dtype).eps)
        if rtol is None:
            table = RTOL_OWN_PRECISION if own_precision else RTOL
            rtol = table.get(code_dtype, 3 * float(np.sqrt(eps_code)))
        return cls(float(rtol), eps_code, float(np.finfo(work_dtype).eps))

    @property
    def root(self) -> float:
        return self.eps_work ** (1 / 3)

    def step(self, theta: np.ndarray, key) -> float:
        """h for coordinate ``key`` of ``theta``, or (``key`` None) along a unit direction."""
        if key is None:
            return self.root * max(1.0, float(np.max(np.abs(theta), initial=0.0)))
        return self.root * max(1.0, abs(float(theta[key])))


@dataclass
class Outcome:
    """The verdict on one entry: ``kind`` "ok" | "fail" | "kink", the analytic and numeric
    values, their relative and absolute difference, the noise floor atol, the step h and (for a
    coordinate) the parameter's value."""

    kind: str
    analytic: float
    numeric: float
    rel: float
    abs: float
    atol: float
    step: float
    value: float | None = None


def compare(a: float, n: float, atol: float, rtol: float) -> tuple[float, float, bool]:
    """(rel, |a − n|, rel ≤ rtol), rel = |a − n| / max(|a|, |n|, atol/rtol)."""
    err = abs(a - n)
    scale = max(abs(a), abs(n), atol / rtol)
    rel = err / scale if scale > 0 else (0.0 if err == 0 else np.inf)
    return rel, err, rel <= rtol


def check_entry(evaluator: Evaluator, rule: StepRule, point: Point, name: str, key,
                direction: np.ndarray | None) -> Outcome:
    """Compare the analytic gradient of tensor ``name`` at ``point`` with central differences:
    at coordinate ``key`` (``direction`` None), or gᵀu along the unit ``direction``."""
    theta, g = point.params[name], point.grads[name]
    analytic_noise = NOISE_FACTOR * rule.eps_code * float(np.max(np.abs(g), initial=0.0))
    if direction is None:
        value = float(theta[key])
        a, h = float(g[key]), rule.step(theta, key)
    else:
        value = None
        a = float(np.sum(g * direction))
        h = rule.step(theta, None)
    at = evaluator.line(point.base, name, key, direction)
    f0 = point.loss
    fp, hp = at(h)
    fm, hm = at(-h)
    eta = NOISE_FACTOR * rule.eps_work * max(abs(f0), abs(fp), abs(fm))
    n = (fp - fm) / (hp - hm)
    atol = max(eta / h, analytic_noise)
    rel, err, ok = compare(a, n, atol, rule.rtol)
    if ok:
        return Outcome("ok", a, n, rel, err, atol, h, value)
    # The half step and the Richardson extrapolation, before calling it a disagreement.
    fp2, _ = at(h / 2)
    fm2, _ = at(-h / 2)
    eta = NOISE_FACTOR * rule.eps_work * max(abs(f0), abs(fp), abs(fm), abs(fp2), abs(fm2))
    n2 = (fp2 - fm2) / h
    for estimate, noise in ((n2, 2 * eta / h), ((4 * n2 - n) / 3, 3 * eta / h)):
        tol = max(noise, analytic_noise)
        rel2, err2, ok2 = compare(a, estimate, tol, rule.rtol)
        if ok2:
            return Outcome("ok", a, estimate, rel2, err2, tol, h, value)
    kink = at_kink((fm, fm2, f0, fp2, fp), h, eta, err)
    return Outcome("kink" if kink else "fail", a, n, rel, err, atol, h, value)


__all__ = ["RTOL", "RTOL_OWN_PRECISION", "NOISE_FACTOR", "StepRule", "Outcome", "compare",
           "check_entry"]
