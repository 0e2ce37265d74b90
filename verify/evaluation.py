"""The module evaluated at a point: its gradients in the code's precision, the differenced loss
in the working precision, every loss evaluation counted.

Two precisions meet in a check.  The *code's* (``code_dtype``) is what the module computes in:
float32 code gets its params, X and Y cast to float32, and the point is held rounded to float32
(in float64) so that both sides see the same numbers.  The *working* precision (``work_dtype``)
is the one the loss is differenced in: float64, unless float32 code offers no float64 loss (see
:mod:`verify.twin`).  The loss that is differenced (``difference_loss``) is the module's, or its
float64 twin.

A :class:`Point` is where entries are checked: θ in float64 and in the working precision, the
analytic gradients there and L(θ).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .modules import GradientModule, Unusable, call, call_gradients, finite_gradients


@dataclass
class Point:
    """A point the entries are checked at: θ (float64 and working precision), g, L(θ).

    ``redraw`` is 0, or r at the r-th perturbed point (a re-draw past a kink, shifted by at
    most ``shift``); ``fresh`` is 0 around the input point, k > 0 around fresh point #k.
    """

    params: dict
    base: dict
    grads: dict
    loss: float
    redraw: int = 0
    shift: float = 0.0
    fresh: int = 0


class Evaluator:
    """Calls of a :class:`~verify.modules.GradientModule` at the current X, Y.

    Attributes
    ----------
    code_dtype, work_dtype : numpy.dtype
        The precision of the code (analytic side) and of the differences; float64 until the
        checker decides otherwise.
    X, Y : ndarray
        The current batch, float64 (rounded to the code's precision); ``X_work``, ``Y_work``
        the same in the working precision.
    difference_loss : callable
        The loss that is differenced: the module's, or its float64 twin.
    evaluations : int
        Loss evaluations made so far.
    loss_dtype : numpy.dtype
        The dtype of the last loss value (part of telling the code's precision).
    """

    def __init__(self, module: GradientModule):
        self.module = module
        self.code_dtype = np.dtype(np.float64)
        self.work_dtype = np.dtype(np.float64)
        self.difference_loss = module.loss
        self.evaluations = 0
        self.loss_dtype = np.dtype(np.float64)
        self.X = self.Y = self.X_work = self.Y_work = None

    def set_data(self, X: np.ndarray, Y: np.ndarray) -> None:
        """Make X (n_0 × N) and Y (n_L × N) the batch, cast to the working precision."""
        self.X, self.Y = X, Y
        self.X_work = X.astype(self.work_dtype)
        self.Y_work = Y.astype(self.work_dtype)

    def rounded(self, array):
        """``array`` (or a dict of them) rounded to the code's precision, held in float64."""
        if isinstance(array, dict):
            return {k: self.rounded(v) for k, v in array.items()}
        return array.astype(self.code_dtype).astype(np.float64)

    def working(self, params: dict) -> dict:
        """``params`` in the working precision."""
        return {k: v.astype(self.work_dtype, copy=False) for k, v in params.items()}

    def gradients(self, params: dict) -> dict:
        """The module's gradients at ``params`` and the batch, computed in the code's precision,
        returned as finite float64 arrays."""
        if self.code_dtype != np.float64:
            cast = {k: v.astype(self.code_dtype) for k, v in params.items()}
            X, Y = self.X.astype(self.code_dtype), self.Y.astype(self.code_dtype)
        else:
            cast, X, Y = params, self.X, self.Y
        grads = call_gradients(self.module, cast, X, Y)
        return finite_gradients({k: grads[k] for k in params})

    def loss(self, params: dict, where: str = "the input point",
             function: Callable | None = None) -> float:
        """The loss that is differenced (or ``function``) at ``params`` and the working batch;
        :class:`~verify.modules.Unusable` unless it is one finite number."""
        self.evaluations += 1
        function = function if function is not None else self.difference_loss
        what = "loss(params, X, Y)" if function is self.module.loss else \
            "loss(params, X, Y) of the float64 twin"
        value = call(what, function, params, self.X_work, self.Y_work)
        array = np.asarray(value)
        self.loss_dtype = array.dtype
        if array.size != 1 or array.dtype.kind not in "fiub":
            raise Unusable(f"loss() returned {type(value).__name__} of shape {array.shape}, "
                           "not a scalar")
        result = float(array.reshape(()))
        if not np.isfinite(result):
            raise Unusable(f"loss() returned {result} at {where}")
        return result

    def point(self, params: dict, *, grads: dict | None = None, loss: float | None = None,
              where: str = "the input point", redraw: int = 0, shift: float = 0.0,
              fresh: int = 0) -> Point:
        """The :class:`Point` at ``params`` (gradients and loss computed unless given)."""
        grads = grads if grads is not None else self.gradients(params)
        base = self.working(params)
        loss = loss if loss is not None else self.loss(base, where)
        return Point(params, base, grads, loss, redraw=redraw, shift=shift, fresh=fresh)

    def line(self, base: dict, name: str, key, direction: np.ndarray | None):
        """t ↦ (L(θ + t·e), the step actually taken) for one entry, in the working precision:
        e the coordinate ``key`` of tensor ``name`` (the step as rounded there), or the unit
        ``direction``."""
        tensor = base[name]

        def at(t: float) -> tuple[float, float]:
            if direction is None:
                moved = tensor.copy()
                moved[key] = tensor[key] + self.work_dtype.type(t)
                actual = float(moved[key]) - float(tensor[key])
            else:
                moved = (tensor + t * direction).astype(self.work_dtype, copy=False)
                actual = t
            return self.loss({**base, name: moved}, f"{name} ± h"), actual

        return at


__all__ = ["Point", "Evaluator"]
