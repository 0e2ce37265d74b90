"""The optimisers of a generated module: gradient descent, momentum (two forms) and Adam.

Their source does not depend on the network: each calls ``gradients`` once (which checks X and
Y) and updates every parameter by the rule its docstring states, as in the Mines course's
optimisation chapter.  ``momentum_step`` offers both forms found in practice:

- ``form="heavy_ball"`` (the default): v ← βv + g, θ ← θ − lr·v — ``torch.optim.SGD`` with
  ``momentum=β`` (no dampening, no Nesterov), so learning rates carry over from PyTorch;
- ``form="ema"``: m ← βm + (1 − β)g, θ ← θ − lr·m — the exponential moving average; with the
  same lr its steps are (1 − β) times the heavy-ball ones (10× smaller at β = 0.9).
"""

from __future__ import annotations

#: The ``form`` values of ``momentum_step``.
MOMENTUM_FORMS = ("heavy_ball", "ema")

OPTIMISERS_SOURCE = f'''\
MOMENTUM_FORMS = {MOMENTUM_FORMS!r}


def sgd_step(params, X, Y, lr):
    """One step of gradient descent: theta <- theta - lr * grad."""
    grads = gradients(params, X, Y)
    return {{k: params[k] - lr * grads[k] for k in params}}


def momentum_step(params, X, Y, lr, state=None, beta=0.9, form="heavy_ball"):
    """One step of gradient descent with momentum; returns (new params, state).

    form="heavy_ball" (the default), as torch.optim.SGD(momentum=beta) without dampening:
        v <- beta * v + grad;              theta <- theta - lr * v
    form="ema", the exponential moving average of the gradients:
        m <- beta * m + (1 - beta) * grad;  theta <- theta - lr * m
    The state (v or m, zero at the start) is a dict like params: pass it back in on the next
    call, with the same form.  With the same lr, EMA steps are (1 - beta) times the
    heavy-ball ones.
    """
    if form not in MOMENTUM_FORMS:
        raise ValueError(f"momentum form {{form!r}}; known: {{', '.join(MOMENTUM_FORMS)}}")
    grads = gradients(params, X, Y)
    v = state if state is not None else {{k: np.zeros_like(g) for k, g in grads.items()}}
    scale = 1.0 if form == "heavy_ball" else 1 - beta
    v = {{k: beta * v[k] + scale * grads[k] for k in params}}
    return {{k: params[k] - lr * v[k] for k in params}}, v


def adam_step(params, X, Y, lr, state=None, beta1=0.9, beta2=0.999, eps=1e-8):
    """Adam (Kingma and Ba 2014), with bias correction 1 - beta^t; returns (new params, state).

    m <- beta1 * m + (1 - beta1) * grad;  v <- beta2 * v + (1 - beta2) * grad**2;
    theta <- theta - lr * m_hat / (sqrt(v_hat) + eps), m_hat = m / (1 - beta1**t),
    v_hat = v / (1 - beta2**t).  The state holds t and the moment estimates m, v.
    """
    grads = gradients(params, X, Y)
    if state is None:
        state = {{"t": 0, "m": {{k: np.zeros_like(g) for k, g in grads.items()}},
                 "v": {{k: np.zeros_like(g) for k, g in grads.items()}}}}
    t = state["t"] + 1
    m = {{k: beta1 * state["m"][k] + (1 - beta1) * grads[k] for k in params}}
    v = {{k: beta2 * state["v"][k] + (1 - beta2) * grads[k] ** 2 for k in params}}
    new = {{}}
    for k in params:
        m_hat = m[k] / (1 - beta1 ** t)
        v_hat = v[k] / (1 - beta2 ** t)
        new[k] = params[k] - lr * m_hat / (np.sqrt(v_hat) + eps)
    return new, {{"t": t, "m": m, "v": v}}
'''


def optimisers_source(add) -> None:
    """Add the optimisers' source (the last functions of every module)."""
    add(OPTIMISERS_SOURCE.rstrip("\n"))


__all__ = ["optimisers_source", "OPTIMISERS_SOURCE", "MOMENTUM_FORMS"]
