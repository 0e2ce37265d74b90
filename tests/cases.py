"""The case table of the registry tests, built from the registries' own metadata.

As JAX's ``LAX_GRAD_OPS`` drives every gradient test from one table of specs, these tables drive
the activation and loss tests: every registered entry (parametrised ones also at the arguments
of :data:`FACTORY_ARGUMENTS`) and a user-defined one of each kind, so a new entry joins every
sweep with no test change.  Which output activation may meet which loss is decided by
:func:`valid_pairing` from the entries' metadata alone — ``value_range``, ``min_outputs`` and
``vector_valued`` of the activation, ``prediction_domain``, ``margin`` and ``targets`` of the
loss — never from a list of names.  It mirrors :func:`derive.network.check_pairing`, and
``tests/test_registry_cases.py`` asserts that the two agree on every pair.

Tables (each case has an ``id`` for pytest, ``ids=case_id``):

- :data:`ACTIVATION_CASES`, :data:`LOSS_CASES`;
- :data:`PAIRING_CASES`: every valid (output activation, loss, fewest outputs).

>>> [c.id for c in ACTIVATION_CASES][-2:]
['leaky_relu(1/10)', 'user:swish']
>>> valid_pairing(derive.ACTIVATIONS.get("relu"), derive.LOSSES.get("bce"), 1)
False
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

import derive
from derive.activations import custom as custom_activation
from derive.losses import custom as custom_loss
from derive.targets import draw_targets

#: Arguments at which each registered factory that takes parameters is swept besides its
#: default, as registry texts; checked to name every such factory (a factory takes parameters
#: when its default entry has a ``family``).
FACTORY_ARGUMENTS = {"leaky_relu": ("1/10",), "huber": ("2",)}

#: User-defined entries, built as a user would (``custom`` from a formula string).
USER_ACTIVATIONS = (("swish", "x / (1 + exp(-x))"),)
USER_LOSSES = (("logcosh", "log(cosh(yhat - y))"),)


@dataclass(frozen=True)
class ActivationCase:
    """One activation to test.

    Attributes
    ----------
    id : str
        The pytest id: the registry text (``leaky_relu(1/10)``) or ``user:<name>``.
    entry : Activation or VectorActivation
    spec : str or entry
        What :func:`derive.mlp` is given: the registry text, or the entry of a user's function.
    """

    id: str
    entry: object
    spec: object

    @property
    def registered(self) -> bool:
        """Whether the registry (hence a spec file and the LaTeX reader) knows it by name."""
        return isinstance(self.spec, str)


@dataclass(frozen=True)
class LossCase(ActivationCase):
    """One loss to test; attributes as :class:`ActivationCase`."""


@dataclass(frozen=True)
class PairingCase:
    """A valid output activation and loss, at the fewest outputs the pair is tested with."""

    activation: ActivationCase
    loss: LossCase
    n_out: int

    @property
    def id(self) -> str:
        return f"{self.activation.id}-{self.loss.id}-{self.n_out}"


def case_id(case) -> str:
    """The pytest id of any case (``parametrize(..., ids=case_id)``)."""
    return case.id


def _registered(registry) -> list[tuple[str, object]]:
    texts = list(registry.names())
    texts += [f"{name}({argument})" for name in registry.names()
              for argument in FACTORY_ARGUMENTS.get(name, ())]
    return [(text, registry.get(text)) for text in texts]


ACTIVATION_CASES: list[ActivationCase] = (
    [ActivationCase(text, entry, text) for text, entry in _registered(derive.ACTIVATIONS)]
    + [ActivationCase(f"user:{name}", entry, entry) for name, entry in
       ((name, custom_activation(name, formula)) for name, formula in USER_ACTIVATIONS)])

LOSS_CASES: list[LossCase] = (
    [LossCase(text, entry, text) for text, entry in _registered(derive.LOSSES)]
    + [LossCase(f"user:{name}", entry, entry) for name, entry in
       ((name, custom_loss(name, formula)) for name, formula in USER_LOSSES)])


# --- the pairing rule ------------------------------------------------------------------------

def prediction_interval(loss) -> sp.Interval:
    """The loss's ``prediction_domain`` (an open interval, ``None`` unbounded) as a set."""
    low, high = loss.prediction_domain
    return sp.Interval.open(-sp.oo if low is None else low, sp.oo if high is None else high)


def valid_pairing(activation, loss, n_out: int) -> bool:
    """Whether ``activation`` on an output layer of ``n_out`` units may meet ``loss``.

    Valid when the activation's value range lies inside the loss's prediction domain (relu's
    [0, ∞) does not lie in cross_entropy's (0, ∞): log 0), there are at least ``min_outputs``
    outputs (softmax of one output is the constant 1), and a margin loss (±1 labels on real
    scores) does not meet a vector-valued output (a probability vector).
    """
    if n_out < activation.min_outputs:
        return False
    if loss.margin and activation.vector_valued:
        return False
    return bool(activation.value_range.is_subset(prediction_interval(loss)))


def min_target_outputs(loss) -> int:
    """The fewest outputs at which the loss's targets are not all one value, found by drawing
    them from :data:`derive.targets.TARGET_DOMAINS` (simplex targets of one output are all 1:
    a sweep there would test a constant target)."""
    rng = np.random.default_rng(0)
    for n_out in range(1, 4):
        if np.ptp(draw_targets(loss.targets, (n_out, 16), rng, soft=True)) > 0:
            return n_out
    raise AssertionError(f"targets of domain {loss.targets!r} never vary")


def output_size(activation, loss) -> int:
    """The fewest outputs a sweep gives a network whose output layer is ``activation``."""
    return max(activation.min_outputs, min_target_outputs(loss))


PAIRING_CASES: list[PairingCase] = [
    PairingCase(act, loss, output_size(act.entry, loss.entry))
    for act in ACTIVATION_CASES for loss in LOSS_CASES
    if valid_pairing(act.entry, loss.entry, output_size(act.entry, loss.entry))]


def is_flat(activation) -> bool:
    """Whether Φ' is identically zero (step): as an output layer it makes every gradient zero,
    so a sweep that means to test the chain rule puts another output layer after it."""
    return not activation.vector_valued and activation.derivative == 0


def pairing_for(loss, preferred=None) -> PairingCase:
    """The pairing a test of ``loss`` uses: with output ``preferred`` (an activation case, entry
    or registry name) where that is valid and not flat, else the first valid, non-flat pairing
    of the table."""
    name = getattr(loss, "name", loss)
    wanted = getattr(getattr(preferred, "entry", preferred), "name", preferred)
    candidates = [p for p in PAIRING_CASES
                  if p.loss.entry.name == name and not is_flat(p.activation.entry)]
    for pairing in candidates:
        if pairing.activation.entry.name == wanted:
            return pairing
    if not candidates:
        raise AssertionError(f"no output activation in the table pairs with loss {name!r}")
    return candidates[0]


def output_activation(loss: str, preferred: str) -> str:
    """For a sweep of registry names: the output layer of a cell whose hidden activation is
    ``preferred`` (itself where it is valid with ``loss`` and not flat)."""
    case = pairing_for(derive.LOSSES.get(loss), preferred).activation
    assert case.registered, case.id
    return case.id


def output_width(loss: str, at_least: int = 1, activation: str | None = None) -> int:
    """For a sweep of registry names: ``at_least`` outputs, more where the loss (and the output
    ``activation``, if not elementwise) needs them."""
    entry = derive.LOSSES.get(loss)
    least = min_target_outputs(entry)
    if activation is not None:
        least = output_size(derive.ACTIVATIONS.get(activation), entry)
    return max(at_least, least)


#: Registry names of the sweeps of tests/test_backprop.py and tests/test_engine.py.
ELEMENTWISE = [c.id for c in ACTIVATION_CASES
               if c.registered and "(" not in c.id and not c.entry.vector_valued]
VECTOR_VALUED = [c.id for c in ACTIVATION_CASES
                 if c.registered and "(" not in c.id and c.entry.vector_valued]
LOSSES = [c.id for c in LOSS_CASES if c.registered and "(" not in c.id]


def losses_for(activation: str, n_out: int) -> list[str]:
    """Registry names of the losses ``activation`` may meet on ``n_out`` outputs."""
    entry = derive.ACTIVATIONS.get(activation)
    return [name for name in LOSSES if valid_pairing(entry, derive.LOSSES.get(name), n_out)]

