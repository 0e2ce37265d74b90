"""The engine's own numerical check of what it derives and generates.

``derive`` checks its results before handing them out (derived matrix rules, generated code);
this is the small float64 routine it uses.  The user-facing oracle, with per-entry tables,
kink handling and float32 rules, is :func:`verify.check_gradients` (``verify`` builds on
``derive``, never the reverse).

The check compares ⟨∇E, u⟩ with (E(θ + hu) − E(θ − hu)) / 2h along random unit directions u —
per tensor, so that a wrong tensor is named — at a cost independent of the parameter count.
Where the step straddles a kink (relu, hinge, …) the point is re-drawn, never reported as a
failure.

Glossary: θ the parameters (name → array), E the cost, u a direction, h the step.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .errors import CheckFailed

#: Relative tolerance of the float64 check (central differences with h = 1e-6 reach ~1e-9).
RTOL = 1e-5
STEP = 1e-6


def directional_check(cost: Callable[[dict], float], gradients: dict, params: dict,
                      rng: np.random.Generator, directions: int = 2,
                      per_tensor: bool = True, redraw: Callable[[], tuple] | None = None,
                      redraws: int = 3) -> float:
    """Check ``gradients`` (name → array) of ``cost`` at ``params``; return the worst rel. error.

    Parameters
    ----------
    cost : callable
        θ ↦ E(θ), a float.
    gradients, params : dict
        name → array of one shape.
    directions : int
        Random unit directions per tensor (``per_tensor``) or over all parameters at once.
    redraw : callable, optional
        Gives a fresh ``(params, gradients)`` when a disagreement may be a kink inside the step
        (the disagreement must then persist at ``redraws`` fresh points to count).

    Raises
    ------
    CheckFailed
        Naming the tensor, the analytic and numeric directional derivatives.
    """
    groups = [[name] for name in params] if per_tensor else [list(params)]
    worst = 0.0
    for group in groups:
        for _ in range(directions):
            attempt, point, grads = 0, params, gradients
            while True:
                error, analytic, numeric = _along(cost, grads, point, group, rng)
                if error <= RTOL:
                    worst = max(worst, error)
                    break
                if redraw is None or attempt >= redraws:
                    raise CheckFailed(f"gradient of {', '.join(group)} disagrees with central "
                                      f"differences along a random direction: analytic "
                                      f"{analytic!r}, numeric {numeric!r} (rel err {error:.1e})")
                attempt += 1
                point, grads = redraw()
    return worst


def _along(cost, grads, point, group, rng):
    direction = {name: rng.normal(size=np.shape(point[name])) for name in group}
    norm = np.sqrt(sum(float(np.sum(u * u)) for u in direction.values())) or 1.0
    analytic = sum(float(np.sum(np.broadcast_to(grads[name], np.shape(point[name]))
                                * direction[name])) / norm for name in group)
    plus = dict(point)
    minus = dict(point)
    for name in group:
        plus[name] = point[name] + STEP * direction[name] / norm
        minus[name] = point[name] - STEP * direction[name] / norm
    numeric = (cost(plus) - cost(minus)) / (2 * STEP)
    error = abs(numeric - analytic) / max(abs(numeric), abs(analytic), 1e-4)
    return error, analytic, numeric


__all__ = ["directional_check", "CheckFailed", "RTOL", "STEP"]
