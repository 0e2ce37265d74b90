"""What float32 code is differenced on: its own loss in float64, its float64 twin, or itself.

Float32 gradients are only worth comparing with float64 central differences (rtol 1e-4); float32
differences of a float32 loss carry ~1e-3 of rounding noise.  In order of preference:

1. the loss itself, when it *resolves float64 inputs* (:func:`resolves_float64`: along a random
   direction near the point, central quotients at steps 1e-8 and 1.37e-8 agree with the one at
   1e-6 — a loss that rounds its inputs to float32 gives 0 or noise there);
2. its *float64 twin* (:func:`float64_twin`): the loss rebound to a copy of its module's
   namespace with ``DTYPE = np.float64``, the module's other functions rebound too — accepted
   when its loss agrees with the float32 one to :data:`TWIN_AGREEMENT` and it resolves float64
   inputs (or, where the loss is flat and that cannot be probed, when the twin's gradients come
   out in float64);
3. the loss in its own precision with that precision's step: rtol 1e-3, and the report calls
   the check weaker.

:func:`choose_differences` makes that choice and says why, in a :class:`Differences`.
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .evaluation import Evaluator
from .modules import Unusable, call

#: The float64 twin's loss must agree with the float32 loss to this (relative to max(1, |L|)).
TWIN_AGREEMENT = 1e-3


@dataclass(frozen=True)
class Differences:
    """What the loss differences are taken of, and in which precision.

    ``kind`` is ``"same loss"`` (the loss in float64), ``"twin"`` (its float64 twin) or ``"low
    precision"`` (the loss in the code's own precision; ``why`` says why nothing better could
    be had).  ``note`` is the sentence for the report's notes.
    """

    kind: str
    loss: Callable
    work_dtype: np.dtype
    note: str
    why: str = ""


def float64_twin(function) -> tuple[Callable | None, str]:
    """(a float64 twin of ``function``, "") or (None, why not).

    The twin is the function rebound to a copy of its module's namespace in which ``DTYPE`` is
    float64, with every function of that module rebound to the copy too, so that the helpers
    the loss calls read the new ``DTYPE`` as well.  It is the module with ``DTYPE = np.float64``
    without running the module again: values computed from ``DTYPE`` at import (default
    arguments, module constants) keep their float32 rounding.
    """
    if not isinstance(function, types.FunctionType):
        return None, "its loss is not a plain function, so no float64 twin can be made"
    namespace = function.__globals__
    dtype = namespace.get("DTYPE")
    if dtype is None:
        return None, "the module has no module-level DTYPE to make a float64 twin from"
    try:
        low = np.dtype(dtype)
    except TypeError:
        return None, f"its DTYPE {dtype!r} is not a NumPy dtype"
    if low.kind != "f" or np.finfo(low).eps <= np.finfo(np.float64).eps:
        return None, f"its DTYPE is {low}, so no float64 twin can be made"
    copy = dict(namespace)
    copy["DTYPE"] = np.dtype(np.float64) if isinstance(dtype, np.dtype) else \
        "float64" if isinstance(dtype, str) else np.float64
    for key, value in namespace.items():
        if isinstance(value, types.FunctionType) and value.__globals__ is namespace:
            copy[key] = _rebound(value, copy)
    return _rebound(function, copy), ""


def _rebound(function: types.FunctionType, namespace: dict) -> types.FunctionType:
    copy = types.FunctionType(function.__code__, namespace, function.__name__,
                              function.__defaults__, function.__closure__)
    copy.__kwdefaults__ = dict(function.__kwdefaults__) if function.__kwdefaults__ else None
    copy.__qualname__, copy.__doc__ = function.__qualname__, function.__doc__
    copy.__module__ = function.__module__
    copy.__dict__.update(function.__dict__)
    return copy


def choose_differences(evaluator: Evaluator, params: dict, rng) -> Differences:
    """What the low-precision code at ``params`` (rounded to its precision) is differenced on.

    The loss itself when it resolves float64 inputs; else its float64 twin when one can be made
    and behaves; else the loss in its own precision, with that precision's step.  Loss
    evaluations are counted by ``evaluator``; ``rng`` draws the probing directions.
    """
    code = evaluator.code_dtype
    loss = evaluator.module.loss
    try:
        resolves = resolves_float64(evaluator, loss, params, rng)
    except Unusable:            # the loss fails near the point: no verdict from there
        resolves = None
    if resolves is True:
        return Differences("same loss", loss, np.dtype(np.float64),
                           f"{code} code: its loss resolves float64 inputs, so it is "
                           "differenced in float64")
    loss_is = "does not resolve float64 inputs" if resolves is False else \
        "is flat near the input point (whether it resolves float64 cannot be probed)"
    twin, why = _accepted_twin(evaluator, params, rng)
    if twin is not None:
        return Differences(
            "twin", twin, np.dtype(np.float64),
            f"{code} code: its loss {loss_is}, so the differences are taken on its float64 "
            "twin (the module's functions rebound to DTYPE = np.float64) at the same "
            f"{code}-rounded point; the analytic side is the {code} gradients" + why)
    return Differences("low precision", loss, code,
                       f"{code} code: its loss {loss_is} and {why}, so it is differenced "
                       f"in {code} with the {code} step (a weaker check than against "
                       "float64 differences)", why=why)


def _accepted_twin(evaluator: Evaluator, params: dict, rng) -> tuple[Callable | None, str]:
    """(the float64 twin of the loss, "") if it can be made and behaves, else (None, why)."""
    module = evaluator.module
    twin, why = float64_twin(module.loss)
    if twin is None:
        return None, why
    reference = evaluator.loss(params, function=module.loss)
    try:
        value = evaluator.loss(params, function=twin)
    except Unusable as exc:
        return None, f"its float64 twin (DTYPE = np.float64) fails: {exc}"
    if abs(value - reference) > TWIN_AGREEMENT * max(1.0, abs(reference)):
        return None, (f"its float64 twin (DTYPE = np.float64) gives the loss {value:.6g}, "
                      f"not {reference:.6g}")
    try:
        resolves = resolves_float64(evaluator, twin, params, rng)
    except Unusable as exc:
        return None, f"its float64 twin (DTYPE = np.float64) fails: {exc}"
    if resolves is False:
        return None, "its float64 twin (DTYPE = np.float64) does not resolve float64 " \
                     "inputs either"
    if resolves is None:
        # The loss is flat here (a dead relu, a step network): its resolution cannot be
        # probed.  DTYPE governs the module when the twin's gradients come out in float64.
        gradients, _ = float64_twin(module.gradients)
        try:
            grads = call("gradients(params, X, Y) of the float64 twin", gradients,
                         params, evaluator.X, evaluator.Y) if gradients is not None else None
        except Unusable:
            grads = None
        dtypes = {np.asarray(g).dtype for g in grads.values()} \
            if isinstance(grads, dict) and grads else set()
        if dtypes != {np.dtype(np.float64)}:
            return None, ("the loss is flat near the input point, so whether its float64 "
                          "twin (DTYPE = np.float64) resolves float64 cannot be probed")
        return twin, ("; the twin's loss is flat near the input point, so its resolution "
                      "was not probed, but its gradients compute in float64")
    return twin, ""


def resolves_float64(evaluator: Evaluator, function, params: dict, rng) -> bool | None:
    """Does ``function`` (a loss), given float64 inputs, compute at float64 resolution?
    (None: cannot tell, the loss is flat along every direction tried.)

    Along a random unit direction u the central quotients at the steps 1e-8 and 1.37e-8
    (relative to max|θ|) must agree with the one at 1e-6 to 1e-3: a float64 loss does, a
    loss that rounds its inputs to float32 gives 0 or noise at those steps.  It does not
    use the analytic gradient (which is what is being checked), and it probes near θ, at
    θ + δ (δ_i = 1e-3·max(1, |θ_i|)·N(0, 1)), not at θ: a point with zero biases may sit
    exactly on a jump of a step network.  Up to three directions are tried; one that
    agrees decides.
    """
    params = {k: v + 1e-3 * np.maximum(1.0, np.abs(v)) * rng.standard_normal(v.shape)
              for k, v in params.items()}
    if evaluator.code_dtype != np.float64:
        params = evaluator.rounded(params)
    scale = max(1.0, max(float(np.max(np.abs(v), initial=0)) for v in params.values()))
    near = "a point near the input point"
    level = max(1.0, abs(evaluator.loss(params, near, function=function)))
    verdict = None
    for _ in range(3):
        u = _unit({k: rng.standard_normal(v.shape) for k, v in params.items()})

        def quotient(s):
            plus = evaluator.loss({k: v + s * u[k] for k, v in params.items()}, near,
                                  function=function)
            minus = evaluator.loss({k: v - s * u[k] for k, v in params.items()}, near,
                                   function=function)
            return (plus - minus) / (2 * s)

        coarse = quotient(1e-6 * scale)
        if abs(coarse) < 1e-5 * level:
            continue
        if all(abs(quotient(s * scale) - coarse) <= 1e-3 * abs(coarse)
               for s in (1e-8, 1.37e-8)):
            return True
        verdict = False
    return verdict


def _unit(vectors: dict) -> dict:
    """A direction across all tensors, scaled to unit length."""
    norm = np.sqrt(sum(float(np.sum(d * d)) for d in vectors.values()))
    return {k: d / norm for k, d in vectors.items()}


__all__ = ["TWIN_AGREEMENT", "Differences", "float64_twin", "choose_differences",
           "resolves_float64"]
