"""Networks at concrete sizes: dense layers f^j = Φ(ψ(a^{j-1}, W^j, b^j)) in three conventions.

Every parameter entry is its own real SymPy symbol and every layer is written over *fresh
per-layer input symbols*: layer j sees ``a{j-1}_1 … a{j-1}_n`` and defines ``z{j}_i`` and
``a{j}_i``; nothing is ever substituted into one expression of the whole network (except by
:meth:`Network.composed_cost`, which exists to check the engine against naive differentiation).

Symbol names (1-based, as in the seeds):

========================  =================================================================
``W{j}_{r}_{c}``          entry (r, c) of W^j in the layer's convention (SPEC §3.2):
                          rows: r = neuron, c = input; columns: r = input, c = neuron;
                          augmented: r = neuron, c = input with c = 0 the bias column
``b{j}_{i}``              bias of neuron i (rows, columns)
``a0_{i}``                input x_i;  ``a{j}_{i}`` activation of neuron i of layer j
``z{j}_{i}``              pre-activation ζ^j_i;  ``y_{i}`` target
========================  =================================================================

>>> net = mlp([2, 3, 1], activation="sigmoid", loss="bce")
>>> net.layers[0].psi[0]
W1_1_1*a0_1 + W1_1_2*a0_2 + b1_1
>>> list(net.param_shapes().items())
[('W1', (3, 2)), ('b1', (3, 1)), ('W2', (1, 3)), ('b2', (1, 1))]
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from functools import cached_property

import sympy as sp

from .activations import ACTIVATIONS, Activation, VectorActivation
from .activations import x as ACTIVATION_X
from .calculus.concrete import TermIndex
from .activations import custom as custom_activation
from .activations import parse_activation
from .errors import BadInput
from .losses import LOSSES, Loss
from .losses import custom as custom_loss

CONVENTIONS = ("rows", "columns", "augmented")
REDUCTIONS = ("mean", "sum")
#: The most weights and biases a concrete-size network may have: it builds one SymPy symbol per
#: entry, and deriving 42,000 of them takes about 90 s and 1.4 GB (200-200-10), growing linearly.
#: The matrix form builds no per-entry symbols and has no such limit.
MAX_CONCRETE_PARAMETERS = 50_000


def _symbols(prefix: str, rows: int, cols: int | None = None, col_start: int = 1) -> sp.Matrix:
    if cols is None:
        return sp.Matrix(rows, 1, [sp.Symbol(f"{prefix}_{i + 1}", real=True)
                                   for i in range(rows)])
    return sp.Matrix(rows, cols, [sp.Symbol(f"{prefix}_{i + 1}_{j + col_start}", real=True)
                                  for i in range(rows) for j in range(cols)])


def _affine(W: sp.Matrix, inputs: sp.Matrix, b: sp.Matrix | None) -> sp.Matrix:
    """W·inputs (+ b) as a column, each entry one sum (no pairwise partial sums)."""
    entries = [sp.Add(*[W[i, c] * inputs[c] for c in range(W.cols)],
                      *([b[i]] if b is not None else []))
               for i in range(W.rows)]
    return sp.Matrix(W.rows, 1, entries)


@dataclass(frozen=True)
class Dense:
    """Layer j: ζ = ψ(a^{j-1}, W^j, b^j), a^j = Φ(ζ).

    Attributes
    ----------
    index : int
        j, 1-based.
    n_in, n_out : int
        n_{j-1} and n_j.
    W : sympy.Matrix
        (n_out, n_in) rows; (n_in, n_out) columns; (n_out, 1 + n_in) augmented.
    b : sympy.Matrix or None
        (n_out, 1); ``None`` for augmented (the bias is W's column 0).
    inputs, z, a : sympy.Matrix
        Columns of symbols a^{j-1} (n_in), ζ^j and a^j (n_out).
    psi : sympy.Matrix
        ψ as linear expressions of inputs, W, b (n_out × 1).
    phi : sympy.Matrix
        Φ(ζ) as expressions of the ζ symbols (n_out × 1).
    """

    index: int
    n_in: int
    n_out: int
    convention: str
    activation: Activation | VectorActivation
    W: sp.Matrix
    b: sp.Matrix | None
    inputs: sp.Matrix
    z: sp.Matrix
    a: sp.Matrix
    psi: sp.Matrix = field(repr=False)
    phi: sp.Matrix = field(repr=False)

    @classmethod
    def build(cls, index: int, n_in: int, n_out: int, convention: str,
              activation: Activation | VectorActivation) -> "Dense":
        inputs = _symbols(f"a{index - 1}", n_in)
        z, a = _symbols(f"z{index}", n_out), _symbols(f"a{index}", n_out)
        if convention == "rows":
            W, b = _symbols(f"W{index}", n_out, n_in), _symbols(f"b{index}", n_out)
            psi = _affine(W, inputs, b)
        elif convention == "columns":
            W, b = _symbols(f"W{index}", n_in, n_out), _symbols(f"b{index}", n_out)
            psi = _affine(W.T, inputs, b)
        elif convention == "augmented":
            W, b = _symbols(f"W{index}", n_out, n_in + 1, col_start=0), None
            psi = _affine(W, sp.Matrix([[sp.S.One]]).col_join(inputs), None)
        else:
            raise BadInput(f"unknown convention {convention!r}; known: {', '.join(CONVENTIONS)}")
        return cls(index=index, n_in=n_in, n_out=n_out, convention=convention,
                   activation=activation, W=W, b=b, inputs=inputs, z=z, a=a, psi=psi,
                   phi=activation.apply_vector(z))

    @cached_property
    def psi_index(self) -> TermIndex:
        """ψ's terms indexed by symbol, for fast entrywise differentiation."""
        return TermIndex(self.psi)

    def params(self) -> dict[str, sp.Matrix]:
        out = {f"W{self.index}": self.W}
        if self.b is not None:
            out[f"b{self.index}"] = self.b
        return out

    def neuron_weights(self, k: int) -> sp.Matrix:
        """w_k^j, the weights of neuron k (1-based) as a column, bias column included for
        augmented (seed 002's ω_{k,0..n})."""
        if self.convention == "columns":
            return self.W[:, k - 1]
        return self.W[k - 1, :].T

    def output(self) -> sp.Matrix:
        """f^j(a^{j-1}, W^j, b^j) = Φ(ψ(...)) written over the fresh inputs."""
        return self.phi.xreplace(dict(zip(self.z, self.psi)))


@dataclass(frozen=True)
class Network:
    """A multilayer perceptron at concrete sizes with its loss.

    ``params()`` is ordered ``W1, b1, W2, b2, …`` (augmented: ``W1, W2, …``), SPEC §5a.
    """

    sizes: tuple[int, ...]
    layers: tuple[Dense, ...]
    loss: Loss
    convention: str
    reduction: str
    y: sp.Matrix
    notation: str = "ensimag"
    layout: str = "numerator"

    @property
    def depth(self) -> int:
        return len(self.layers)

    @property
    def x(self) -> sp.Matrix:
        return self.layers[0].inputs

    def params(self) -> dict[str, sp.Matrix]:
        out: dict[str, sp.Matrix] = {}
        for layer in self.layers:
            out.update(layer.params())
        return out

    def param_shapes(self) -> dict[str, tuple[int, int]]:
        return {name: m.shape for name, m in self.params().items()}

    def cost(self) -> sp.Expr:
        """C(a^L, y) = Σ_k ℓ(a^L_k, y_k) over the output symbols."""
        return self.loss.per_sample(self.layers[-1].a, self.y)

    def composed_cost(self) -> sp.Expr:
        """C as one expression of x, y and the parameters (naive; for checks and baselines)."""
        values = self.x
        for layer in self.layers:
            values = layer.output().xreplace(dict(zip(layer.inputs, values)))
        return self.loss.per_sample(values, self.y)

    def describe(self) -> str:
        acts = [layer.activation.name for layer in self.layers]
        act = acts[0] if len(set(acts)) == 1 else ",".join(acts)
        return (f"{'-'.join(map(str, self.sizes))} network, activation {act}, "
                f"loss {self.loss.name}, convention {self.convention}, "
                f"reduction {self.reduction}")


def _is_inline(spec, custom: dict | None) -> bool:
    """Whether ``spec`` is an expression of x rather than the name of an entry."""
    if isinstance(spec, sp.Basic):
        return True
    return (isinstance(spec, str) and not (custom and spec in custom)
            and spec not in ACTIVATIONS and "x" in spec)


def resolve_activations(specs, where: str | None = None, custom: dict | None = None) -> list:
    """One activation per layer from names, entries or expressions of x.

    Expressions written inline are named ``phi`` when every layer's is the same, otherwise
    ``phi1``, ``phi2``, … after the first layer that uses each, so that different functions
    never share a name.

    >>> [a.name for a in resolve_activations(["x**3", "tanh", "x**2", "x**3"])]
    ['phi1', 'tanh', 'phi3', 'phi1']
    >>> [a.name for a in resolve_activations(["x**3", "x*x*x"])]
    ['phi', 'phi']
    """
    inline = {}
    for layer, spec in enumerate(specs, start=1):
        if _is_inline(spec, custom):
            inline[layer] = parse_activation(spec, "activation", where)
        elif not isinstance(spec, (str, Activation, VectorActivation)):
            raise BadInput(f"activation must be a name or an expression of x, got {spec!r}",
                           where)
    numbered = len(set(inline.values())) > 1
    entries: dict = {}
    for layer, expr in inline.items():
        if expr not in entries:
            name, latex = ((f"phi{layer}", rf"\operatorname{{phi}}_{{{layer}}}") if numbered
                           else ("phi", None))
            entries[expr] = custom_activation(name, expr, latex, where=where)
    out = []
    for layer, spec in enumerate(specs, start=1):
        if layer in inline:
            out.append(entries[inline[layer]])
        elif isinstance(spec, (Activation, VectorActivation)):
            out.append(spec)
        elif custom and spec in custom:
            out.append(custom[spec])
        else:
            out.append(ACTIVATIONS.get(spec, where))
    return out


def resolve_loss(spec, where: str | None = None, custom: dict | None = None) -> Loss:
    """A loss from a registry name, a user-defined name, an entry, or an expression of yhat, y."""
    if isinstance(spec, Loss):
        return spec
    if isinstance(spec, sp.Basic):
        return custom_loss("loss", spec, where=where)
    if not isinstance(spec, str):
        raise BadInput(f"loss must be a name or an expression of yhat and y, got {spec!r}", where)
    if custom and spec in custom:
        return custom[spec]
    if spec in LOSSES or "yhat" not in spec:
        return LOSSES.get(spec, where)
    return custom_loss("loss", spec, where=where)


def check_pairing(activation, loss: Loss, n_out: int, where: str | None = None) -> None:
    """Refuse an output activation and loss that make no sense together."""
    if activation.vector_valued and n_out == 1:
        raise BadInput(f"{activation.name} over a single output is the constant 1: its gradient "
                       "is zero; use sigmoid for one output, or give the last layer ≥ 2 units",
                       where)
    if activation.vector_valued and loss.margin:
        raise BadInput(f"{activation.name} outputs a probability vector, but {loss.name} is a "
                       "margin loss on real-valued scores with ±1 labels; pair softmax with "
                       "cross_entropy (or mse), or use an identity output with "
                       f"{loss.name}", where)
    if not activation.vector_valued:
        _check_loss_domain(activation, loss, where)


#: Where the output activation is probed, and the targets it is probed with, per target domain.
_PROBE_Z = tuple(sp.Rational(v) for v in ("-4", "-1", "-1/2", "0", "1/2", "1", "4"))
_PROBE_TARGETS = {"real": (1, -1, 0), "binary": (1, 0, sp.Rational(1, 2)), "sign": (1, -1),
                  "simplex": (1, 0, sp.Rational(1, 2))}


def _check_loss_domain(activation, loss: Loss, where: str | None) -> None:
    """Refuse an output activation whose values the loss is not defined at (relu or tanh with
    bce: log 0 or the log of a negative number), found by evaluating ℓ(Φ(z), y) exactly at a
    few points, so user-defined activations and losses are held to the same rule."""
    from .losses import y as target
    from .losses import yhat

    for z_value in _PROBE_Z:
        prediction = activation.expr.xreplace({ACTIVATION_X: z_value})
        for y_value in _PROBE_TARGETS.get(loss.targets, (0, 1)):
            value = sp.N(loss.expr.xreplace({yhat: prediction, target: y_value}), 30)
            if value.is_real and value.is_finite:
                continue
            shown = sp.N(prediction, 4)
            raise BadInput(
                f"loss {loss.name} is not defined at the outputs of {activation.name}: "
                f"{activation.name}({z_value}) = {shown} gives {loss.name}(yhat = {shown}, "
                f"y = {y_value}) = {'∞' if value.is_infinite else 'a non-real number'}; use an "
                "output activation whose values the loss accepts (sigmoid for bce, softmax for "
                "cross_entropy)", where)


def mlp(sizes, activation="sigmoid", loss="bce", convention: str = "rows",
        reduction: str = "mean", activations=None, notation: str = "ensimag",
        layout: str = "numerator", where: str | None = None,
        custom_activations: dict | None = None, custom_losses: dict | None = None) -> Network:
    """A multilayer perceptron at concrete sizes.

    Parameters
    ----------
    sizes : sequence of int
        n_0, …, n_L (at least two, each ≥ 1), with at most :data:`MAX_CONCRETE_PARAMETERS`
        weights and biases in all.
    activation : str, Activation or sympy.Expr
        Used by every layer, unless ``activations`` gives one per layer.
    loss : str, Loss or sympy.Expr
        A registry name (``"huber(2)"``) or an expression of ``yhat`` and ``y``.
    convention : {"rows", "columns", "augmented"}
    reduction : {"mean", "sum"}

    >>> mlp([3, 4, 2], activation="tanh", loss="mse", convention="columns").param_shapes()["W1"]
    (3, 4)
    """
    sizes = check_sizes(sizes, where)
    if convention not in CONVENTIONS:
        raise BadInput(f"unknown convention {convention!r}; known: {', '.join(CONVENTIONS)}",
                       where)
    if reduction not in REDUCTIONS:
        raise BadInput(f"unknown reduction {reduction!r}; known: {', '.join(REDUCTIONS)}", where)
    depth = len(sizes) - 1
    if activations is None:
        activations = [activation] * depth
    if len(activations) != depth:
        raise BadInput(f"{len(activations)} activations given for {depth} layers", where)
    acts = resolve_activations(activations, where, custom_activations)
    loss_entry = resolve_loss(loss, where, custom_losses)
    check_pairing(acts[-1], loss_entry, sizes[-1], where)
    layers = tuple(Dense.build(j, sizes[j - 1], sizes[j], convention, acts[j - 1])
                   for j in range(1, depth + 1))
    return Network(sizes=tuple(sizes), layers=layers, loss=loss_entry, convention=convention,
                   reduction=reduction, y=_symbols("y", sizes[-1]), notation=notation,
                   layout=layout)


def check_sizes(sizes, where: str | None = None) -> list[int]:
    """Concrete sizes as a list of ints: at least two, each an integer ≥ 1 (any integral type,
    such as ``numpy.int64``; not a bool or a float), at most :data:`MAX_CONCRETE_PARAMETERS`
    parameters.

    >>> import numpy as np
    >>> check_sizes([2, np.int64(3), 1])
    [2, 3, 1]
    >>> check_sizes([2, 3.0, 1])
    Traceback (most recent call last):
    ...
    derive.errors.BadInput: size 3.0 is not an integer (sizes [2, 3.0, 1])
    """
    if isinstance(sizes, str):
        try:
            sizes = [int(s) for s in sizes.replace("-", ",").split(",") if s.strip()]
        except ValueError:
            raise BadInput(f"sizes {sizes!r} must be integers such as 2,3,1", where) from None
    try:
        sizes = list(sizes)
    except TypeError:
        raise BadInput(f"sizes must be a list of integers, got {sizes!r}", where) from None
    checked = []
    for n in sizes:
        try:
            if isinstance(n, bool):
                raise TypeError
            checked.append(operator.index(n))
        except TypeError:
            raise BadInput(f"size {_plain(n)!r} is not an integer (sizes "
                           f"{[_plain(s) for s in sizes]})", where) from None
    sizes = checked
    if len(sizes) < 2:
        raise BadInput(f"sizes needs at least an input and an output size, got {sizes}", where)
    for n in sizes:
        if n < 1:
            raise BadInput(f"size {n} is < 1 (sizes {sizes})", where)
    count = parameter_count(sizes)
    if count > MAX_CONCRETE_PARAMETERS:
        raise BadInput(
            f"sizes {'-'.join(map(str, sizes))} have {count:,} weights and biases; the concrete "
            f"form builds one SymPy symbol for each and is limited to "
            f"{MAX_CONCRETE_PARAMETERS:,}: use the matrix form (--form matrix, or form = "
            "\"matrix\" in [output]), which builds no per-entry symbols", where)
    return sizes


def parameter_count(sizes) -> int:
    """Weights and biases of a dense network of integer ``sizes`` (every convention alike).

    >>> parameter_count([2, 3, 1])
    13
    """
    return sum(n_out * (n_in + 1) for n_in, n_out in zip(sizes, sizes[1:]))


def _plain(value):
    """A size as the user wrote it, for messages: ``3`` for ``numpy.int64(3)``."""
    return value.item() if hasattr(value, "item") else value
