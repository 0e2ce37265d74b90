"""The matrix-form layer rules (symbolic sizes, any depth) against independent truth.

* the rules of seeds 002, 003 and 004 come out exactly, per convention and layout;
* instantiated at concrete sizes, every gradient equals the concrete-size engine's gradient
  (itself checked against sympy.diff of the composed loss) at random exact rational points,
  over activations × losses × conventions × layouts;
* the batch form: ∇W = (1/N) Δ Aᵀ, ∇b = (1/N) Δ 1;
* rules stated for a symbolic depth L instantiate to the explicit-depth rules;
* the numerical self-check fails on a wrong gradient.
"""

from __future__ import annotations

import random

import mpmath
import pytest
import sympy as sp

import derive
from derive.activations import custom as custom_activation
from derive.activations import expand_activations
from derive.calculus.matrix_nodes import ActivationPrime, AsScalar
from derive.calculus.matrix_printing import latex_matrix
from derive.engine import check_numerically, derive_matrix
from derive.naming import J, N
from derive.network import mlp
from derive.losses import custom as custom_loss
from tests import cases

CONVENTIONS = ["rows", "columns", "augmented"]
LAYOUTS = ["numerator", "denominator"]


def sizes(*names):
    return [sp.Symbol(n) for n in names]


# --- exact forms ------------------------------------------------------------------------------

def test_ensimag_columns_convention_b_form():
    d = derive_matrix(mlp(["n_0", "n_1", "n_2"], activation="tanh",
                                          loss="mse", convention="columns"))
    sym = d.symbols
    W2, B1, B2, a0 = sym.params(2)["W2"], sym.signal(1), sym.signal(2), sym.a(0)
    assert latex_matrix(d.signal(1)) == (r"\tanh'\left(z_{1}\right) \odot \left(W_{2} B_{2}\right)")
    assert d.gradient("W1") == a0 * B1.T                     # ∇_{W^j} E = α^{j-1} [B^j]ᵀ
    assert d.gradient("b1") == B1                            # ∇_{b^j} E = B^j
    assert latex_matrix(d.signal(2)) == r"\tanh'\left(z_{2}\right) \odot \left(a_{2} - y\right)"
    assert d.gradient("W2") == sym.a(1) * B2.T and W2.shape == (sp.Symbol("n_1"),
                                                                sp.Symbol("n_2"))


def test_rows_convention_cs229_form():
    d = derive_matrix(mlp(["n_0", "n_1", "n_2"], activation="relu",
                                          activations=None, loss="mse", convention="rows"),
                           layout="denominator")
    sym = d.symbols
    assert d.gradient("W2") == sym.signal(2) * sym.a(1).T    # δ^{[l]} a^{[l-1]T}
    assert d.gradient("W1") == sym.signal(1) * sym.a(0).T
    assert latex_matrix(d.signal(1)) == \
        r"\operatorname{relu}'\left(z_{1}\right) \odot \left(W_{2}^{T} B_{2}\right)"


def test_augmented_uses_the_weights_without_their_bias_column():
    d = derive_matrix(mlp(["n_0", "n_1", "n_2"], activation="sigmoid",
                                          loss="bce", convention="augmented"), batch=True)
    text = latex_matrix(d.signal(1))
    assert "DropBias" in text or r"\operatorname{DropBias}" in text
    assert set(d.gradients) == {"W1", "W2"}
    assert d.gradient("W2").shape == d.symbols.params(2)["W2"].shape


@pytest.mark.parametrize("reduction, factor", [("mean", 1 / N), ("sum", sp.S.One)])
def test_batch_form_makes_the_broadcast_explicit(reduction, factor):
    d = derive_matrix(mlp(["n_0", "n_1", "n_2"], activation="sigmoid",
                                          loss="bce", reduction=reduction), batch=True)
    sym = d.symbols
    D2, A1 = sym.signal(2), sym.a(1)
    assert d.gradient("W2") == sp.MatMul(factor, D2, A1.T).doit(deep=False)   # (1/N) Δ Aᵀ
    assert d.gradient("b2") == sp.MatMul(factor, D2, sp.OneMatrix(N, 1)).doit(deep=False)
    assert d.signal(2) == sym.a(2) - sym.y()                                   # Δ^L = A^L − Y
    assert d.simplification == "B^L = a^L - y"


@pytest.mark.parametrize("act, loss", [("sigmoid", "bce"), ("softmax", "cross_entropy"),
                                       ("identity", "mse")])
def test_recognised_output_simplifications_are_derived(act, loss):
    d = derive_matrix(mlp(["n_0", "n_1", "n_2"], activations=["tanh", act],
                                          loss=loss))
    assert d.simplification == "B^L = a^L - y"
    fused = [s for s in d.steps if s.rule in ("simplify", "target_domain")]
    assert len(fused) == 1 and fused[0].check


@pytest.mark.parametrize("act, loss", [("tanh", "mse"), ("sigmoid", "mse"), ("relu", "bce"),
                                       ("softmax", "mse")])
def test_no_simplification_is_claimed_where_there_is_none(act, loss):
    d = derive_matrix(mlp(["n_0", "n_1", "n_2"], activations=["tanh", act],
                                          loss=loss if not (act == "relu") else "mse"))
    assert d.simplification is None


def test_numerator_layout_states_row_signals_as_ensimag():
    d = derive_matrix(mlp(["n_0", "n_1", "n_2"], activation="sigmoid",
                                          loss="bce", convention="columns"), layout="numerator")
    sym = d.symbols
    p2 = next(s for s in d.steps if s.lhs.kind == "dC/da" and s.lhs.layer == 1)
    assert p2.rhs == sym.signal(2).T * sym.params(2)["W2"].T           # P^2 = [Ω^2 B^2]ᵀ
    dW = next(s for s in d.steps if s.lhs.kind == "dE/dW" and s.lhs.layer == 2)
    assert dW.rhs.shape == sym.params(2)["W2"].T.shape                   # ∂C/∂W is q × p


def test_user_defined_activation_gets_its_own_rule():
    swish = custom_activation("swish", "x / (1 + exp(-x))")
    d = derive_matrix(mlp(["n_0", "n_1", "n_2"], activations=[swish, "identity"],
                                          loss="log(cosh(yhat - y))"))
    derivative = [f for f in d.signal(1).atoms(sp.Function) if isinstance(f, ActivationPrime)]
    assert derivative, d.signal(1)
    x = sp.Symbol("x", real=True)
    assert sp.simplify(derivative[0].func(x).explicit() - sp.diff(x / (1 + sp.exp(-x)), x)) == 0
    assert d.check.method == "central_differences" and d.check.against == "cost"


def test_symbolic_depth_states_the_generic_recursion():
    d = derive_matrix(mlp(depth="L", activations=["tanh", "sigmoid"], loss="bce",
                                          convention="rows"), layout="denominator")
    sym = d.symbols
    assert latex_matrix(d.signal(J)) == \
        r"\tanh'\left(z[j]\right) \odot \left(W[j+1]^{T} B[j+1]\right)"
    assert d.gradient("Wj") == sym.signal(J) * sym.a(J - 1).T
    assert d.signal(sp.Symbol("L")) == sym.a(sp.Symbol("L")) - sym.y()
    assert d.check.method == "instantiation" and d.check.sizes == (3,)
    assert d.check.parts[0].method == "central_differences"


def test_the_numerical_check_catches_a_wrong_gradient():
    d = derive_matrix(mlp(["n_0", "n_1", "n_2"], activation="tanh", loss="mse"),
                           check=False)
    d.gradients["W1"] = 2 * d.gradients["W1"]
    with pytest.raises(AssertionError, match="central differences"):
        check_numerically(d)


@pytest.mark.parametrize("activation, loss", [("sigmoid", "bce"), ("tanh", "mse")])
def test_wide_integer_network_passes_its_own_check(activation, loss):
    """At a width of hundreds the check's point is Xavier-scaled: σ does not saturate, so
    float64 central differences still resolve the gradient (a fixed scale failed at 784-1024)."""
    d = derive_matrix(mlp([784, 512, 10], activation=activation, loss=loss))
    assert d.check.sizes == (784, 512, 10) and d.check.max_error < 1e-5


def test_depth_64_is_derived_and_checked():
    d = derive_matrix(mlp(depth=64, activation="tanh", loss="mse"), batch=True)
    assert len(d.gradients) == 128 and d.check.method == "central_differences"


# --- agreement with the concrete-size engine -------------------------------------------------

def instantiate(d, net, sizes=None):
    """Every gradient of the matrix-form derivation ``d`` written over the concrete network's
    entry symbols (x, y, parameters); ``sizes``: the integers that the symbolic sizes n_0, n_1,
    … of ``d`` stand for."""
    sym = d.symbols
    sizes = {sp.Symbol(f"n_{i}"): size for i, size in enumerate(sizes or ())}

    def fix(expr):
        return expr.xreplace(sizes) if sizes else expr
    net = net.explicit()
    values = {fix(sym.a(0)): sp.ImmutableMatrix(net.x), fix(sym.y()): sp.ImmutableMatrix(net.y)}
    for layer in net.layers:
        for name, symbol in sym.params(layer.index).items():
            values[fix(symbol)] = sp.ImmutableMatrix(layer.params()[name])
    for symbol, value in d.definitions.items():
        values[fix(symbol)] = sp.ImmutableMatrix(fix(value).xreplace(values).doit().as_explicit())
    return {name: sp.Matrix(fix(g).xreplace(values).doit().as_explicit())
            for name, g in d.gradients.items()}


def explicit_scalar(expr):
    expr = expr.replace(lambda e: isinstance(e, AsScalar),
                        lambda e: sp.Matrix(e.matrix.doit().as_explicit())[0, 0])
    expr = expr.replace(lambda e: isinstance(e, ActivationPrime), lambda e: e.explicit())
    # lambdify would rewrite Heaviside as a Piecewise (minutes for nested kinks): keep it a call.
    return expand_activations(expr).replace(sp.Heaviside, lambda t, *_: STEP(t))


STEP = sp.Function("step_at_zero_one")
MPMATH = [{"step_at_zero_one": lambda t: mpmath.mpf(1) if t >= 0 else mpmath.mpf(0)}, "mpmath"]


def assert_agree(net, layout, seed=0, symbolic=False):
    """The matrix-form rules of ``net`` (``symbolic``: derived at sizes n_0, n_1, … and then
    instantiated at the network's sizes) equal the concrete engine's gradients."""
    concrete = derive.backprop(net, layout=layout)
    if symbolic:
        sizes = list(net.sizes)
        generic = mlp([f"n_{i}" for i in range(len(sizes))],
                                 activations=[layer.activation for layer in net.layers],
                                 loss=net.loss, convention=net.convention)
        mine = instantiate(derive_matrix(generic, layout=layout, check=False), net, sizes)
    else:
        mine = instantiate(derive_matrix(net, layout=layout, check=False), net)
    rng = random.Random(seed)
    net = net.explicit()
    symbols = sorted(net.composed_cost().free_symbols, key=sp.default_sort_key)
    point = {s: sp.Rational(rng.randint(-300, 300), rng.choice([101, 103, 107])) for s in symbols}
    if net.network.loss.targets == "simplex":
        raw = [sp.Rational(rng.randint(1, 50), 7) for _ in net.y]
        point.update({y: r / sum(raw) for y, r in zip(net.y, raw)})
    names = list(point)
    with mpmath.workdps(40):
        values = [mpmath.mpf(v.p) / v.q for v in point.values()]
        for name in net.params():
            want = concrete.gradient(name, explicit=True)
            got = mine[name]
            assert got.shape == want.shape
            for w, g in zip(want, got):
                f = sp.lambdify(names, [explicit_scalar(w), explicit_scalar(g)], MPMATH)
                a, b = f(*values)
                assert abs(a - b) < mpmath.mpf(10) ** -25, (name, w, g)


# From the case table (tests/cases.py): every registered elementwise activation and loss.
ELEMENTWISE = cases.ELEMENTWISE
LOSSES = cases.LOSSES


def sweep(*thirds):
    """Activation × loss × convention × layout cells in the given thirds (0, 1, 2) of the
    product: every cell is in exactly one third, each third has every activation and loss.
    A cell's output layer is its activation where that pairs with the loss (else the case
    table's choice, :func:`cases.output_activation`)."""
    return [(act, loss, conv, layout) for act in ELEMENTWISE for loss in LOSSES
            for conv in CONVENTIONS for layout in LAYOUTS
            if (ELEMENTWISE.index(act) + LOSSES.index(loss) + CONVENTIONS.index(conv)
                + LAYOUTS.index(layout)) % 3 in thirds]


SWEEP = sweep(0)


@pytest.mark.parametrize("act, loss, conv, layout", SWEEP)
def test_agrees_with_the_concrete_engine(act, loss, conv, layout):
    output = cases.output_activation(loss, act)
    net = derive.mlp([2, 3, cases.output_width(loss)], activations=[act, output], loss=loss,
                     convention=conv)
    assert_agree(net, layout)


SYMBOLIC_SWEEP = sweep(1, 2)


@pytest.mark.parametrize("act, loss, conv, layout", SYMBOLIC_SWEEP)
def test_symbolic_size_rules_instantiated_agree_with_the_concrete_engine(act, loss, conv, layout):
    """Rules derived once at sizes n_0, n_1, n_2, then sizes 2, 3, 2 put in: two thirds of the
    sweep (the other third is derived at integer sizes above, so every cell is checked once)."""
    output = cases.output_activation(loss, act)
    width = 1 if derive.LOSSES.get(loss).margin else cases.output_width(loss, 2)
    net = derive.mlp([2, 3, width], activations=[act, output], loss=loss, convention=conv)
    assert_agree(net, layout, symbolic=True)


@pytest.mark.parametrize("conv", CONVENTIONS)
@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_softmax_output_agrees_with_the_concrete_engine(conv, loss):
    net = derive.mlp([2, 3, 3], activations=["tanh", "softmax"], loss=loss, convention=conv)
    assert_agree(net, "numerator")
    assert_agree(net, "denominator", seed=1, symbolic=True)


def test_softmax_hidden_layer_and_user_functions_agree():
    swish = custom_activation("swish", "x*sigmoid(x)")
    logcosh = custom_loss("logcosh", "log(cosh(yhat - y))")
    net = derive.mlp([2, 3, 2, 1], activations=["softmax", swish, "identity"], loss=logcosh,
                     convention="columns")
    assert_agree(net, "denominator")
