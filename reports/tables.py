r"""The finite-difference table of a report: analytic gradient entries against central
differences at one fixed random point, and the point itself (shared with :mod:`reports.figures`).

:func:`numeric_point` fixes where a report evaluates a network: the network's own
``init_params`` and a batch X ~ N(0, 1), Y drawn in the loss's target domain
(:func:`derive.targets.draw_targets`), all from one generator in a fixed state, so every build
prints the same numbers.  A network of symbolic sizes or depth is instantiated first as the
engine's own check instantiates it (:data:`derive.engine.CHECK_SIZES`,
:data:`derive.engine.CHECK_DEPTH`).

:func:`fd_table` differences the derivation's cost E with :mod:`verify`'s own rules: each shown
entry by :func:`verify.steps.check_entry` (step h = ε^{1/3}·max(1, |θ_i|), half step and
Richardson on a miss), the largest relative error per tensor by :func:`verify.check_gradients`
over every entry (or random directions for a large network).

Glossary: θ a parameter tensor, a the analytic entry, n its central difference, h the step.

>>> import derive
>>> table = fd_table(derive.backprop(derive.mlp([2, 3, 1])))
>>> table.columns
('parameter', 'entry', 'analytic', 'central difference', 'relative error', 'step h')
>>> [row[:2] for row in table.rows[:2]]
[('W1', '[0, 0]'), ('W1', '[1, 0]')]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from derive.api import backprop
from derive.engine import CHECK_DEPTH, CHECK_SIZES
from derive.errors import BadInput, CheckFailed
from derive.notation import get_profile
from derive.targets import draw_targets
from verify.evaluation import Evaluator
from verify.modules import read_module
from verify.numeric import BATCH, check_gradients
from verify.steps import StepRule, check_entry

__all__ = ["ENTRIES", "NumericPoint", "Table", "cost_symbol", "fd_table", "numeric_point"]

#: Entries shown per tensor: all of a tensor this small or smaller, else this many, evenly
#: spaced in row-major order (the first and the last among them).
ENTRIES = 4
#: The state of the generator every report point is drawn from (never shown to a reader).
_STATE = 0
_FLOAT64 = np.dtype(np.float64)


@dataclass(frozen=True)
class NumericPoint:
    """Where a report evaluates a network.

    Attributes
    ----------
    derivation : MatrixDerivation or PerNeuronDerivation
        A derivation at integer sizes: the one given, or (symbolic sizes or depth) the batch
        matrix form of the network instantiated at :attr:`sizes`.
    params : dict
        name → ndarray of the parameter's shape, from the network's ``init_params``.
    X, Y : ndarray
        n_0 × N samples and n_L × N targets, N = :data:`verify.numeric.BATCH`.
    sizes : tuple of int
        n_0, …, n_L of the evaluated network.
    instantiated : bool
        Whether the sizes (or the depth) were symbolic and had to be chosen.
    """

    derivation: object
    params: dict
    X: np.ndarray
    Y: np.ndarray
    sizes: tuple
    instantiated: bool

    def loss(self, params: dict) -> float:
        """E at ``params`` and this batch."""
        return self.derivation.loss_value(params, self.X, self.Y)

    def gradients(self, params: dict) -> dict:
        """∇_θ E at ``params`` and this batch (name → ndarray)."""
        return self.derivation.evaluate(params, self.X, self.Y)


def numeric_point(derivation) -> NumericPoint:
    """The fixed random point at which a report evaluates ``derivation``'s network.

    Parameters
    ----------
    derivation : MatrixDerivation or PerNeuronDerivation
        Any derivation of a network (a spec's or :func:`derive.mlp`'s).

    Raises
    ------
    BadInput
        ``derivation`` is not a network's (a computation graph has no network to evaluate).

    >>> import derive
    >>> point = numeric_point(derive.backprop(derive.mlp(["n_0", "n_1"], loss="mse")))
    >>> point.sizes, point.instantiated, point.X.shape
    ((3, 4), True, (3, 5))
    """
    net = getattr(derivation, "network", None)
    if net is None:
        raise BadInput(f"a {type(derivation).__name__} has no network to evaluate: numbers "
                       "and plots are made for a network's derivation")
    instantiated = net.symbolic
    if instantiated:
        net = net.at_depth(CHECK_DEPTH) if net.symbolic_depth else net
        net = net.with_sizes(net.instantiated_sizes(CHECK_SIZES))
        derivation = backprop(net, layout="denominator", form="matrix", batch=True)
    rng = np.random.default_rng(_STATE)
    params = net.init_params(rng)
    sizes = tuple(int(n) for n in net.sizes)
    X = rng.standard_normal((sizes[0], BATCH))
    Y = draw_targets(net.loss.targets, (sizes[-1], BATCH), rng)
    return NumericPoint(derivation, params, X, Y, sizes, instantiated)


@dataclass(frozen=True)
class Table:
    """A table as data: every cell a string, already formatted (plain text, no markup).

    Attributes
    ----------
    columns : tuple of str
        The header.
    rows : tuple of tuple of str
        One row per shown entry; after a tensor's entries, one summary row (entry ``max over
        …``, its relative error the largest over every entry checked).
    summary_rows : tuple of int
        Indices into :attr:`rows` of the summary rows (a printer may set them in bold).
    caption : str
        What the table shows and how it was computed: text-mode LaTeX with ``$…$`` math.
    """

    columns: tuple
    rows: tuple
    summary_rows: tuple
    caption: str


def cost_symbol(derivation, notation=None) -> str:
    r"""The LaTeX of the batch cost in ``notation`` (default: the network's own profile).

    >>> import derive
    >>> cost_symbol(derive.backprop(derive.mlp([2, 1])), "ensimag")
    '\\mathcal{E}'
    """
    return get_profile(notation if notation is not None else derivation.network.notation
                       ).symbol("E")


def _number(value: float) -> str:
    return f"{value + 0.0:.10g}"          # + 0.0: no "-0"


def _error(value: float) -> str:
    return f"{value:.1e}" if value else "0"


def _shown(shape: tuple) -> list[tuple]:
    size = int(np.prod(shape, dtype=int))
    flat = range(size) if size <= ENTRIES else \
        sorted({round(k) for k in np.linspace(0, size - 1, ENTRIES)})
    return [tuple(int(i) for i in np.unravel_index(k, shape)) for k in flat]


def _count(n: int, mode: str) -> str:
    if mode == "full":
        return f"{n} {'entry' if n == 1 else 'entries'}"
    return f"{n} random {'direction' if n == 1 else 'directions'}"


def fd_table(derivation, notation=None) -> Table:
    """Analytic gradient entries of ``derivation`` against central differences of its cost.

    At :func:`numeric_point`: per parameter tensor, :data:`ENTRIES` entries (all of a small
    tensor) with the analytic value, the central difference, their relative error
    |a − n| / max(|a|, |n|) and the step h; then the largest relative error over every entry
    (over random directions for a network of more than
    :data:`verify.numeric.FULL_LIMIT` parameters).  Entry indices are NumPy's (from 0), as
    in the generated module.

    Parameters
    ----------
    derivation : MatrixDerivation or PerNeuronDerivation
    notation : str or Profile, optional
        The profile whose cost symbol the caption writes (default: the network's own).

    Returns
    -------
    Table
        Byte-identical strings for the same network.

    Raises
    ------
    BadInput
        ``derivation`` is not a network's.
    CheckFailed
        The derived gradients disagree with central differences (an engine bug).

    >>> import derive
    >>> table = fd_table(derive.backprop(derive.mlp([2, 3, 1])))
    >>> table.rows[table.summary_rows[0]][:2]
    ('W1', 'max over 6 entries')
    """
    point = numeric_point(derivation)
    functions = (point.derivation.loss_value, point.derivation.evaluate)
    report = check_gradients(functions, point.params, point.X, point.Y, seed=_STATE,
                             name="derivation")
    if report.status != "verified":
        raise CheckFailed("the derived gradients disagree with central differences: "
                          f"{report.to_text().splitlines()[0]}")
    evaluator = Evaluator(read_module(functions, "derivation"))
    evaluator.set_data(point.X, point.Y)
    at = evaluator.point(point.params)
    rule = StepRule.of(_FLOAT64, _FLOAT64, own_precision=False)
    rows, summary = [], []
    for tensor in report.rows:
        for key in _shown(tensor.shape):
            outcome = check_entry(evaluator, rule, at, tensor.name, key, None)
            rows.append((tensor.name, f"[{', '.join(map(str, key))}]",
                         _number(outcome.analytic), _number(outcome.numeric),
                         _error(outcome.rel), f"{outcome.step:.1e}"))
        over = f"max over {_count(tensor.checked, tensor.mode)}"
        summary.append(len(rows))
        rows.append((tensor.name, over, "", "", _error(tensor.max_rel_error), ""))
    sizes = "-".join(map(str, point.sizes))
    network = (f"the network at sizes {sizes} (its sizes are symbols: these are the ones the "
               "engine checks at)" if point.instantiated else f"the {sizes} network")
    cost = cost_symbol(derivation, notation)
    caption = ("Analytic gradient entries of the cost against central differences "
               f"$({cost}(\\theta + h e_i) - {cost}(\\theta - h e_i))/2h$ at a fixed random "
               "point of "
               f"{network}, a batch of {BATCH} samples; step "
               r"$h = \varepsilon^{1/3} \max(1, |\theta_i|)$, $\varepsilon$ the float64 "
               r"machine epsilon; relative error $|a - n| / \max(|a|, |n|)$ (entries within "
               "the rounding noise of the cost are compared absolutely).")
    return Table(("parameter", "entry", "analytic", "central difference", "relative error",
                  "step h"), tuple(rows), tuple(summary), caption)
