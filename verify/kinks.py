"""Kinks inside the difference step: telling them from wrong gradients, and re-drawing past them.

* **detecting** (:func:`at_kink`) — from the five values L(θ + t·e), t ∈ {−h, −h/2, 0, h/2, h},
  the four slopes of the sub-intervals are formed; a smooth function changes slope evenly (the
  three slope increments agree to O(h²)), a kink or jump inside the step puts its whole slope
  change into one or two sub-intervals.  When the increments spread by more than their noise
  and by more than :data:`KINK_FRACTION` of the disagreement or of the largest increment (the
  slope change is concentrated), the entry is *at a kink*.
* **re-drawing** (:func:`redraw`) — every disagreeing entry is re-checked at slightly perturbed
  points on both sides, θ + δ and θ − δ (δ_i = 16·2^(r−1)·h_i·N(0, 1) in round r, the gradient
  recomputed there; a new random direction in directional mode), up to ``rounds`` times.  It is
  a mismatch when it disagrees at a point where the slope test sees no kink and never agrees at
  a re-drawn point; an entry that straddles a kink at every point tried is *non-differentiable
  here*, never a failure.

The entry check itself (:func:`verify.steps.check_entry`) is passed in as ``check(point, name,
key, direction) -> Outcome``: it is what uses :func:`at_kink`.

>>> at_kink((1.0, 0.5, 0.0, 0.5, 1.0), 1e-3, 1e-16, 1.0)    # L(t) = |t|/h: a kink at 0
True
>>> at_kink((1.0, 0.25, 0.0, 0.25, 1.0), 1e-3, 1e-16, 1.0)  # L(t) = (t/h)²: smooth
False
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .directional import draw_direction
from .evaluation import Evaluator, Point

#: The kink test: slope increments spread by more than this fraction of the disagreement or of
#: the largest increment.
KINK_FRACTION = 0.5


def at_kink(values: tuple, h: float, eta: float, err: float) -> bool:
    """Is there a kink (or jump) inside the step?

    Parameters
    ----------
    values : tuple of 5 float
        L at θ − h·e, θ − h/2·e, θ, θ + h/2·e, θ + h·e.
    h : float
        The step.
    eta : float
        The rounding noise of one loss value.
    err : float
        |a − n|, the disagreement of the analytic value with the difference quotient.
    """
    fm, fm2, f0, fp2, fp = values
    s = h / 2
    slopes = np.array([fm2 - fm, f0 - fm2, fp2 - f0, fp - fp2]) / s
    increments = np.diff(slopes)
    spread = float(increments.max() - increments.min())
    largest = float(np.max(np.abs(increments)))
    return spread > max(16 * eta / s, KINK_FRACTION * min(err, largest))


@dataclass
class Disagreement:
    """An entry whose first outcome at ``point`` was not "ok", until :func:`redraw` settles it.

    ``key`` is the index tuple (a coordinate) or the direction number (``direction`` then holds
    the unit direction); ``final`` becomes "ok", "mismatch" or "nondiff"; for a mismatch,
    ``failure`` holds the (outcome, point, direction) to report.
    """

    tensor: str
    key: Any
    first: Any                       # the Outcome at ``point``
    point: Point
    direction: np.ndarray | None = None
    failure: tuple | None = None
    final: str = "pending"


def perturbed_points(evaluator: Evaluator, at: Point, r: int, root: float,
                     rng) -> tuple[Point, Point]:
    """The points θ + δ and θ − δ of re-draw round ``r`` (δ_i = 16·2^(r−1)·h_i·N(0, 1),
    h_i = ``root``·max(1, |θ_i|)), rounded to the code's precision."""
    params = at.params
    delta = {k: 16 * 2 ** (r - 1) * root * np.maximum(1.0, np.abs(v))
             * rng.standard_normal(v.shape) for k, v in params.items()}
    points = []
    for sign in (1.0, -1.0):
        shifted = {k: v + sign * delta[k] for k, v in params.items()}
        if evaluator.code_dtype != np.float64:
            shifted = {k: v.astype(evaluator.code_dtype).astype(np.float64)
                       for k, v in shifted.items()}
        shift = max(float(np.max(np.abs(shifted[k] - params[k]), initial=0))
                    for k in shifted)
        points.append(evaluator.point(shifted, where=f"perturbed point #{r}", redraw=r,
                                      shift=shift, fresh=at.fresh))
    return points[0], points[1]


def redraw(disagreements: list[Disagreement], at: Point, *, rounds: int,
           evaluator: Evaluator, root: float, rng, check: Callable) -> None:
    """Settle each disagreement found at ``at`` by re-checking it at perturbed points.

    Each round perturbs the point both ways, θ + δ and θ − δ: a kink that passes within
    the step of θ lies between them, so a gradient wrong on one side of it is seen.  An
    entry that straddled a kink at θ is cleared only if it agrees at some kink-free point
    and disagrees at none over all rounds; one that disagreed without a kink is cleared
    by a round whose two points both agree.
    """
    pending = list(disagreements)
    for r in range(1, rounds + 1):
        if not pending:
            break
        pair = perturbed_points(evaluator, at, r, root, rng)
        still = []
        for entry in pending:
            results = []
            for point in pair:
                shape = point.params[entry.tensor].shape
                direction = None if entry.direction is None else draw_direction(rng, shape)
                results.append((check(point, entry.tensor, entry.key, direction), point,
                                direction))
            kinds = [outcome.kind for outcome, _, _ in results]
            if "fail" in kinds:
                # A disagreement with no kink in sight.  Report the input point's values
                # when the input point showed no kink either (the user's own point).
                outcome, point, direction = next(x for x in results if x[0].kind == "fail")
                entry.final = "mismatch"
                entry.failure = (entry.first, entry.point, entry.direction) \
                    if entry.first.kind == "fail" else (outcome, point, direction)
                continue
            if entry.first.kind == "kink":
                if "ok" in kinds:
                    entry.final = "ok"      # provisionally: every round is still checked
                still.append(entry)
            elif all(kind == "ok" for kind in kinds):
                entry.final = "ok"
            else:
                still.append(entry)
        pending = still
    for entry in pending:
        if entry.final == "ok":
            continue
        if entry.first.kind == "fail":      # disagrees at the input point, no kink seen there
            entry.final = "mismatch"
            entry.failure = (entry.first, entry.point, entry.direction)
        else:
            entry.final = "nondiff"


__all__ = ["KINK_FRACTION", "at_kink", "Disagreement", "perturbed_points", "redraw"]
