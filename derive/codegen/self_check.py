"""The self-check at birth: a generated module is run against central differences before it is
handed out, and the result goes into its header.

:func:`check_module` loads the float64 module (the float32 one with ``DTYPE = np.float64``),
draws a point — the module's own ``init_params`` plus noise (nonzero biases: every path of the
gradient counts), X ~ N(0, 1), targets inside the loss's domain
(:func:`derive.targets.draw_targets` with ``soft=True``) — and compares ⟨∇E, u⟩ with central
differences along random directions, per tensor (:func:`derive.selfcheck.directional_check`).
A module whose output signal has a general form for targets off the domain is checked there
too.  A float32 module's gradients are compared with the float64 ones
(:data:`FLOAT32_RTOL`).
"""

from __future__ import annotations

import types

import numpy as np

from ..errors import CheckFailed
from ..selfcheck import RTOL as SELFCHECK_RTOL, directional_check
from ..targets import draw_targets

#: Agreement of float32 gradients with the float64 ones (norm-wise, per tensor).
FLOAT32_RTOL = 1e-3
#: Samples in the check's batch.
BATCH = 4


def load_source(source: str, name: str) -> types.ModuleType:
    """The module object of ``source`` (not registered in ``sys.modules``)."""
    module = types.ModuleType(name)
    exec(compile(source, f"<generated {name}>", "exec"), module.__dict__)  # noqa: S102
    return module


def check_module(source: str, name: str, lower_precision: str | None = None,
                 off_domain: bool = False) -> str:
    """Check the float64 module ``source``; return the header's "Verified" text.

    Parameters
    ----------
    source : str
        The module with ``DTYPE = np.float64``.
    name : str
        For messages.
    lower_precision : str, optional
        The float32 module's source: its gradients are also compared with the float64 ones,
        relative error ‖g₃₂ − g₆₄‖ / ‖g₆₄‖ per tensor.
    off_domain : bool
        Also check at targets whose columns do not sum to 1 (the general output signal).

    Raises
    ------
    CheckFailed
        Naming the module, the tensor and the two directional derivatives.
    """
    module = load_source(source, name)
    low = load_source(lower_precision, name) if lower_precision is not None else None
    rng = np.random.default_rng(0)
    sizes = module.SIZES

    def draw():
        params = {k: np.asarray(v, dtype=np.float64) for k, v in module.init_params(rng).items()}
        for k, v in params.items():          # nonzero biases: every path of the gradient counts
            params[k] = v + 0.3 * rng.normal(size=v.shape)
        return params

    X = rng.normal(size=(sizes[0], BATCH))
    Y = draw_targets(module.TARGETS, (sizes[-1], BATCH), rng, soft=True)
    params = draw()
    try:
        worst = _directional(module, params, X, Y, draw, rng)
        if off_domain:
            scaled = Y * rng.uniform(0.5, 1.5, size=(1, BATCH))     # columns off Σ = 1
            off = _directional(module, draw(), X, scaled, draw, rng)
        agreement = _precision_agreement(module, low, params, X, Y, draw) if low else None
    except CheckFailed as exc:
        raise CheckFailed(f"generated module {name}: {exc}") from None
    text = (f"central differences in float64 along 2 random directions per tensor at a "
            f"Xavier point, N = {BATCH}: max rel err {worst:.1e} (threshold "
            f"{SELFCHECK_RTOL:g})")
    if off_domain:
        text += f"; at targets whose columns do not sum to 1 too: max rel err {off:.1e}"
    if agreement is not None:
        text = (f"{text}, of this code with DTYPE = np.float64; its float32 gradients agree "
                f"with the float64 ones to rel err {agreement:.1e} (threshold "
                f"{FLOAT32_RTOL:g})")
    return text


def _directional(module, params, X, Y, draw, rng) -> float:
    def cost(values):
        return module.loss(values, X, Y)

    def redraw():
        fresh = draw()
        return fresh, module.gradients(fresh, X, Y)

    return directional_check(cost, module.gradients(params, X, Y), params, rng,
                             directions=2, per_tensor=True, redraw=redraw)


def _precision_agreement(module, low, params, X, Y, draw, redraws: int = 3) -> float:
    """max over tensors of ‖g₃₂ − g₆₄‖ / ‖g₆₄‖ (re-drawn where a relu-like kink flips between
    the precisions, up to ``redraws`` times)."""
    for _ in range(redraws + 1):
        exact, rounded = module.gradients(params, X, Y), low.gradients(params, X, Y)
        worst = 0.0
        for k, g in exact.items():
            difference = float(np.linalg.norm(np.asarray(rounded[k], dtype=np.float64) - g))
            scale = max(float(np.linalg.norm(g)), 1e-8)
            worst = max(worst, difference / scale)
        if worst <= FLOAT32_RTOL:
            return worst
        params = draw()
    raise CheckFailed(f"float32 gradients differ from the float64 ones by rel err {worst:.1e} "
                      f"(threshold {FLOAT32_RTOL:g})")


__all__ = ["check_module", "load_source", "FLOAT32_RTOL"]
