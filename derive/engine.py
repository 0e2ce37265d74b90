r"""The engine: reverse-mode derivation of every gradient of a network, in closed matrix form.

One derivation for every network: sizes are size symbols (``n_0 … n_L``, ``N``) or integers,
the depth an integer or a symbol ``L`` (rules then stated for the output layer L and a generic
layer j < L).  Each layer object (:mod:`derive.layers`) gives its forward map as matrix
expressions; the engine differentiates them by the matrix calculus
(:func:`derive.calculus.matrix.vjp`): one vector-Jacobian product per stage input and per
parameter, each step recording the identities it applied (product rule,
d Φ(Z) = Φ'(Z) ⊙ dZ, diag(v) u = v ⊙ u, (AB)ᵀ = BᵀAᵀ, …).  Nothing is a template per weight
convention or per activation: a user-defined activation or loss is one more elementwise
function.  At integer sizes the same derivation is what the Ensimag per-neuron form
(:mod:`derive.presentations.per_neuron`) is checked against, entry by entry.

The engine works in the gradient (denominator) layout, where the cotangent of a node has the
node's shape, and transposes once for a numerator-layout presentation (SPEC §3.1): there,
P^l = ∂C/∂a^{l-1} is a row and ∂C/∂W is the transpose of W's shape.

Glossary (Ensimag; CS229 in brackets): a^l activation (a^{[l]}), z^l pre-activation, W^l
weights, b^l bias, B^l = ∇_{z^l} C the column signal (δ^{[l]}), P^l = ∂C/∂a^{l-1},
C the per-sample cost, E the batch cost; batch: A^l, Z^l (n_l × N), Δ^l = [B^{l(1)} … B^{l(N)}].

>>> from derive.network import mlp
>>> d = derive_matrix(mlp(["n_0", "n_1", "n_2"], activation="sigmoid", loss="bce"),
...                   layout="denominator")
>>> d.gradient("W2")
B2*a1.T
>>> d.signal(2)
a2 - y
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from .calculus.matrix import vjp
from .calculus.matrix_printing import identifier
from .calculus.constructors import mm, transpose
from .calculus.tidy import tidy
from .calculus.result import check_layout
from .derivation import Check, Derivation, Label
from .errors import BadInput, CheckFailed
from .fusion import fuse_output, loss_gradient, loss_matrix
from .naming import J, N, index_text
from .printing.matrix_code import ProgramPrinter
from .render import Rendered
from .selfcheck import directional_check
from .targets import draw_targets, xavier_normal


# --- symbols of one derivation --------------------------------------------------------------------

#: The notation kind of a value in batch form (one sample's column → the batch's matrix).
BATCH_KINDS = {"a": "A", "z": "Z", "B": "D", "x": "X", "y": "Y"}


@dataclass
class Symbols:
    """The matrix symbols of a derivation, created on demand and named after (kind, layer).

    ``table`` maps each MatrixSymbol to its (kind, layer) so that printers can write it in any
    notation profile.  Per sample, vectors are columns (kinds ``a``, ``z``, ``B``, ``x``,
    ``y``); in batch form n × N matrices (kinds ``A``, ``Z``, ``D``, ``X``, ``Y``).
    """

    net: object
    batch: bool
    table: dict = field(default_factory=dict)

    def make(self, kind: str, layer, rows, cols) -> sp.MatrixSymbol:
        """The symbol of ``kind`` at ``layer`` (``None``: unindexed) with this shape."""
        name = kind if layer is None else (
            f"{kind}{layer}" if isinstance(layer, int) else f"{kind}[{index_text(layer)}]")
        symbol = sp.MatrixSymbol(name, rows, cols)
        self.table.setdefault(symbol, (kind, layer))
        return symbol

    @property
    def cols(self):
        return N if self.batch else 1

    def _kind(self, kind: str) -> str:
        return BATCH_KINDS.get(kind, kind) if self.batch else kind

    def value(self, kind: str, layer) -> sp.MatrixSymbol:
        """A value of layer ``layer`` (``a``, ``z``, or a signal): n_l × (1 or N)."""
        if kind == "a" and layer == 0:
            return self.make(self._kind("x"), None, self.net.size(0), self.cols)
        return self.make(self._kind(kind), layer, self.net.size(layer), self.cols)

    def a(self, layer):
        return self.value("a", layer)

    def z(self, layer):
        return self.value("z", layer)

    def signal(self, layer):
        return self.value("B", layer)

    def y(self):
        return self.make(self._kind("y"), None, self.net.size(self.net.depth), self.cols)

    def params(self, layer) -> dict:
        """name → symbol of the parameters of layer ``layer``."""
        return self.net.layer(layer).parameters(self)


# --- the derivation ---------------------------------------------------------------------------

@dataclass
class MatrixDerivation(Derivation, Rendered):
    """The matrix-form derivation of every gradient.

    Attributes
    ----------
    network : Network
    layout : str
        Layout of the derivative steps; gradients always have their parameter's shape.
    batch : bool
        Batch form (samples as the columns of X, n_0 × N) or one sample.
    symbols : Symbols
        The matrix symbols and their (kind, layer), for printers.
    definitions : dict
        symbol → its value (forward values and signals): the straight-line matrix program.
    gradients : dict
        parameter name → ∇_θ E, a matrix expression of θ's shape.
    simplification : str or None
        The recognised output simplification, ``"B^L = a^L - y"``.
    check : Check or None
        How the derived gradients were checked as a whole.
    cost : sympy.MatrixExpr
        C (or E in batch form) as a 1×1 matrix expression.
    """

    network: object = None
    layout: str = "numerator"
    batch: bool = False
    symbols: Symbols | None = None
    definitions: dict = field(default_factory=dict)
    gradients: dict = field(default_factory=dict)
    simplification: str | None = None
    check: Check | None = None
    cost: sp.Basic | None = None
    _compiled: dict = field(default_factory=dict, repr=False)

    def gradient(self, name: str) -> sp.MatrixExpr:
        """∇_θ E for parameter ``name`` (``W1``, ``b2``; ``Wj`` for a symbolic depth)."""
        if name not in self.gradients:
            raise BadInput(f"no parameter named {name!r}; known: {', '.join(self.gradients)}")
        return self.gradients[name]

    def signal(self, layer) -> sp.MatrixExpr:
        """The value of B^l (Δ^l in batch form)."""
        return self.definitions[self.symbols.signal(layer)]

    def scale(self):
        """The factor between ∇_Z E and Δ: 1/N for a mean over the batch, else 1."""
        return 1 / N if self.batch and self.network.reduction == "mean" else sp.S.One

    def batch_form(self) -> "MatrixDerivation":
        """This network's derivation in batch form (itself when it is one)."""
        if self.batch:
            return self
        return derive_matrix(self.network, layout=self.layout, batch=True, check=False)

    def evaluate(self, params: dict, X, Y) -> dict[str, np.ndarray]:
        """∇_θ E at ``params`` for samples ``X`` (n_0 × N) and targets ``Y`` (n_L × N).

        Returns name → ndarray of the parameter's shape (SPEC §6), with the network's
        reduction (mean or sum over the batch).  Integer sizes only.
        """
        return self._run(params, X, Y)[1]

    def loss_value(self, params: dict, X, Y) -> float:
        """The batch cost E at ``params``."""
        return self._run(params, X, Y)[0]

    def _run(self, params, X, Y):
        program = self.batch_form()._program()
        X, Y = self.network.check_batch(params, X, Y)
        return program.run(params, X, Y, gradients=True)

    def _program(self) -> "NumericProgram":
        if "numpy" not in self._compiled:
            self._compiled["numpy"] = NumericProgram(self)
        return self._compiled["numpy"]


def _rule_names(steps) -> tuple:
    names = []
    for step in steps:
        if step.rule not in names:
            names.append(step.rule)
    return tuple(names)


def derive_matrix(net, layout: str = "numerator", batch: bool = False,
                  check: bool = True) -> MatrixDerivation:
    """Derive the matrix-form backprop rules of ``net`` for every parameter.

    Parameters
    ----------
    net : Network
        Symbolic or integer sizes, or a symbolic depth.
    layout : {"numerator", "denominator"}
    batch : bool
        With ``True``, X ∈ R^{n_0 × N} holds N samples as columns and E is the mean (or sum)
        of the per-sample costs: ∇W = (1/N) Δ Aᵀ, ∇b = (1/N) Δ 1.
    check : bool
        Check the derived gradients (:func:`check_numerically`; for a symbolic depth
        :func:`check_generic_rules`) and record how in ``check``.

    Returns
    -------
    MatrixDerivation
    """
    check_layout(layout)
    sym = Symbols(net, batch)
    d = MatrixDerivation(network=net, layout=layout, batch=batch, symbols=sym)
    positions = [J, net.depth] if net.symbolic_depth else list(range(1, net.depth + 1))
    output = net.depth

    for position in positions:
        for stage in net.layer(position).stages(sym, sym.a(position - 1)):
            d.add(Label(stage.kind, position), stage.value, stage.rule)
            d.definitions[sym.value(stage.kind, position)] = stage.value
    d.cost = _cost(d, sym)

    upstream = loss_gradient(net.loss, sym.a(output), sym.y())
    d.add(Label("dC/da", output), _in_layout(d, upstream), "loss_gradient",
          check=Check("sympy_diff"))
    _output_signal(d, sym, upstream)
    if net.symbolic_depth:
        _hidden_signal(d, sym, J + 1, J)            # B^j from B^{j+1}, every j < L
        _layer_gradients(d, sym, J)                 # ∇W^j, ∇b^j, every j = 1 … L
    else:
        for position in reversed(positions):
            _layer_gradients(d, sym, position)
            if position > 1:
                _hidden_signal(d, sym, position, position - 1)
    d.gradients = {name: d.gradients[name] for name in net.parameter_names()
                   if name in d.gradients}
    if check:
        d.check = check_generic_rules(d) if net.symbolic_depth else check_numerically(d)
    return d


def _cost(d: MatrixDerivation, sym: Symbols):
    net = d.network
    per_sample = mm(sp.OneMatrix(1, net.size(net.depth)),
                    loss_matrix(net.loss, sym.a(net.depth), sym.y()))
    if not d.batch:
        d.add(Label("C"), per_sample, "loss")
        return per_sample
    total = mm(per_sample, sp.OneMatrix(N, 1))
    value = mm(1 / N, total) if net.reduction == "mean" else total
    d.add(Label("E"), value, "batch_loss")
    return value


def _in_layout(d: MatrixDerivation, gradient):
    """A gradient-shaped expression as the derivation's layout states it."""
    if d.layout == "denominator":
        return gradient
    return tidy(transpose(gradient))


def _signal_label(d: MatrixDerivation, layer) -> Label:
    return Label("D" if d.batch else "B", layer)


def _activation_stage(d: MatrixDerivation, sym: Symbols, layer):
    """The stage a^l = Φ(z^l) of layer ``layer`` (its value over the z symbol)."""
    stages = d.network.layer(layer).stages(sym, sym.a(layer - 1))
    return next(stage for stage in stages if stage.kind == "a")


def _output_signal(d: MatrixDerivation, sym: Symbols, upstream) -> None:
    """B^L = ∇_{z^L} C, by the chain rule through Φ, then fused with the loss when that
    simplifies (σ + bce, softmax + cross-entropy, identity + mse → a^L − y)."""
    net, output = d.network, d.network.depth
    activated = _activation_stage(d, sym, output).value
    value, steps = vjp(activated, sym.z(output), upstream)
    value = value.xreplace({activated: sym.a(output)})
    d.add(_signal_label(d, output), value, "vjp", uses=_rule_names(steps))
    fused = fuse_output(net.activation(output), net.loss)
    if fused is not None:
        value = fused.matrix(sym.a(output), sym.y())
        if fused.recognised:
            d.simplification = "B^L = a^L - y"
        d.add(_signal_label(d, output), value, fused.rule, check=fused.check)
    d.definitions[sym.signal(output)] = value


def _layer_gradients(d: MatrixDerivation, sym: Symbols, layer) -> None:
    """∇θ of each parameter θ of layer ``layer`` from B^l: the VJPs of its pre-activation."""
    stage = next(s for s in d.network.layer(layer).stages(sym, sym.a(layer - 1))
                 if s.signal is not None)
    upstream = mm(d.scale(), sym.signal(layer))
    for name, parameter in sym.params(layer).items():
        gradient, steps = vjp(stage.value, parameter, upstream)
        kind = "dE/dW" if name.startswith("W") else "dE/db"
        if d.layout == "numerator":
            d.add(Label(kind, layer), tidy(transpose(gradient)), "vjp", uses=_rule_names(steps))
            d.add(Label("grad", layer, wrt=name), gradient, "gradient_transpose")
        else:
            d.add(Label("grad", layer, wrt=name), gradient, "vjp", uses=_rule_names(steps))
        d.gradients[name] = gradient


def _hidden_signal(d: MatrixDerivation, sym: Symbols, upper, layer) -> None:
    """B^l from B^{l+1} (= ``upper``): ∇_{a^l} C = (∂z^{l+1}/∂a^l)ᵀ B^{l+1}, then through Φ."""
    stage = next(s for s in d.network.layer(upper).stages(sym, sym.a(layer))
                 if s.signal is not None)
    grad_a, steps = vjp(stage.value, sym.a(layer), sym.signal(upper))
    d.add(Label("dC/da", layer), _in_layout(d, grad_a), "vjp", uses=_rule_names(steps))
    activated = _activation_stage(d, sym, layer).value
    value, steps = vjp(activated, sym.z(layer), grad_a)
    value = value.xreplace({activated: sym.a(layer)})
    d.add(_signal_label(d, layer), value, "signal_recursion", uses=_rule_names(steps))
    d.definitions[sym.signal(layer)] = value


# --- running the matrix program in NumPy ----------------------------------------------------------

def input_dims(sym: Symbols) -> dict:
    """Code for each size symbol from the inputs that carry it: X, Y and the parameters."""
    carriers = [sym.a(0), sym.y()] + [s for s, (kind, _) in sym.table.items()
                                      if kind in ("W", "b")]
    dims: dict = {}
    for symbol in carriers:
        for axis, size in enumerate(symbol.shape):
            if isinstance(size, sp.Symbol):
                dims.setdefault(size, f"{identifier(symbol.name)}.shape[{axis}]")
    return dims


class NumericProgram:
    """A batch-form derivation printed to NumPy once: forward values, signals, cost, gradients.

    Symbolic sizes are read off the arrays it is given (``X.shape[1]`` for N), so one program
    runs at any sizes that agree with each other.
    """

    def __init__(self, d: MatrixDerivation):
        printer = ProgramPrinter(input_dims(d.symbols))
        table = d.symbols.table
        self.forward = [(identifier(s.name), printer.doprint(v)) for s, v in d.definitions.items()
                        if table[s][0] in ("z", "a", "Z", "A")]
        self.backward = [(identifier(s.name), printer.doprint(v))
                         for s, v in d.definitions.items() if table[s][0] in ("B", "D")]
        self.cost = printer.doprint(d.cost)
        self.gradients = {name: printer.doprint(g) for name, g in d.gradients.items()}
        self.x, self.y = identifier(d.symbols.a(0).name), identifier(d.symbols.y().name)
        net = d.network
        self.names = {name: identifier(symbol.name) for layer in net.positions()
                      for name, symbol in d.symbols.params(layer).items()}

    def run(self, params: dict, X, Y, gradients: bool = True):
        """(E, name → ∇θ E or None) at ``params`` (keyed by parameter name)."""
        env = {"np": np, self.x: X, self.y: Y}
        env.update({self.names[name]: value for name, value in params.items()})
        with np.errstate(all="ignore"):
            for name, text in self.forward:
                env[name] = eval(text, env)                    # noqa: S307 - our own printer
            value = float(np.asarray(eval(self.cost, env)).reshape(()))
            if not gradients:
                return value, None
            for name, text in self.backward:
                env[name] = eval(text, env)
            grads = {name: np.array(np.broadcast_to(eval(text, env), np.shape(params[name])),
                                    dtype=float)
                     for name, text in self.gradients.items()}
        return value, grads


# --- checking the derived rules -------------------------------------------------------------------

#: Sizes used to instantiate symbolic sizes for the numerical check.
CHECK_SIZES = (3, 4, 2, 3, 2)
CHECK_BATCH = 3
#: The depth at which rules stated for a symbolic depth are instantiated and checked.
CHECK_DEPTH = 3


def check_numerically(d: MatrixDerivation, seed: int = 0) -> Check:
    """Check every derived gradient against central differences of the cost, in float64.

    Symbolic sizes are instantiated small (n_l from 3, 4, 2, …, N = 3), the matrix program
    (forward values, signals, gradients) is printed to NumPy and run at a random point
    (Xavier-scaled weights, targets drawn inside the loss's target domain), and the gradient is
    compared with (E(θ + h) − E(θ − h)) / 2h along two random directions.

    Raises
    ------
    CheckFailed
        A derived gradient disagrees: a bug in the engine, never the user's fault.
    """
    net = d.network
    sizes = net.instantiated_sizes(CHECK_SIZES)
    if net.activation(net.depth).vector_valued and sizes[-1] < 2:
        raise CheckFailed("softmax output with one unit")
    batch = CHECK_BATCH if d.batch else 1
    program = NumericProgram(d)
    rng = np.random.default_rng(seed)
    concrete = net.with_sizes(sizes)
    X = rng.normal(size=(sizes[0], batch))
    Y = draw_targets(net.loss.targets, (sizes[-1], batch), rng, soft=True)
    # Xavier-scaled: at a width of hundreds a fixed scale saturates σ, and the float64 cost
    # then rounds away the differences.
    point = {name: xavier_normal(shape, rng) for name, shape in
             concrete.param_shapes().items()}
    value, grads = program.run(point, X, Y)
    if not np.isfinite(value):
        return Check("central_differences", "cost", sizes=tuple(sizes), batch=batch)
    try:
        worst = directional_check(lambda p: program.run(p, X, Y, gradients=False)[0], grads,
                                  point, rng, directions=2, per_tensor=False)
    except CheckFailed as exc:
        raise CheckFailed(f"derived {exc}") from None
    return Check("central_differences", "cost", points=2, max_error=float(worst),
                 sizes=tuple(sizes), batch=batch if d.batch else None)


def check_generic_rules(d: MatrixDerivation) -> Check:
    """Check rules stated for a symbolic depth L against a network of depth 3.

    The explicit-depth network (same layers, loss) is derived on its own; the generic B^L, B^j
    and ∇W^j, ∇b^j with j = 1, 2 (3) and L = 3 substituted must be exactly its rules, which
    are in turn checked by :func:`check_numerically`.
    """
    net = d.network
    depth = CHECK_DEPTH
    explicit_net = net.at_depth(depth)
    explicit = derive_matrix(explicit_net, layout="denominator", batch=d.batch, check=False)

    for k in range(1, depth + 1):
        mapping = instance_mapping(d, explicit, k)
        pairs = [(d.gradient(name).xreplace(mapping), explicit.gradient(name.replace("j", str(k))))
                 for name in d.gradients]
        pairs.append(((d.signal(J) if k < depth else d.signal(net.depth)).xreplace(mapping),
                      explicit.signal(k)))
        for generic, concrete in pairs:
            if tidy(generic) != tidy(concrete):
                raise CheckFailed(f"generic rule instantiated at j = {k}: {generic} differs "
                                  f"from the depth-{depth} derivation: {concrete}")
    return Check("instantiation", "explicit_depth", sizes=(depth,),
                 parts=(check_numerically(explicit),))


def instance_mapping(d: MatrixDerivation, explicit: MatrixDerivation, k: int) -> dict:
    """Symbol of ``d`` (a symbolic depth L, general layer j) → the symbol of ``explicit`` (the
    same network written out at depth ``CHECK_DEPTH``) with j = ``k``; a symbol whose layer
    falls outside 0 … CHECK_DEPTH at that k is left out."""
    depth = explicit.network.depth
    mapping = {}
    for symbol, (kind, layer) in d.symbols.table.items():
        if layer is None:
            target = (explicit.symbols.y() if kind in ("y", "Y") else explicit.symbols.a(0))
        else:
            index = int(sp.sympify(layer).xreplace({J: k, d.network.depth: depth}))
            if not 0 <= index <= depth:
                continue
            target = _symbol_like(explicit.symbols, kind, index)
        mapping[symbol] = target
    return mapping


def _symbol_like(sym: Symbols, kind: str, layer: int):
    if kind in ("W", "b"):
        params = sym.params(layer)
        return next(symbol for name, symbol in params.items() if name.startswith(kind))
    base = {"A": "a", "Z": "z", "D": "B"}.get(kind, kind)
    return sym.value(base, layer)


__all__ = ["BATCH_KINDS", "CHECK_BATCH", "CHECK_DEPTH", "CHECK_SIZES", "MatrixDerivation",
           "NumericProgram", "Symbols", "check_generic_rules", "check_numerically",
           "derive_matrix", "input_dims", "instance_mapping"]
