"""Target domains of the losses, and the one sampler of targets and points.

A loss says which targets it is meant for (its ``targets``, a key of :data:`TARGET_DOMAINS`):
softmax + cross_entropy gives ŷ − y only because cross_entropy targets lie on the simplex.
Everything that draws targets — the engine's self-check, ``verify``, the tests, the generated
modules' own tests — draws them here, so a domain is written once.

Two kinds of draw:

- ``hard`` (the default): what data looks like — labels 0/1 for ``binary``, one-hot columns for
  ``simplex``, ±1 for ``sign``, standard normal for ``real``;
- ``soft``: interior points of the domain — probabilities in (0.05, 0.95) for ``binary`` and
  random probability vectors for ``simplex`` — which test a derived rule at more than the
  vertices (a fused a − y must hold for label smoothing too).

>>> import numpy as np
>>> draw_targets("sign", (1, 4), np.random.default_rng(0))
array([[ 1.,  1.,  1., -1.]])
>>> draw_targets("simplex", (3, 2), np.random.default_rng(0), soft=True).sum(axis=0)
array([1., 1.])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from .errors import BadInput


@dataclass(frozen=True)
class TargetDomain:
    """What a target vector may be.

    Attributes
    ----------
    name : str
        The key in :data:`TARGET_DOMAINS` (``real``, ``binary``, ``sign``, ``simplex``).
    description : str
        For messages and documents.
    probes : tuple
        Exact target values at which a loss is probed for being defined (see
        :func:`derive.network.check_pairing`).
    """

    name: str
    description: str
    probes: tuple


#: The one table of target domains.
TARGET_DOMAINS: dict[str, TargetDomain] = {d.name: d for d in (
    TargetDomain("real", "any real vector", (1, -1, 0)),
    TargetDomain("binary", "entries in [0, 1] (labels 0/1 or probabilities)",
                 (1, 0, sp.Rational(1, 2))),
    TargetDomain("sign", "entries ±1", (1, -1)),
    TargetDomain("simplex", "a probability vector: entries ≥ 0 with Σ_k y_k = 1",
                 (1, 0, sp.Rational(1, 2))),
)}


def target_domain(name: str, where: str | None = None) -> TargetDomain:
    """The entry of :data:`TARGET_DOMAINS` called ``name``, or a :class:`BadInput` naming them."""
    try:
        return TARGET_DOMAINS[name]
    except (KeyError, TypeError):
        raise BadInput(f"unknown target domain {name!r}; known: {', '.join(TARGET_DOMAINS)}",
                       where) from None


def draw_targets(domain: str, shape: tuple, rng: np.random.Generator, *,
                 soft: bool = False) -> np.ndarray:
    """Targets of ``shape`` (n_L × N, samples as columns) in ``domain``.

    Parameters
    ----------
    domain : str
        A key of :data:`TARGET_DOMAINS`.
    shape : tuple of int
        (n_L, N).
    rng : numpy.random.Generator
    soft : bool
        Interior points of the domain instead of labels (see the module docstring).
    """
    target_domain(domain)
    rows, cols = shape
    if domain == "real":
        return rng.standard_normal(shape)
    if domain == "sign":
        return rng.choice([-1.0, 1.0], size=shape)
    if domain == "binary":
        if soft:
            return rng.uniform(0.05, 0.95, size=shape)
        return rng.integers(0, 2, size=shape).astype(float)
    if soft:
        raw = rng.uniform(0.1, 1.0, size=shape)
        return raw / raw.sum(axis=0)
    out = np.zeros(shape)
    out[rng.integers(0, rows, size=cols), np.arange(cols)] = 1.0
    return out


def xavier_normal(shape: tuple, rng: np.random.Generator) -> np.ndarray:
    """Weights drawn N(0, 2 / (rows + cols)) (Glorot): the scale at which a wide layer's
    activations neither saturate nor vanish, so float64 differences stay informative.

    >>> xavier_normal((3, 2), np.random.default_rng(0)).shape
    (3, 2)
    """
    return rng.normal(size=shape) * np.sqrt(2.0 / sum(shape))


__all__ = ["TargetDomain", "TARGET_DOMAINS", "target_domain", "draw_targets", "xavier_normal"]
