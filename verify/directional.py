"""Random directional derivatives, and the bisection that finds the entry behind a failing one.

In directional mode a tensor θ is checked along random unit directions u (:func:`draw_direction`):
gᵀu against (L(θ + hu) − L(θ − hu))/2h, a cost independent of the tensor's size.  A direction
that disagrees says *that* the gradient is wrong, not *where*; :func:`localise` narrows it to
one coordinate by bisection: the direction is split into two halves of its entries, the half
with the larger disagreement is kept, down to one entry, which is then checked as a coordinate
(about 4·log₂(size) loss evaluations, only for a failing tensor).

The entry check (:func:`verify.steps.check_entry`) is passed in as ``check(point, name, key,
direction) -> Outcome``.

>>> u = draw_direction(np.random.default_rng(0), (2, 3))
>>> u.shape, round(float(np.sum(u * u)), 12)
((2, 3), 1.0)
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .evaluation import Point


def draw_direction(rng, shape: tuple) -> np.ndarray:
    """A random unit direction of ``shape`` (standard normal entries, normalised)."""
    u = rng.standard_normal(shape)
    norm = float(np.sqrt(np.sum(u * u)))
    return u / norm if norm > 0 else np.ones(shape) / np.sqrt(max(1, int(np.prod(shape))))


def localise(point: Point, name: str, direction: np.ndarray, check: Callable):
    """Bisect a disagreeing ``direction`` of tensor ``name`` down to one coordinate.

    Returns
    -------
    (index, Outcome) or None
        The coordinate whose own check fails, with that check's outcome; None when the
        coordinate the bisection ends at agrees (the disagreement was spread out).
    """
    shape = direction.shape
    flat = direction.ravel()
    candidates = np.flatnonzero(flat)
    while candidates.size > 1:
        best, best_score = None, -1.0
        for half in np.array_split(candidates, 2):
            part = np.zeros(flat.size)
            part[half] = flat[half]
            norm = float(np.sqrt(np.sum(part * part)))
            if norm == 0:
                continue
            outcome = check(point, name, None, (part / norm).reshape(shape))
            # The disagreement along the original (unnormalised) part of u; kinks avoided.
            score = outcome.abs * norm if outcome.kind != "kink" else 0.0
            if score > best_score:
                best, best_score = half, score
        candidates = best
    index = tuple(int(i) for i in np.unravel_index(int(candidates[0]), shape))
    outcome = check(point, name, index, None)
    return (index, outcome) if outcome.kind == "fail" else None


__all__ = ["draw_direction", "localise"]
