r"""The dense layer f^l(a) = Φ(ψ(a, W^l, b^l)) in its three weight conventions (SPEC §3.2).

=============  ====================================  ==========================================
convention     weights                               pre-activation ψ
=============  ====================================  ==========================================
``rows``       W ∈ R^{n_l × n_{l-1}}, row i a neuron  z = W a + b        (Durham, CMU, CS229)
``columns``    W ∈ R^{n_{l-1} × n_l}, column k one    ζ = Wᵀ a + b       (Ensimag)
``augmented``  W̃ ∈ R^{n_l × (1+n_{l-1})}, column 0   s = W̃ ṽ, ṽ = [1; v]  (Mines)
               the bias
=============  ====================================  ==========================================

The conventions are variants of one class, each an entry of :data:`CONVENTIONS`: how the
weight matrix is shaped, whether there is a separate bias, ψ as a matrix expression, and ψ
entry by entry at integer sizes (:meth:`Dense.explicit`, for the Ensimag per-neuron form).
The augmented convention needs three matrix nodes of its own — Ṽ = [1ᵀ; V]
(:class:`Augment`), W̃ without its bias column (:class:`DropBias`) and G without its first row
(:class:`DropFirstRow`) — defined here with their vector-Jacobian rules, registered in the
calculus's rule table at the bottom of this module.

Glossary: a (a^{l-1}) the input, ψ the pre-activation map, Φ the activation, W̃ the augmented
weights, ṽ the augmented input, G a cotangent.

>>> from derive.activations import ACTIVATIONS
>>> layer = Dense(3, ACTIVATIONS.get("tanh"), "columns").place(1, 2, 3)
>>> layer.parameter_shapes()
{'W1': (2, 3), 'b1': (3, 1)}
>>> layer.explicit().psi[0]
W1_1_1*a0_1 + W1_2_1*a0_2 + b1_1
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

import numpy as np
import sympy as sp

from ..activations import ACTIVATIONS
from ..calculus.concrete import TermIndex
from ..calculus.constructors import madd, mm, transpose
from ..calculus.matrix_nodes import ExplicitWhenConcrete, Softmax, elementwise
from ..calculus.steps import NoClosedForm
from ..calculus.vjp_rules import register_vjp
from ..errors import BadInput
from ..targets import xavier_normal
from .base import Layer, Stage, concrete_shape


# --- the nodes of the augmented convention -----------------------------------------------------

class _OfOneMatrix(ExplicitWhenConcrete):
    """A node of one matrix argument whose shape follows from the argument's by ``resize``."""

    resize = staticmethod(lambda rows, cols: (rows, cols))

    def __new__(cls, argument):
        return sp.MatrixExpr.__new__(cls, argument)

    @property
    def arg(self):
        return self.args[0]

    @property
    def shape(self):
        return self.resize(*self.args[0].shape)


class Augment(_OfOneMatrix):
    """Ṽ = [1ᵀ; V]: a row of ones on top of V ((1 + n) × N for V n × N)."""

    resize = staticmethod(lambda rows, cols: (rows + 1, cols))

    def _entry(self, i, j, **kwargs):
        return sp.S.One if i == 0 else self.args[0][i - 1, j]


class DropBias(_OfOneMatrix):
    """W̃ without its column 0 (the bias column): n × m for W̃ n × (1 + m)."""

    resize = staticmethod(lambda rows, cols: (rows, cols - 1))

    def _entry(self, i, j, **kwargs):
        return self.args[0][i, j + 1]


class DropFirstRow(_OfOneMatrix):
    """G without its row 0."""

    resize = staticmethod(lambda rows, cols: (rows - 1, cols))

    def _entry(self, i, j, **kwargs):
        return self.args[0][i + 1, j]


def _rule_augment(node, G):
    def cotangent():
        # G = W̃ᵀ Δ: its rows 1… are (W̃ without its bias column)ᵀ Δ.
        if isinstance(G, sp.MatMul):
            coeff, factors = G.as_coeff_matrices()
            first = factors[0]
            if isinstance(first, sp.Transpose) and first.arg.shape[1] == node.shape[0]:
                return mm(coeff, transpose(DropBias(first.arg)), *factors[1:])
        return DropFirstRow(G)
    return [(node.arg, cotangent)]


def _rule_drop_bias(node, G):
    raise NoClosedForm("DropBias is only produced by the engine, never "
                                    "differentiated")


# --- the conventions ---------------------------------------------------------------------------

def _rows_linear(W, inputs):
    return mm(W, inputs)


def _columns_linear(W, inputs):
    return mm(transpose(W), inputs)


def _augmented_linear(W, inputs):
    return mm(W, Augment(inputs))


@dataclass(frozen=True)
class Convention:
    """One weight convention of the dense layer.

    Attributes
    ----------
    name : str
    weight_shape : callable
        (n_in, n_out) → the shape of W.
    bias : bool
        Whether the layer has a separate bias b (augmented: the bias is W̃'s column 0).
    linear : callable
        (W, inputs) → the linear part of ψ as a matrix expression.
    neuron : callable
        (explicit W, k) → the weights of neuron k (1-based) as a column, the bias column
        included for augmented (the Mines notes' ω_{k,0..n}).
    first_column : int
        The index of W's first column in entry names (augmented: 0, the bias).
    neurons_in_columns : bool
        Whether W stores a neuron per column (columns) rather than per row.
    """

    name: str
    weight_shape: Callable
    bias: bool
    linear: Callable
    neuron: Callable
    first_column: int = 1
    neurons_in_columns: bool = False


#: The three conventions (SPEC §3.2), by name.
CONVENTIONS: dict[str, Convention] = {c.name: c for c in (
    Convention("rows", lambda n_in, n_out: (n_out, n_in), True, _rows_linear,
               lambda W, k: W[k - 1, :].T),
    Convention("columns", lambda n_in, n_out: (n_in, n_out), True, _columns_linear,
               lambda W, k: W[:, k - 1], neurons_in_columns=True),
    Convention("augmented", lambda n_in, n_out: (n_out, n_in + 1), False, _augmented_linear,
               lambda W, k: W[k - 1, :].T, first_column=0),
)}


def convention_entry(name: str, where: str | None = None) -> Convention:
    """The entry of :data:`CONVENTIONS` called ``name``, or a BadInput listing them."""
    if name not in CONVENTIONS:
        raise BadInput(f"unknown convention {name!r}; known: {', '.join(CONVENTIONS)}", where)
    return CONVENTIONS[name]


# --- the layer ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Dense(Layer):
    """A dense layer: n_out neurons, an activation Φ, a weight convention.

    Attributes
    ----------
    size : int, str, sympy.Symbol or None
        n_l as given (the network fills in a size symbol when it is ``None``).
    activation : Activation, VectorActivation or str
        A registry entry once placed in a network (the network resolves names).
    convention : str
        A key of :data:`CONVENTIONS`.
    """

    kind = "dense"
    notation_kinds = ("z", "a", "W", "b", "B")

    size: object = None
    activation: object = "sigmoid"
    convention: str = "rows"

    def __post_init__(self):
        convention_entry(self.convention)

    @property
    def variant(self) -> Convention:
        return CONVENTIONS[self.convention]

    def names(self) -> dict[str, str]:
        """role → parameter name: ``weights`` W{l} and, unless augmented, ``bias`` b{l}."""
        key = str(self.index).replace(" ", "")
        out = {"weights": f"W{key}"}
        if self.variant.bias:
            out["bias"] = f"b{key}"
        return out

    def parameter_shapes(self) -> dict[str, tuple]:
        shapes = {self.names()["weights"]: self.variant.weight_shape(self.n_in, self.n_out)}
        if self.variant.bias:
            shapes[self.names()["bias"]] = (self.n_out, 1)
        return shapes

    def parameters(self, symbols) -> dict[str, sp.MatrixSymbol]:
        shapes = self.parameter_shapes()
        out = {}
        for role, name in self.names().items():
            kind = "W" if role == "weights" else "b"
            out[name] = symbols.make(kind, self.index, *shapes[name])
        return out

    def pre_activation(self, symbols, inputs) -> sp.MatrixExpr:
        """ψ(a^{l-1}, W^l, b^l); in batch form the bias is broadcast as b 1ᵀ."""
        params = list(self.parameters(symbols).values())
        linear = self.variant.linear(params[0], inputs)
        if not self.variant.bias:
            return linear
        bias = params[1]
        if inputs.shape[1] != 1:
            bias = mm(bias, sp.OneMatrix(1, inputs.shape[1]))
        return madd(linear, bias)

    def stages(self, symbols, inputs) -> tuple[Stage, ...]:
        z = self.pre_activation(symbols, inputs)
        z_symbol = symbols.value("z", self.index)
        return (Stage("z", z, signal="B"), Stage("a", activate(self.activation, z_symbol)))

    def init_params(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Xavier/Glorot weights (CS229: N(0, 2 / (n_in + n_out))), zero biases (augmented:
        W̃'s column 0)."""
        out = {}
        for name, shape in self.parameter_shapes().items():
            shape = concrete_shape(shape)
            out[name] = np.zeros(shape) if name.startswith("b") else xavier_normal(shape, rng)
        if not self.variant.bias:
            out[self.names()["weights"]][:, 0] = 0.0
        return out

    def describe(self) -> str:
        return f"dense {self.n_out} {getattr(self.activation, 'name', self.activation)}"

    def explicit(self) -> "ExplicitDense":
        """This layer entry by entry at integer sizes (the Ensimag per-neuron form)."""
        return ExplicitDense.build(self)

    @classmethod
    def examples(cls) -> list["Dense"]:
        return [cls(2, ACTIVATIONS.get("tanh"), convention) for convention in CONVENTIONS]


def activate(activation, z) -> sp.MatrixExpr:
    """Φ(z) entrywise, or the (column-wise) softmax."""
    if activation.vector_valued:
        return Softmax(z)
    return elementwise(activation.function, z)


# --- entry by entry, at integer sizes ----------------------------------------------------------

def entry_symbols(prefix: str, rows: int, cols: int | None = None,
                  col_start: int = 1) -> sp.Matrix:
    """A column (or matrix) of real symbols ``{prefix}_{i}`` (``{prefix}_{i}_{j}``), 1-based."""
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
class ExplicitDense:
    """A placed :class:`Dense` layer written entry by entry over fresh symbols.

    Layer l sees ``a{l-1}_1 … a{l-1}_n`` and defines ``z{l}_i`` and ``a{l}_i``; its weights
    are ``W{l}_{r}_{c}`` in its convention (rows: r a neuron, c an input; columns: r an input,
    c a neuron; augmented: c = 0 the bias column) and its biases ``b{l}_{i}``.

    Attributes
    ----------
    layer : Dense
    W, b : sympy.Matrix (b ``None`` for augmented)
    inputs, z, a : sympy.Matrix
        Columns of symbols a^{l-1} (n_in), ζ^l and a^l (n_out).
    psi : sympy.Matrix
        ψ as linear expressions of inputs, W, b (n_out × 1).
    phi : sympy.Matrix
        Φ(ζ) as expressions of the ζ symbols (n_out × 1).
    """

    layer: Dense
    W: sp.Matrix
    b: sp.Matrix | None
    inputs: sp.Matrix
    z: sp.Matrix
    a: sp.Matrix
    psi: sp.Matrix = field(repr=False)
    phi: sp.Matrix = field(repr=False)

    @classmethod
    def build(cls, layer: Dense) -> "ExplicitDense":
        l, variant = layer.index, layer.variant
        n_in, n_out = concrete_shape((layer.n_in, layer.n_out))
        inputs = entry_symbols(f"a{l - 1}", n_in)
        z, a = entry_symbols(f"z{l}", n_out), entry_symbols(f"a{l}", n_out)
        W = entry_symbols(f"W{l}", *variant.weight_shape(n_in, n_out),
                          col_start=variant.first_column)
        b = entry_symbols(f"b{l}", n_out) if variant.bias else None
        explicit_inputs = sp.Matrix([[sp.S.One]]).col_join(inputs) if not variant.bias else inputs
        weights = W.T if variant.neurons_in_columns else W
        psi = _affine(weights, explicit_inputs, b)
        return cls(layer=layer, W=W, b=b, inputs=inputs, z=z, a=a, psi=psi,
                   phi=layer.activation.apply_vector(z))

    # the layer's facts, for the presentations
    @property
    def index(self) -> int:
        return self.layer.index

    @property
    def n_in(self) -> int:
        return self.inputs.rows

    @property
    def n_out(self) -> int:
        return self.z.rows

    @property
    def activation(self):
        return self.layer.activation

    @property
    def convention(self) -> str:
        return self.layer.convention

    @cached_property
    def psi_index(self) -> TermIndex:
        """ψ's terms indexed by symbol, for fast entrywise differentiation."""
        return TermIndex(self.psi)

    def params(self) -> dict[str, sp.Matrix]:
        names = self.layer.names()
        out = {names["weights"]: self.W}
        if self.b is not None:
            out[names["bias"]] = self.b
        return out

    def neuron_weights(self, k: int) -> sp.Matrix:
        """w_k^l, the weights of neuron k (1-based) as a column."""
        return self.layer.variant.neuron(self.W, k)

    def output(self) -> sp.Matrix:
        """f^l(a^{l-1}, W^l, b^l) = Φ(ψ(...)) written over the fresh inputs."""
        return self.phi.xreplace(dict(zip(self.z, self.psi)))


# --- the rules of this module's nodes, in the calculus's table ---------------------------------

register_vjp(Augment, "ṽ = [1; v]: ∂ṽ/∂v drops the first row", _rule_augment)
register_vjp(DropBias, "W̃ without its bias column", _rule_drop_bias)


__all__ = ["Augment", "CONVENTIONS", "Convention", "Dense", "DropBias", "DropFirstRow",
           "ExplicitDense", "activate", "convention_entry", "entry_symbols"]
