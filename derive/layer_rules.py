r"""Layer rules for any depth: the backprop recursion of seed 003 in closed matrix form.

Sizes are symbols (``n_0 … n_L``, ``N``) or integers; the depth is an integer or a symbol
``L`` (then the rules are stated for the output layer L and a generic layer j < L).  Nothing
here is a template per convention: every rule is *derived* from the layer's definition

    rows        z = W a + b            columns     z = Wᵀ a + b
    augmented   z = W̃ ṽ,  ṽ = [1; a]    (batch: b 1ᵀ, and Ṽ = [1ᵀ; A])

by the reverse-mode matrix calculus (:func:`derive.calculus.matrix.vjp`): one vector-Jacobian
product per layer input, each identity it applies recorded in the step (product rule,
d Φ(Z) = Φ'(Z) ⊙ dZ, diag(v) u = v ⊙ u, (AB)ᵀ = BᵀAᵀ, …).  A user-defined activation or loss
is just another elementwise function: its rules come out of the same machinery.

The engine works in the gradient (denominator) layout, where the cotangent of a node has the
node's shape, and transposes once for a numerator-layout presentation (SPEC §3.1): there,
P^j = ∂C/∂a^{j-1} is a row and ∂C/∂W is the transpose of W's shape, as seed 003 writes them.

Glossary (seed 003, cs229 in brackets): a^j activation (a^{[l]}), z^j pre-activation, W^j
weights, b^j bias, B^j = ∇_{z^j} C the column signal (δ^{[l]}), P^j = ∂C/∂a^{j-1},
C the per-sample cost, E the batch cost; batch: A^j, Z^j (n_j × N), Δ^j = [B^{j(1)} … B^{j(N)}].

>>> net = matrix_network(["n_0", "n_1", "n_2"], activation="sigmoid", loss="bce")
>>> d = derive_layer_rules(net, layout="denominator")
>>> d.gradient("W2")
B2*a1.T
>>> d.signal(2)
a2 - y
>>> from derive.calculus.matrix_printing import latex_matrix
>>> print(latex_matrix(d.signal(1)))
\sigma'\left(z_{1}\right) \odot \left(W_{2}^{T} B_{2}\right)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from .activations import expand_activations
from .calculus.matrix import vjp
from .calculus.matrix_nodes import Softmax, elementwise
from .calculus.matrix_rules import madd, mm, tidy, transpose
from .calculus.result import check_layout
from .derivation import DerivationBase, Label
from .errors import BadInput, CheckFailed
from .losses import Loss, y as Y_SYMBOL, yhat as YHAT_SYMBOL
from .matrix_nodes_nn import Augment, Entrywise2, U, V, entrywise2
from .network import CONVENTIONS, REDUCTIONS, check_pairing, resolve_activations, resolve_loss
from .registry import equal_everywhere
from .selfcheck import directional_check

N = sp.Symbol("N")
J = sp.Symbol("j")
L_SYMBOL = sp.Symbol("L")

# --- the network ------------------------------------------------------------------------------

@dataclass(frozen=True)
class MatrixNetwork:
    """An MLP whose sizes may be symbols and whose depth may be a symbol.

    Attributes
    ----------
    sizes : tuple
        n_0, …, n_L as ints or Symbols (empty when ``depth`` is symbolic).
    depth : int or sympy.Symbol
    activations : tuple
        One per layer; for a symbolic depth (hidden, output).
    loss, convention, reduction, notation, layout
        As in :class:`derive.network.Network`.
    """

    sizes: tuple
    depth: int | sp.Symbol
    activations: tuple
    loss: Loss
    convention: str = "rows"
    reduction: str = "mean"
    notation: str = "ensimag"
    layout: str = "numerator"

    @property
    def symbolic_depth(self) -> bool:
        return not isinstance(self.depth, int)

    def size(self, layer) -> sp.Basic:
        """n_l for a layer index (an int, or an expression of j and L)."""
        if isinstance(layer, int) and self.sizes:
            return self.sizes[layer]
        return sp.Symbol(f"n_{{{_index_text(layer)}}}" if not isinstance(layer, int)
                         else f"n_{layer}")

    def activation(self, layer):
        if not self.symbolic_depth:
            return self.activations[layer - 1]
        return self.activations[-1] if layer == self.depth else self.activations[0]

    def describe(self) -> str:
        sizes = "-".join(map(str, self.sizes)) if self.sizes else f"depth {self.depth}"
        acts = [a.name for a in self.activations]
        act = acts[0] if len(set(acts)) == 1 else ",".join(acts)
        return (f"{sizes} network, activation {act}, loss {self.loss.name}, "
                f"convention {self.convention}, reduction {self.reduction}")


def _index_text(layer) -> str:
    return str(layer).replace(" ", "")


def _size_symbol(value, where):
    if isinstance(value, bool):
        raise BadInput(f"size {value!r} is not an integer or a name", where)
    if isinstance(value, int):
        if value < 1:
            raise BadInput(f"size {value} is < 1", where)
        return value
    if isinstance(value, sp.Symbol):
        return value
    if isinstance(value, str) and value.strip():
        text = value.strip()
        if text.isdigit():
            return _size_symbol(int(text), where)
        if not all(ch.isalnum() or ch in "_{}" for ch in text) or not text[0].isalpha():
            raise BadInput(f"size {value!r} is neither an integer nor a name such as n_1", where)
        return sp.Symbol(text)
    raise BadInput(f"size {value!r} is neither an integer nor a name such as n_1", where)


def matrix_network(sizes=None, activation="sigmoid", loss="bce", convention: str = "rows",
                   reduction: str = "mean", activations=None, depth=None,
                   notation: str = "ensimag", layout: str = "numerator",
                   where: str | None = None, custom_activations: dict | None = None,
                   custom_losses: dict | None = None) -> MatrixNetwork:
    """An MLP with symbolic sizes (``["n_0", "n_1", "n_2"]``) or a symbolic depth (``"L"``).

    Parameters
    ----------
    sizes : sequence of int or str, optional
        n_0, …, n_L; names become size symbols.  Omit with ``depth``.
    depth : str or int, optional
        ``"L"`` for an arbitrary depth: rules for the output layer L and a generic layer j.
    activations : sequence, optional
        One per layer; with a symbolic depth, ``[hidden, output]``.

    >>> matrix_network(depth="L", activations=["relu", "softmax"], loss="cross_entropy").depth
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
    if depth is not None:
        if isinstance(depth, int) and not isinstance(depth, bool):
            if depth < 1:
                raise BadInput(f"depth {depth} is < 1", where)
            sizes = [f"n_{i}" for i in range(depth + 1)]
            depth = None
        elif isinstance(depth, str) and depth.strip().isidentifier():
            depth = sp.Symbol(depth.strip())
        else:
            raise BadInput(f"depth {depth!r} must be a name such as L or a positive integer",
                           where)
    if depth is None:
        if sizes is None:
            raise BadInput("give sizes (e.g. [\"n_0\", \"n_1\", \"n_2\"]) or depth = \"L\"",
                           where)
        if isinstance(sizes, str):
            sizes = [s.strip() for s in sizes.split(",")]
        sizes = tuple(_size_symbol(s, where) for s in sizes)
        if len(sizes) < 2:
            raise BadInput(f"sizes needs at least an input and an output size, got "
                           f"{list(sizes)}", where)
        count = len(sizes) - 1
    else:
        sizes, count = (), 2
    if activations is None:
        activations = [activation] * count
    if len(activations) != count:
        what = "[hidden, output]" if depth is not None else f"one per layer ({count})"
        raise BadInput(f"{len(activations)} activations given; expected {what}", where)
    acts = tuple(resolve_activations(activations, where, custom_activations))
    loss_entry = resolve_loss(loss, where, custom_losses)
    check_pairing(acts[-1], loss_entry, sizes[-1] if sizes and isinstance(sizes[-1], int)
                  else 2, where)
    return MatrixNetwork(sizes=sizes, depth=depth if depth is not None else count,
                         activations=acts, loss=loss_entry, convention=convention,
                         reduction=reduction, notation=notation, layout=layout)


def as_matrix_network(net) -> MatrixNetwork:
    """The :class:`MatrixNetwork` of a concrete :class:`~derive.network.Network` (integer sizes)."""
    if isinstance(net, MatrixNetwork):
        return net
    return MatrixNetwork(sizes=tuple(net.sizes), depth=net.depth,
                         activations=tuple(layer.activation for layer in net.layers),
                         loss=net.loss, convention=net.convention, reduction=net.reduction,
                         notation=net.notation, layout=net.layout)


# --- symbols of one derivation ------------------------------------------------------------------

@dataclass
class Symbols:
    """The matrix symbols of a derivation, created on demand and named after (kind, layer).

    ``table`` maps each MatrixSymbol to its (kind, layer) so that renderers can print it in any
    notation profile.  Per sample, vectors are columns (kinds ``a``, ``z``, ``B``, ``x``, ``y``);
    in batch form they are n × N matrices (kinds ``A``, ``Z``, ``D``, ``X``, ``Y``).
    """

    net: MatrixNetwork
    batch: bool
    table: dict = field(default_factory=dict)

    def _make(self, kind: str, layer, rows, cols) -> sp.MatrixSymbol:
        name = kind if layer is None else (
            f"{kind}{layer}" if isinstance(layer, int) else f"{kind}[{_index_text(layer)}]")
        symbol = sp.MatrixSymbol(name, rows, cols)
        self.table.setdefault(symbol, (kind, layer))
        return symbol

    @property
    def cols(self):
        return N if self.batch else 1

    def a(self, layer):
        kind = "A" if self.batch else "a"
        if layer == 0:
            return self._make("X" if self.batch else "x", None, self.net.size(0), self.cols)
        return self._make(kind, layer, self.net.size(layer), self.cols)

    def z(self, layer):
        return self._make("Z" if self.batch else "z", layer, self.net.size(layer), self.cols)

    def signal(self, layer):
        return self._make("D" if self.batch else "B", layer, self.net.size(layer), self.cols)

    def y(self):
        output = self.net.depth
        return self._make("Y" if self.batch else "y", None, self.net.size(output), self.cols)

    def W(self, layer):
        n_in, n_out = self.net.size(layer - 1), self.net.size(layer)
        convention = self.net.convention
        if convention == "rows":
            return self._make("W", layer, n_out, n_in)
        if convention == "columns":
            return self._make("W", layer, n_in, n_out)
        return self._make("W", layer, n_out, n_in + 1)

    def b(self, layer):
        return self._make("b", layer, self.net.size(layer), 1)

    def params(self, layer) -> dict:
        """name → symbol for layer ``layer``: ``W{l}`` and, except augmented, ``b{l}``."""
        key = _index_text(layer)
        out = {f"W{key}": self.W(layer)}
        if self.net.convention != "augmented":
            out[f"b{key}"] = self.b(layer)
        return out


def pre_activation(sym: Symbols, layer) -> sp.MatrixExpr:
    """ψ(a^{l-1}, W^l, b^l) in the network's convention (batch: the bias broadcast as b 1ᵀ)."""
    a_in, W = sym.a(layer - 1), sym.W(layer)
    convention = sym.net.convention
    if convention == "augmented":
        return mm(W, Augment(a_in))
    linear = mm(W, a_in) if convention == "rows" else mm(transpose(W), a_in)
    bias = sym.b(layer)
    if sym.batch:
        bias = mm(bias, sp.OneMatrix(1, N))
    return madd(linear, bias)


def activate(activation, z) -> sp.MatrixExpr:
    """Φ(z) entrywise, or the (column-wise) softmax."""
    if activation.vector_valued:
        return Softmax(z)
    return elementwise(activation.function, z)


# --- the derivation ---------------------------------------------------------------------------

FORWARD_FORMS = {
    "rows": "z^{l} = W^{l} a^{l-1} + b^{l}",
    "columns": "z^{l} = [W^{l}]^T a^{l-1} + b^{l}",
    "augmented": "z^{l} = W~^{l} [1; a^{l-1}]",
}


@dataclass
class MatrixDerivation(DerivationBase):
    """The matrix-form derivation of every gradient (SPEC §5a ``Derivation`` for symbolic sizes).

    Attributes
    ----------
    network : MatrixNetwork
    layout : str
        Layout of the derivative steps; gradients always have their parameter's shape.
    batch : bool
        Batch form (samples as the columns of X, n_0 × N) or one sample.
    symbols : Symbols
        The matrix symbols and their (kind, layer) for renderers.
    definitions : dict
        symbol → its value (forward values and signals): the straight-line matrix program.
    gradients : dict
        parameter name → ∇_θ E, a matrix expression of θ's shape.
    simplification : str or None
        The recognised output simplification, e.g. ``"B^L = a^L - y"``.
    check : str
        How the derived gradients were checked as a whole.
    """

    network: MatrixNetwork | None = None
    layout: str = "numerator"
    batch: bool = False
    symbols: Symbols | None = None
    definitions: dict = field(default_factory=dict)
    gradients: dict = field(default_factory=dict)
    simplification: str | None = None
    check: str = ""
    cost: sp.Basic | None = None

    def gradient(self, name: str) -> sp.MatrixExpr:
        """∇_θ E for parameter ``name`` (``W1``, ``b2``; ``W[j]`` for a symbolic depth)."""
        if name not in self.gradients:
            raise BadInput(f"no parameter named {name!r}; known: {', '.join(self.gradients)}")
        return self.gradients[name]

    def signal(self, layer) -> sp.MatrixExpr:
        """The value of B^l (Δ^l in batch form)."""
        return self.definitions[self.symbols.signal(layer)]

    def scale(self):
        """The factor between ∇_Z E and Δ: 1/N for a mean over the batch, else 1."""
        return 1 / N if self.batch and self.network.reduction == "mean" else sp.S.One


def _rule_names(steps) -> str:
    names = []
    for step in steps:
        if step.rule not in names:
            names.append(step.rule)
    return "; ".join(names)


def derive_layer_rules(net, layout: str = "numerator", batch: bool = False,
                       check: bool = True) -> MatrixDerivation:
    """Derive the matrix-form backprop rules of ``net`` for every parameter.

    Parameters
    ----------
    net : MatrixNetwork or Network
        Symbolic sizes or depth (:func:`matrix_network`), or a concrete network (its integer
        sizes are used as they are).
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
    net = as_matrix_network(net)
    sym = Symbols(net, batch)
    d = MatrixDerivation(network=net, layout=layout, batch=batch, symbols=sym)
    layers = _layer_indices(net)
    output = net.depth

    for layer in layers:
        z = pre_activation(sym, layer)
        d.add(Label("z", layer), z, "layer", form=_form(FORWARD_FORMS[net.convention], layer))
        d.definitions[sym.z(layer)] = z
        a = activate(net.activation(layer), sym.z(layer))
        d.add(Label("a", layer), a, "layer", form=_form("a^{l} = Phi(z^{l})", layer))
        d.definitions[sym.a(layer)] = a
    cost = _cost(d, sym)

    upstream = _linear_matrix(net.loss.derivative().xreplace({YHAT_SYMBOL: U, Y_SYMBOL: V}),
                              U, V, sym.a(output), sym.y())
    d.add(Label("dC/da", output), _in_layout(d, upstream), "loss_gradient", check="sympy.diff",
          form="dC/da^L = l'(a^L, y)" + (" (per sample; grad_A E = (1/N) of it)"
                                          if batch and net.reduction == "mean" else ""))
    _output_signal(d, sym, upstream)
    if net.symbolic_depth:
        _hidden_signal(d, sym, J + 1, J)            # B^j from B^{j+1}, every j < L
        _layer_gradients(d, sym, J)                 # ∇W^j, ∇b^j, every j = 1 … L
    else:
        for layer in reversed(layers):
            _layer_gradients(d, sym, layer)
            if layer > 1:
                _hidden_signal(d, sym, layer, layer - 1)
    d.cost = cost
    if check:
        d.check = check_generic_rules(d) if net.symbolic_depth else check_numerically(d)
    return d


def _layer_indices(net: MatrixNetwork) -> list:
    if net.symbolic_depth:
        return [J, net.depth]
    return list(range(1, net.depth + 1))


def _form(text: str, layer) -> str:
    return text.replace("{l}", _index_text(layer)).replace("{l-1}", _index_text(layer - 1))


def _cost(d: MatrixDerivation, sym: Symbols):
    net = d.network
    losses = entrywise2(net.loss.expr, YHAT_SYMBOL, Y_SYMBOL, sym.a(net.depth), sym.y())
    per_sample = mm(sp.OneMatrix(1, net.size(net.depth)), losses)
    if not d.batch:
        d.add(Label("C"), per_sample, "loss", form="C = sum_k l(a^L_k, y_k) = 1^T l(a^L, y)")
        return per_sample
    total = mm(per_sample, sp.OneMatrix(N, 1))
    value = mm(1 / N, total) if net.reduction == "mean" else total
    d.add(Label("E"), value, "batch_loss",
          form="E = (1/N) sum_n C^(n) = (1/N) 1^T l(A^L, Y) 1" if net.reduction == "mean"
          else "E = sum_n C^(n) = 1^T l(A^L, Y) 1")
    return value


def _in_layout(d: MatrixDerivation, gradient):
    """A gradient-shaped expression as the derivation's layout states it."""
    if d.layout == "denominator":
        return gradient
    return tidy(transpose(gradient))


def _signal_label(d: MatrixDerivation, layer) -> Label:
    return Label("D" if d.batch else "B", layer)


def _output_signal(d: MatrixDerivation, sym: Symbols, upstream) -> None:
    """B^L = ∇_{z^L} C, by the chain rule through Φ, then fused with the loss when that
    simplifies (σ + bce, softmax + cross-entropy, identity + mse → a^L − y)."""
    net, output = d.network, d.network.depth
    z, a = sym.z(output), sym.a(output)
    value, steps = vjp(activate(net.activation(output), z), z, upstream)
    value = value.xreplace({activate(net.activation(output), z): a})
    d.add(_signal_label(d, output), value, "vjp",
          form=f"B^{_index_text(output)} = grad_z C = (da/dz)^T grad_a C  [{_rule_names(steps)}]")
    fused = fuse_output(net.activation(output), net.loss, a, sym.y())
    if fused is not None:
        expr, check, recognised, rule = fused
        value = expr
        if recognised:
            d.simplification = f"B^L = a^L - y"
        d.add(_signal_label(d, output), value, rule, check=check,
              form="Phi' written in a^L, fused with l'" + ("  =>  a^L - y (recognised)"
                                                           if recognised else ""))
    d.definitions[sym.signal(output)] = value


def _layer_gradients(d: MatrixDerivation, sym: Symbols, layer) -> None:
    """∇W^l and ∇b^l from B^l: the vector-Jacobian products of ψ^l."""
    net = d.network
    psi = pre_activation(sym, layer)
    upstream = mm(d.scale(), sym.signal(layer))
    for name, parameter in sym.params(layer).items():
        gradient, steps = vjp(psi, parameter, upstream)
        kind = "dE/dW" if name.startswith("W") else "dE/db"
        if d.layout == "numerator":
            d.add(Label(kind, layer), tidy(transpose(gradient)), "vjp",
                  form=f"d{'E' if d.batch else 'C'}/d{name} = [grad]^T  [{_rule_names(steps)}]")
            d.add(Label("grad", layer, wrt=name), gradient, "gradient_transpose",
                  form=f"grad_{name} = [d/d{name}]^T")
        else:
            d.add(Label("grad", layer, wrt=name), gradient, "vjp",
                  form=f"grad_{name} = (dz/d{name})^T B  [{_rule_names(steps)}]")
        d.gradients[name] = gradient


def _hidden_signal(d: MatrixDerivation, sym: Symbols, upper, layer) -> None:
    """B^l from B^{l+1} (= ``upper``): ∇_{a^l} C = (∂z^{l+1}/∂a^l)ᵀ B^{l+1}, then through Φ."""
    net = d.network
    grad_a, steps = vjp(pre_activation(sym, upper), sym.a(layer), sym.signal(upper))
    d.add(Label("dC/da", layer), _in_layout(d, grad_a), "vjp",
          form=(f"P^{_index_text(upper)} = dC/da^{_index_text(layer)}" if d.layout == "numerator"
                else f"grad_a{_index_text(layer)} C") + f"  [{_rule_names(steps)}]")
    z = sym.z(layer)
    activated = activate(net.activation(layer), z)
    value, steps = vjp(activated, z, grad_a)
    value = value.xreplace({activated: sym.a(layer)})
    d.add(_signal_label(d, layer), value, "signal_recursion",
          form=f"B^{_index_text(layer)} = Phi'(z) (.) grad_a C  [{_rule_names(steps)}]")
    d.definitions[sym.signal(layer)] = value


# --- the fused output signal --------------------------------------------------------------------

def fuse_output(activation, loss: Loss, a, y):
    """B^L written in a^L and y when that is simpler than Φ'(z^L) ⊙ ℓ'(a^L, y).

    Works on one entry: Φ' is written in Φ's output (σ' = a(1 − a), tanh' = 1 − a²) and the
    product with ℓ'(a, y) simplified; the result is checked equal to the unsimplified product
    with a = Φ(z).  For softmax, s ⊙ ℓ'(s, y) is simplified; when it is c·y and the targets lie
    on the simplex (Σ_k y_k = 1) the column sums are c and B^L = c (y − s).

    Returns
    -------
    (expr, check, recognised, rule) or None
        ``expr`` a matrix expression in ``a`` and ``y``; ``recognised`` when it is a − y.
    """
    derivative = loss.derivative()
    u, v = U, V
    if activation.vector_valued:
        weighted = sp.factor_terms(sp.cancel(u * derivative.xreplace({YHAT_SYMBOL: u,
                                                                      Y_SYMBOL: v})))
        if weighted.has(u):
            return None
        coefficient = sp.cancel(weighted / v)
        if loss.targets != "simplex" or coefficient.free_symbols:
            return None
        method = equal_everywhere(u * derivative.xreplace({YHAT_SYMBOL: u, Y_SYMBOL: v}),
                                  coefficient * v, [u, v])
        expr = _linear_matrix(coefficient * v - coefficient * u, u, v, a, y)
        check = (f"s (.) l'(s, y) = {sp.sstr(weighted)} entrywise ({method}); columns of y sum "
                 f"to 1 (targets {loss.targets})")
        return expr, check, _is_residual(coefficient * v - coefficient * u, u, v), "target_domain"
    in_output = activation.derivative_in_output(u)
    if in_output is None:
        return None
    raw = derivative.xreplace({YHAT_SYMBOL: u, Y_SYMBOL: v}) * in_output
    simplified = sp.factor_terms(sp.cancel(sp.together(raw)))
    recognised = _is_residual(simplified, u, v)
    if not recognised and sp.count_ops(simplified) >= sp.count_ops(raw):
        return None
    z = sp.Symbol("z", real=True)
    explicit = {u: expand_activations(activation.apply(z))}
    method = equal_everywhere(raw.xreplace(explicit), simplified.xreplace(explicit), [z, v],
                              simplify=False)
    if method is None:
        raise CheckFailed(f"fused output signal failed its check: {raw} vs {simplified}")
    expr = _linear_matrix(simplified, u, v, a, y)
    return expr, f"equal to Phi'(z) l'(Phi(z), y) entrywise ({method})", recognised, "simplify"


def _is_residual(expr, u, v) -> bool:
    return sp.expand(expr - (u - v)) == 0


def _linear_matrix(expr, u, v, a, y):
    """``expr`` (a scalar of u = a, v = y) as a matrix expression: a sum of multiples of a and
    y when it is linear, otherwise an entrywise function."""
    poly = sp.Poly(expr, u, v) if expr.is_polynomial(u, v) else None
    if poly is not None and poly.total_degree() <= 1:
        coeffs = {monom: c for monom, c in zip(poly.monoms(), poly.coeffs())}
        terms = []
        if (1, 0) in coeffs:
            terms.append(mm(coeffs[(1, 0)], a))
        if (0, 1) in coeffs:
            terms.append(mm(coeffs[(0, 1)], y))
        if (0, 0) in coeffs:
            terms.append(mm(coeffs[(0, 0)], sp.OneMatrix(*a.shape)))
        return madd(*terms)
    return Entrywise2(sp.Lambda((U, V), expr), a, y)


__all__ = ["MatrixNetwork", "MatrixDerivation", "Symbols", "matrix_network", "derive_layer_rules",
           "as_matrix_network", "pre_activation", "activate", "fuse_output", "N", "J"]


# --- checking the derived rules -------------------------------------------------------------------

#: Sizes used to instantiate symbolic sizes for the numerical check.
_CHECK_SIZES = (3, 4, 2, 3, 2)
_CHECK_BATCH = 3


def check_numerically(d: MatrixDerivation, seed: int = 0) -> str:
    """Check every derived gradient against central differences of the cost, in float64.

    Symbolic sizes are instantiated small (n_l from 3, 4, 2, …, N = 3), the matrix program
    (forward values, signals, gradients) is printed to NumPy and run at a random point, and each
    gradient entry is compared with (E(θ + h) − E(θ − h)) / 2h, h = 1e-6.

    Returns
    -------
    str
        What was checked, e.g. ``"central differences at n = (3, 4, 2), N = 3: max rel err 2e-10"``.

    Raises
    ------
    AssertionError
        A derived gradient disagrees: a bug in the engine, never the user's fault.
    """
    import numpy as np

    from .calculus.matrix_printing import identifier
    from .printing.matrix_code import ProgramPrinter

    net = d.network
    if net.symbolic_depth:
        raise ValueError("instantiate a symbolic depth first (check_generic_rules)")
    sizes = {}
    concrete = []
    for size in net.sizes:
        value = size if isinstance(size, int) else sizes.setdefault(
            size, _CHECK_SIZES[len(sizes) % len(_CHECK_SIZES)])
        concrete.append(value)
    if net.activation(net.depth).vector_valued and concrete[-1] < 2:
        raise AssertionError("softmax output with one unit")
    batch = _CHECK_BATCH if d.batch else 1
    printer = ProgramPrinter(input_dims(d.symbols))
    forward = [(identifier(s.name), printer.doprint(v)) for s, v in d.definitions.items()
               if d.symbols.table[s][0] in ("z", "a", "Z", "A")]
    backward = [(identifier(s.name), printer.doprint(v)) for s, v in d.definitions.items()
                if d.symbols.table[s][0] in ("B", "D")]
    cost = printer.doprint(d.cost)
    gradients = {name: printer.doprint(g) for name, g in d.gradients.items()}
    names = {name: identifier(symbol.name) for layer in range(1, net.depth + 1)
             for name, symbol in d.symbols.params(layer).items()}
    rng = np.random.default_rng(seed)

    def draw(symbol):
        shape = tuple(int(sp.sympify(n).xreplace(sizes)) for n in symbol.shape)
        return shape

    x_symbol, y_symbol = d.symbols.a(0), d.symbols.y()
    sizes[N] = batch
    env0 = {identifier(x_symbol.name): rng.normal(size=draw(x_symbol)),
            identifier(y_symbol.name): _draw_targets(net.loss.targets, *draw(y_symbol), rng),
            "np": np}
    # Xavier-scaled (std √(2/(rows + cols)), the same in every convention): at a width of
    # hundreds a fixed scale saturates σ, and the float64 cost then rounds away the differences.
    params = {identifier(symbol.name): rng.normal(size=draw(symbol)) * np.sqrt(
                  2.0 / sum(draw(symbol)))
              for layer in range(1, net.depth + 1)
              for symbol in d.symbols.params(layer).values()}

    def run(values, wanted_gradients):
        env = dict(env0)
        env.update(values)
        with np.errstate(all="ignore"):
            for name, text in forward:
                env[name] = eval(text, env)                    # noqa: S307 - our own printer
            value = float(np.asarray(eval(cost, env)).reshape(()))
            if not wanted_gradients:
                return value, None
            for name, text in backward:
                env[name] = eval(text, env)
            return value, {n: np.asarray(eval(t, env), dtype=float) for n, t in gradients.items()}

    value, grads = run(params, True)
    if not np.isfinite(value):
        return "not checked numerically: the cost is not finite at the drawn point"
    by_name = {name: grads[name] for name in names}
    point = {name: params[ident] for name, ident in names.items()}

    def cost_of(values):
        return run({names[name]: value for name, value in values.items()}, False)[0]

    try:
        worst = directional_check(cost_of, by_name, point, rng, directions=2, per_tensor=False)
    except CheckFailed as exc:
        raise CheckFailed(f"derived {exc}") from None
    shown = ", ".join(str(n) for n in concrete[:6]) + (", …" if len(concrete) > 6 else "")
    return (f"central differences along 2 random directions at n = ({shown})"
            + (f", N = {batch}" if d.batch else "") + f": max rel err {worst:.1e}")


#: The depth at which rules stated for a symbolic depth are instantiated and checked.
_CHECK_DEPTH = 3


def check_generic_rules(d: MatrixDerivation) -> str:
    """Check rules stated for a symbolic depth L against a network of depth 3.

    The explicit-depth network (same activations, convention, loss) is derived on its own; the
    generic B^L, B^j and ∇W^j, ∇b^j with j = 1, 2 (3) and L = 3 substituted must be exactly its
    rules, which are in turn checked by :func:`check_numerically`.
    """
    net = d.network
    depth = _CHECK_DEPTH
    hidden, output = net.activations
    explicit_net = MatrixNetwork(sizes=tuple(sp.Symbol(f"n_{i}") for i in range(depth + 1)),
                                 depth=depth, activations=(hidden,) * (depth - 1) + (output,),
                                 loss=net.loss, convention=net.convention,
                                 reduction=net.reduction)
    explicit = derive_layer_rules(explicit_net, layout="denominator", batch=d.batch,
                                  check=False)

    def instance(k):
        mapping = {}
        for symbol, (kind, layer) in d.symbols.table.items():
            if layer is None:
                target = explicit.symbols.y() if kind in ("y", "Y") else explicit.symbols.a(0)
            else:
                index = int(sp.sympify(layer).xreplace({J: k, net.depth: depth}))
                if not 0 <= index <= depth:
                    continue
                target = _symbol_like(explicit.symbols, kind, index)
            mapping[symbol] = target
        return mapping

    checked = []
    for k in range(1, depth + 1):
        mapping = instance(k)
        pairs = [(d.gradient(name).xreplace(mapping), explicit.gradient(name.replace("j", str(k))))
                 for name in d.gradients]
        if k < depth:
            pairs.append((d.signal(J).xreplace(mapping), explicit.signal(k)))
        else:
            pairs.append((d.signal(net.depth).xreplace(mapping), explicit.signal(k)))
        for generic, concrete in pairs:
            if tidy(generic) != tidy(concrete):
                raise CheckFailed(f"generic rule instantiated at j = {k}: {generic} differs "
                                     f"from the depth-{depth} derivation: {concrete}")
        checked.append(k)
    return (f"instantiated at L = {depth}, j = 1 … {depth}: equal to the depth-{depth} "
            f"derivation, itself {check_numerically(explicit)}")


def _symbol_like(sym: Symbols, kind: str, layer: int):
    if kind in ("a", "A"):
        return sym.a(layer)
    accessor = {"z": sym.z, "Z": sym.z, "B": sym.signal, "D": sym.signal, "W": sym.W,
                "b": sym.b}[kind]
    return accessor(layer)


def input_dims(sym: Symbols) -> dict:
    """Code for each size symbol from the inputs that carry it: X, Y and the parameters."""
    from .calculus.matrix_printing import identifier

    carriers = [sym.a(0), sym.y()] + [s for s, (kind, _) in sym.table.items()
                                      if kind in ("W", "b")]
    dims: dict = {}
    for symbol in carriers:
        for axis, size in enumerate(symbol.shape):
            if isinstance(size, sp.Symbol):
                dims.setdefault(size, f"{identifier(symbol.name)}.shape[{axis}]")
    return dims


def _draw_targets(domain: str, n: int, batch: int, rng):
    import numpy as np

    if domain == "binary":
        return rng.uniform(0.05, 0.95, size=(n, batch))
    if domain == "sign":
        return rng.choice([-1.0, 1.0], size=(n, batch))
    if domain == "simplex":
        raw = rng.uniform(0.1, 1.0, size=(n, batch))
        return raw / raw.sum(axis=0)
    return rng.normal(size=(n, batch))
