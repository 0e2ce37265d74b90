"""Networks: a stack of layer objects and a loss, at integer or symbolic sizes, or any depth.

One :class:`Network` type serves every size: n_0, …, n_L are ints or size symbols (``n_1``),
and the depth is an int or a symbol ``L`` (a hidden layer kind placed at a generic position j,
and the output layer at L).  The layers are objects of :mod:`derive.layers`, placed at their
positions; the engine (:mod:`derive.engine`) derives any network, and
:meth:`Network.explicit` writes one at integer sizes entry by entry for the presentations that
show explicit entries (the Ensimag per-neuron form).

Parameter names are ``W1, b1, W2, b2, …`` (augmented: ``W1, W2, …``) in every API, whatever a
notation profile prints (SPEC §5a).

>>> net = mlp([2, 3, 1], activation="sigmoid", loss="bce")
>>> list(net.param_shapes().items())
[('W1', (3, 2)), ('b1', (3, 1)), ('W2', (1, 3)), ('b2', (1, 1))]
>>> net.explicit().layers[0].psi[0]
W1_1_1*a0_1 + W1_1_2*a0_2 + b1_1
>>> mlp(["n_0", "n_1"], activation="tanh", loss="mse").param_shapes()["W1"]
(n_1, n_0)
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import sympy as sp

from .activations import ACTIVATIONS, Activation, VectorActivation
from .activations import custom as custom_activation
from .activations import parse_activation
from .calculus.result import check_layout
from .errors import BadInput
from .layers import Dense, Layer
from .layers.dense import CONVENTIONS as CONVENTION_TABLE
from .layers.dense import entry_symbols
from .losses import LOSSES, Loss
from .losses import custom as custom_loss
from .losses import y as TARGET, yhat as PREDICTION
from .naming import J, index_text
from .targets import target_domain

REDUCTIONS = ("mean", "sum")
#: The weight conventions of a dense layer (SPEC §3.2), in table order.
CONVENTIONS = tuple(CONVENTION_TABLE)
#: The most weights and biases the explicit (per-entry) form may have: it builds one SymPy
#: symbol per entry, and deriving 42,000 of them takes about 90 s and 1.4 GB (200-200-10),
#: growing linearly.  The matrix form builds no per-entry symbols and has no such limit.
MAX_CONCRETE_PARAMETERS = 50_000


@dataclass(frozen=True)
class Network:
    """A stack of placed layers with a loss (SPEC §4).

    Attributes
    ----------
    input_size : int or sympy.Symbol
        n_0.
    layers : tuple of Layer
        Placed at positions 1 … L; for a symbolic depth (hidden at j, output at L).
    loss : Loss
    depth : int or sympy.Symbol
    reduction : {"mean", "sum"}
    notation : str or Profile
        The network's own notation profile (a spec's ``[output] notation``).
    layout : {"numerator", "denominator"}
        The network's own layout (a spec's ``[output] layout``).
    """

    input_size: object
    layers: tuple
    loss: Loss
    depth: object
    reduction: str = "mean"
    notation: object = "ensimag"
    layout: str = "numerator"

    # --- structure -------------------------------------------------------------------------
    @property
    def symbolic_depth(self) -> bool:
        return not isinstance(self.depth, int)

    @property
    def symbolic(self) -> bool:
        """Whether any size or the depth is a symbol."""
        return self.symbolic_depth or not all(isinstance(n, int) for n in self.sizes)

    @property
    def sizes(self) -> tuple:
        """n_0, …, n_L (empty for a symbolic depth)."""
        if self.symbolic_depth:
            return ()
        return (self.input_size,) + tuple(layer.n_out for layer in self.layers)

    def positions(self) -> list:
        """The layer positions the derivation states: 1 … L, or (j, L) for a symbolic depth."""
        return [J, self.depth] if self.symbolic_depth else list(range(1, self.depth + 1))

    def size(self, layer) -> sp.Basic:
        """n_l for a position (an int, or an expression of j and L)."""
        if isinstance(layer, int) and not self.symbolic_depth:
            return self.sizes[layer]
        return sp.Symbol(f"n_{{{index_text(layer)}}}" if not isinstance(layer, int)
                         else f"n_{layer}")

    def layer(self, position) -> Layer:
        """The layer at ``position``: for a symbolic depth the output layer at L and the
        hidden layer placed at any other position (j, j+1, …)."""
        if not self.symbolic_depth:
            return self.layers[position - 1]
        hidden, output = self.layers
        template = output if position == self.depth else hidden
        return template.place(position, self.size(position - 1), self.size(position))

    def activation(self, position):
        return self.layer(position).activation

    @property
    def activations(self) -> tuple:
        return tuple(layer.activation for layer in self.layers)

    @property
    def convention(self) -> str:
        """The weight convention of the dense layers (one for the whole network)."""
        conventions = {getattr(layer, "convention", None) for layer in self.layers} - {None}
        return conventions.pop() if len(conventions) == 1 else "mixed"

    def parameter_names(self) -> list[str]:
        return [name for position in self.positions()
                for name in self.layer(position).parameter_shapes()]

    def param_shapes(self) -> dict[str, tuple]:
        """name → shape in the order W1, b1, W2, b2, … (SPEC §6)."""
        shapes = {}
        for position in self.positions():
            shapes.update(self.layer(position).parameter_shapes())
        return shapes

    def describe(self) -> str:
        sizes = "-".join(map(str, self.sizes)) if self.sizes else f"depth {self.depth}"
        names = [a.name for a in self.activations]
        act = names[0] if len(set(names)) == 1 else ",".join(names)
        return (f"{sizes} network, activation {act}, loss {self.loss.name}, "
                f"convention {self.convention}, reduction {self.reduction}")

    # --- other instances of the same network -------------------------------------------------
    def with_sizes(self, sizes) -> "Network":
        """The same network at other sizes (n_0, …, n_L)."""
        layers = tuple(layer.place(layer.index, sizes[i], sizes[i + 1])
                       for i, layer in enumerate(self.layers))
        return replace(self, input_size=sizes[0], layers=layers)

    def instantiated_sizes(self, table) -> list[int]:
        """The sizes with every size symbol replaced by a value from ``table`` (in order of
        first appearance, cycling), integers kept."""
        values: dict = {}
        out = []
        for n in self.sizes:
            out.append(n if isinstance(n, int) else values.setdefault(n, table[len(values)
                                                                               % len(table)]))
        return out

    def at_depth(self, depth: int) -> "Network":
        """A symbolic-depth network written out at ``depth`` layers of sizes n_0 … n_depth."""
        hidden, output = self.layers
        sizes = [sp.Symbol(f"n_{i}") for i in range(depth + 1)]
        layers = tuple((output if l == depth else hidden).place(l, sizes[l - 1], sizes[l])
                       for l in range(1, depth + 1))
        return replace(self, input_size=sizes[0], layers=layers, depth=depth)

    @cached_property
    def _explicit(self) -> "ExplicitNetwork":
        return ExplicitNetwork.build(self)

    def explicit(self) -> "ExplicitNetwork":
        """This network entry by entry (integer sizes, at most
        :data:`MAX_CONCRETE_PARAMETERS` parameters)."""
        return self._explicit

    # --- numbers -----------------------------------------------------------------------------
    def init_params(self, rng: np.random.Generator | None = None) -> dict[str, np.ndarray]:
        """Initial parameters (each layer's own initialisation), integer sizes."""
        rng = np.random.default_rng(0) if rng is None else rng
        out = {}
        for layer in self.layers:
            out.update(layer.init_params(rng))
        return out

    def check_batch(self, params: dict, X, Y):
        """``X`` (n_0 × N) and ``Y`` (n_L × N) as float arrays, after checking every shape."""
        expected = self.param_shapes()
        if set(params) != set(expected):
            raise BadInput(f"params have keys {sorted(params)}; expected {list(expected)}")
        for name, shape in expected.items():
            if np.shape(params[name]) != tuple(shape):
                raise BadInput(f"params[{name!r}] has shape {np.shape(params[name])}; "
                               f"expected {shape}")
        X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)
        if X.ndim != 2 or X.shape[0] != self.sizes[0]:
            raise BadInput(f"X has shape {X.shape}; expected ({self.sizes[0]}, N), samples as "
                           "columns")
        if Y.ndim != 2 or Y.shape != (self.sizes[-1], X.shape[1]):
            raise BadInput(f"Y has shape {Y.shape}; expected ({self.sizes[-1]}, {X.shape[1]})")
        return X, Y


@dataclass(frozen=True)
class ExplicitNetwork:
    """A network at integer sizes written entry by entry over fresh per-layer symbols.

    Layer l sees ``a{l-1}_1 … a{l-1}_n`` and defines ``z{l}_i`` and ``a{l}_i``; nothing is
    substituted into one expression of the whole network except by :meth:`composed_cost`,
    which exists to check the engine against naive differentiation.

    Attributes
    ----------
    network : Network
    layers : tuple of ExplicitDense
    y : sympy.Matrix
        Target symbols ``y_1 … y_{n_L}``.
    """

    network: Network
    layers: tuple
    y: sp.Matrix = field(repr=False)

    @classmethod
    def build(cls, net: Network) -> "ExplicitNetwork":
        if net.symbolic:
            raise BadInput("symbolic sizes have no explicit entries; give integer sizes")
        count = sum(int(np.prod(shape)) for shape in net.param_shapes().values())
        if count > MAX_CONCRETE_PARAMETERS:
            raise BadInput(
                f"sizes {'-'.join(map(str, net.sizes))} have {count:,} weights and biases; "
                "the concrete form builds one SymPy symbol for each and is limited to "
                f"{MAX_CONCRETE_PARAMETERS:,}: use the matrix form (--form matrix, or form = "
                "\"matrix\" in [output]), which builds no per-entry symbols")
        return cls(network=net, layers=tuple(layer.explicit() for layer in net.layers),
                   y=entry_symbols("y", net.sizes[-1]))

    @property
    def x(self) -> sp.Matrix:
        return self.layers[0].inputs

    def params(self) -> dict[str, sp.Matrix]:
        out: dict[str, sp.Matrix] = {}
        for layer in self.layers:
            out.update(layer.params())
        return out

    def cost(self) -> sp.Expr:
        """C(a^L, y) = Σ_k ℓ(a^L_k, y_k) over the output symbols."""
        return per_sample_cost(self.network.loss, self.layers[-1].a, self.y)

    def composed_cost(self) -> sp.Expr:
        """C as one expression of x, y and the parameters (naive; for checks and baselines)."""
        values = self.x
        for layer in self.layers:
            values = layer.output().xreplace(dict(zip(layer.inputs, values)))
        return per_sample_cost(self.network.loss, values, self.y)


def per_sample_cost(loss: Loss, prediction, target) -> sp.Expr:
    """C(ŷ, y) = Σ_k ℓ(ŷ_k, y_k) for columns of equal length."""
    return sp.Add(*[loss.expr.subs({PREDICTION: p, TARGET: t}, simultaneous=True)
                    for p, t in zip(prediction, target)])


# --- building networks ----------------------------------------------------------------------------

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


def check_pairing(activation, loss: Loss, n_out, where: str | None = None) -> None:
    """Refuse an output activation and loss that make no sense together (``n_out`` an int, or
    a size symbol, which is taken as ≥ 2)."""
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


#: Where the output activation is probed for the loss being defined at its values.
_PROBE_Z = tuple(sp.Rational(v) for v in ("-4", "-1", "-1/2", "0", "1/2", "1", "4"))


def _check_loss_domain(activation, loss: Loss, where: str | None) -> None:
    """Refuse an output activation whose values the loss is not defined at (relu or tanh with
    bce: log 0 or the log of a negative number), found by evaluating ℓ(Φ(z), y) exactly at a
    few points, so user-defined activations and losses are held to the same rule."""
    from_x = activation.expr.free_symbols
    for z_value in _PROBE_Z:
        prediction = activation.expr.xreplace({s: z_value for s in from_x})
        for y_value in target_domain(loss.targets).probes:
            value = sp.N(loss.expr.xreplace({PREDICTION: prediction, TARGET: y_value}), 30)
            if value.is_real and value.is_finite:
                continue
            shown = sp.N(prediction, 4)
            raise BadInput(
                f"loss {loss.name} is not defined at the outputs of {activation.name}: "
                f"{activation.name}({z_value}) = {shown} gives {loss.name}(yhat = {shown}, "
                f"y = {y_value}) = {'∞' if value.is_infinite else 'a non-real number'}; use an "
                "output activation whose values the loss accepts (sigmoid for bce, softmax for "
                "cross_entropy)", where)


def size_symbol(value, where: str | None = None):
    """A size as an int ≥ 1 (any integral type) or a size symbol (``"n_1"``)."""
    if isinstance(value, bool):
        raise BadInput(f"size {value!r} is not an integer or a name", where)
    if isinstance(value, sp.Symbol):
        return value
    if isinstance(value, str) and value.strip():
        text = value.strip()
        if text.isdigit():
            return size_symbol(int(text), where)
        if not all(ch.isalnum() or ch in "_{}" for ch in text) or not text[0].isalpha():
            raise BadInput(f"size {value!r} is neither an integer nor a name such as n_1", where)
        return sp.Symbol(text)
    try:
        number = operator.index(value)
    except TypeError:
        raise BadInput(f"size {_plain(value)!r} is not an integer or a name", where) from None
    if number < 1:
        raise BadInput(f"size {number} is < 1", where)
    return number


def _plain(value):
    """A size as the user wrote it, for messages: ``3`` for ``numpy.int64(3)``."""
    return value.item() if hasattr(value, "item") else value


def read_sizes(sizes, where: str | None = None) -> tuple:
    """n_0, …, n_L from a list (ints and names) or a string ``"2,3,1"`` / ``"n_0,n_1"``."""
    if isinstance(sizes, str):
        sizes = [s.strip() for s in sizes.replace("-", ",").split(",")]
        if any(not s for s in sizes):
            raise BadInput(f"sizes {','.join(sizes)!r} must be integers such as 2,3,1 or names "
                           "such as n_0,n_1", where)
    try:
        sizes = list(sizes)
    except TypeError:
        raise BadInput(f"sizes must be a list of integers, got {sizes!r}", where) from None
    for n in sizes:
        if isinstance(n, float) or isinstance(n, bool):
            raise BadInput(f"size {_plain(n)!r} is not an integer (sizes "
                           f"{[_plain(s) for s in sizes]})", where)
    out = tuple(size_symbol(n, where) for n in sizes)
    if len(out) < 2:
        raise BadInput(f"sizes needs at least an input and an output size, got "
                       f"{[_plain(s) for s in out]}", where)
    return out


def parameter_count(sizes) -> int:
    """Weights and biases of a dense network of integer ``sizes`` (every convention alike).

    >>> parameter_count([2, 3, 1])
    13
    """
    return sum(n_out * (n_in + 1) for n_in, n_out in zip(sizes, sizes[1:]))


def mlp(sizes=None, activation="sigmoid", loss="bce", convention: str = "rows",
        reduction: str = "mean", activations=None, depth=None, notation="ensimag",
        layout: str = "numerator", where: str | None = None,
        custom_activations: dict | None = None, custom_losses: dict | None = None) -> Network:
    """A multilayer perceptron of dense layers.

    Parameters
    ----------
    sizes : sequence of int or str, optional
        n_0, …, n_L: integers, or names (``"n_1"``) for symbolic sizes.  Omit with ``depth``.
    activation : str, Activation or sympy.Expr
        Used by every layer, unless ``activations`` gives one per layer.
    loss : str, Loss or sympy.Expr
        A registry name (``"huber(2)"``) or an expression of ``yhat`` and ``y``.
    convention : {"rows", "columns", "augmented"}
    reduction : {"mean", "sum"}
    activations : sequence, optional
        One per layer; with a symbolic depth, ``[hidden, output]``.
    depth : str or int, optional
        ``"L"`` for an arbitrary depth: rules for the output layer L and a generic layer j.

    >>> mlp([3, 4, 2], activation="tanh", loss="mse", convention="columns").param_shapes()["W1"]
    (3, 4)
    >>> mlp(depth="L", activations=["relu", "softmax"], loss="cross_entropy").depth
    L
    """
    if convention not in CONVENTIONS:
        raise BadInput(f"unknown convention {convention!r}; known: {', '.join(CONVENTIONS)}",
                       where)
    if reduction not in REDUCTIONS:
        raise BadInput(f"unknown reduction {reduction!r}; known: {', '.join(REDUCTIONS)}", where)
    check_layout(layout)
    if depth is not None and sizes is not None:
        raise BadInput("give either sizes or depth, not both", where)
    symbolic_depth = None
    if depth is not None:
        if isinstance(depth, int) and not isinstance(depth, bool):
            if depth < 1:
                raise BadInput(f"depth {depth} is < 1", where)
            sizes = [f"n_{i}" for i in range(depth + 1)]
        elif isinstance(depth, str) and depth.strip().isidentifier():
            symbolic_depth = sp.Symbol(depth.strip())
        else:
            raise BadInput(f"depth {depth!r} must be a name such as L or a positive integer",
                           where)
    elif sizes is None:
        raise BadInput("give sizes (e.g. [2, 3, 1] or [\"n_0\", \"n_1\", \"n_2\"]) or "
                       "depth = \"L\"", where)
    sizes = read_sizes(sizes, where) if symbolic_depth is None else ()
    count = len(sizes) - 1 if symbolic_depth is None else 2
    if activations is None:
        activations = [activation] * count
    if len(activations) != count:
        what = ("[hidden, output]" if symbolic_depth is not None
                else f"{count} layers")
        raise BadInput(f"{len(activations)} activations given for {what}", where)
    acts = resolve_activations(activations, where, custom_activations)
    loss_entry = resolve_loss(loss, where, custom_losses)
    check_pairing(acts[-1], loss_entry, sizes[-1] if sizes else 2, where)
    if symbolic_depth is not None:
        L = symbolic_depth
        hidden = Dense(None, acts[0], convention).place(J, sp.Symbol("n_{j-1}"),
                                                         sp.Symbol("n_{j}"))
        output = Dense(None, acts[1], convention).place(L, sp.Symbol(f"n_{{{L}-1}}"),
                                                         sp.Symbol(f"n_{{{L}}}"))
        return Network(input_size=sp.Symbol("n_0"), layers=(hidden, output), loss=loss_entry,
                       depth=L, reduction=reduction, notation=notation, layout=layout)
    layers = tuple(Dense(sizes[l], acts[l - 1], convention).place(l, sizes[l - 1], sizes[l])
                   for l in range(1, len(sizes)))
    return Network(input_size=sizes[0], layers=layers, loss=loss_entry, depth=len(layers),
                   reduction=reduction, notation=notation, layout=layout)


__all__ = ["ExplicitNetwork", "MAX_CONCRETE_PARAMETERS", "Network", "REDUCTIONS",
           "check_pairing", "mlp", "parameter_count", "per_sample_cost", "read_sizes",
           "resolve_activations", "resolve_loss", "size_symbol"]
