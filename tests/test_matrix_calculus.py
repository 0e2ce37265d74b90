"""The matrix-expression calculus beyond the identity table: the failures of SymPy's own
calculus listed in issue 3, every registry activation, expressions composed at random (LaTeX and
SymPy syntax, checked against NumPy code written alongside them), the vec convention, the
readers, the printers and bad input."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import sympy as sp

import derive
from derive.activations import ACTIVATIONS
from derive.calculus import matrix, namespace
from derive.calculus.matrix import vjp
from derive.calculus.matrix_input import read_expression
from derive.calculus.matrix_nodes import (CommutationMatrix, Entrywise2, U, V, elementwise,
                                          prime_function)
from derive.calculus.matrix_printing import numpy_matrix_code
from derive.calculus.vjp_rules import VJP_RULES, register_vjp
from derive.errors import BadInput
from derive.jacobians import activation_functions

# The calculus as derive uses it: its readers given the activations (σ, tanh, relu, …).
FUNCTIONS = activation_functions()
matrix_jacobian = functools.partial(matrix.matrix_jacobian, functions=FUNCTIONS)
Namespace = functools.partial(namespace.Namespace, functions=FUNCTIONS)

LAYOUTS = ("numerator", "denominator")
m, n = sp.symbols("m n")
SIZES = {"n": 3, "m": 2, "p": 4}
SIGMOID = ACTIVATIONS.get("sigmoid").function


# --- helpers: random points, finite differences -----------------------------------------------

def _draw(shapes: dict, rng, invertible=(), scalars=()) -> dict:
    env = {}
    for name, (rows, cols) in shapes.items():
        rows, cols = (SIZES.get(str(s), s) for s in (rows, cols))
        value = 0.6 * rng.normal(size=(int(rows), int(cols)))
        if name in invertible:
            value = value + 2.0 * np.eye(int(rows))
        env[name] = value
    for name in scalars:
        env[name] = float(rng.uniform(0.5, 1.5))
    return env


def _evaluate(result, env):
    names = result.numpy_names
    return eval(result.numpy, {"np": np},  # noqa: S307 - our own generated code
                {names.get(k, k): v for k, v in env.items()})


def _fd_columns(value, env, name, order="C", h=1e-6):
    """Columns: derivative of value(env).ravel(order) by each entry of env[name] (ravel order)."""
    x = np.asarray(env[name], dtype=float)
    base = np.asarray(value(env), dtype=float).ravel(order=order)
    jac = np.zeros((base.size, x.size))
    for k in range(x.size):
        step = np.zeros(x.size)
        step[k] = h
        step = step.reshape(x.shape, order=order)
        plus, minus = dict(env), dict(env)
        plus[name], minus[name] = x + step, x - step
        jac[:, k] = (np.asarray(value(plus), dtype=float).ravel(order=order)
                     - np.asarray(value(minus), dtype=float).ravel(order=order)) / (2 * h)
    return jac


def _numeric_derivative(value, env, name, layout):
    """SPEC §3.1: scalar by a matrix X (p×q) is q×p in numerator layout; otherwise m×n."""
    x = np.asarray(env[name])
    jac = _fd_columns(value, env, name)
    scalar_out = np.asarray(value(env)).size == 1
    numerator = jac.reshape(x.shape).T if scalar_out and min(x.shape) > 1 else jac
    return numerator if layout == "numerator" else numerator.T


def _check_against_fd(text, wrt, shapes, value, layouts=LAYOUTS, invertible=(), scalars=(),
                      seed=0, rtol=1e-5, atol=1e-7):
    env = _draw(shapes, np.random.default_rng(seed), invertible, scalars)
    for layout in layouts:
        result = matrix_jacobian(text, wrt, layout=layout, shapes=shapes, scalars=scalars)
        got = np.asarray(_evaluate(result, env))
        expected = _numeric_derivative(value, env, wrt, layout)
        concrete = tuple(int(sp.sympify(s).subs(SIZES)) for s in result.shape)
        assert got.shape == expected.shape == concrete, (text, layout, result.numpy)
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol,
                                   err_msg=f"{text} by {wrt} ({layout}): {result.numpy}")


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


# --- issue 3: where SymPy's MatrixSymbol calculus fails -----------------------------------------

LAYER = {"W": ("m", "n"), "a": ("n", 1), "b": ("m", 1), "y": ("m", 1)}


def test_issue_output_layer_weight_gradient():
    """d/dW ½‖σ.(W a + b) − y‖² (SymPy: diagonalizing indices of different dimensions)."""
    result = derive.jacobian(r"\frac{1}{2}\|\sigma(W a + b) - y\|^2", "W", layout="denominator",
                             shapes=LAYER)
    W, a = sp.MatrixSymbol("W", m, n), sp.MatrixSymbol("a", n, 1)
    b, y = sp.MatrixSymbol("b", m, 1), sp.MatrixSymbol("y", m, 1)
    z = W * a + b
    delta = sp.hadamard_product(elementwise(prime_function(SIGMOID), z),
                                elementwise(SIGMOID, z) - y)
    assert result.expr == delta * a.T
    assert result.latex == (r"\left(\sigma'\left(W a + b\right) \odot \left(\sigma\left(W a + b"
                            r"\right) - y\right)\right) a^{T}")
    _check_against_fd(r"\frac{1}{2}\|\sigma(W a + b) - y\|^2", "W", LAYER,
                      lambda e: 0.5 * np.sum((_sigmoid(e["W"] @ e["a"] + e["b"]) - e["y"]) ** 2))


def test_issue_two_layer_network_first_weights():
    """dC/dW1 of a two-layer network (SymPy: index is larger than expression shape)."""
    shapes = {"W_1": ("m", "n"), "W_2": ("p", "m"), "x": ("n", 1), "b_1": ("m", 1),
              "b_2": ("p", 1), "y": ("p", 1)}
    text = r"\frac{1}{2}\|\tanh(W_2 \sigma(W_1 x + b_1) + b_2) - y\|^2"
    result = derive.jacobian(text, "W_1", layout="denominator", shapes=shapes)
    assert result.latex.endswith("x^{T}") and r"\sigma'\left(W_{1} x + b_{1}\right)" in \
        result.latex and "W_{2}^{T}" in result.latex

    def value(e):
        hidden = _sigmoid(e["W_1"] @ e["x"] + e["b_1"])
        return 0.5 * np.sum((np.tanh(e["W_2"] @ hidden + e["b_2"]) - e["y"]) ** 2)
    _check_against_fd(text, "W_1", shapes, value)


def test_issue_log_det_is_inverse_transpose():
    X = sp.MatrixSymbol("X", n, n)
    result = derive.jacobian(r"\log\det X", "X", layout="denominator", shapes={"X": ("n", "n")})
    assert result.expr == sp.Inverse(X.T) and result.latex == "X^{-T}"
    assert result.numpy == "np.linalg.inv(X.T)"
    _check_against_fd(r"\log\det X", "X", {"X": ("n", "n")},
                      lambda e: np.log(np.linalg.det(e["X"])), invertible=("X",))


def test_issue_sum_of_traces():
    A = sp.MatrixSymbol("A", m, n)
    shapes = {"A": ("m", "n"), "B": ("m", "n")}
    for text in (r"\operatorname{tr}(A^T A) + \operatorname{tr}(B^T B)", "tr(A^T A) + tr(B^T B)",
                 "trace(A.T*A) + trace(B.T*B)"):
        result = derive.jacobian(text, "A", layout="denominator", shapes=shapes)
        assert result.expr == 2 * A, text
    _check_against_fd("tr(A^T A) + tr(B^T B)", "A", shapes,
                      lambda e: np.trace(e["A"].T @ e["A"]) + np.trace(e["B"].T @ e["B"]))


@pytest.mark.parametrize("name", [a for a in ACTIVATIONS.names() if a != "softmax"])
def test_issue_numpy_code_for_every_activation(name):
    """σ(W x + b) by x and ½‖σ(W a + b) − y‖² by W for every registry activation: exact form
    and NumPy code against finite differences (SymPy's NumPyPrinter emits invalid code)."""
    entry = ACTIVATIONS.get(name)
    t = sp.Symbol("t", real=True)
    numeric = sp.lambdify(t, entry.expr.subs(sp.Symbol("x", real=True), t),
                          modules=[{"Heaviside": lambda v, h=0.5: np.heaviside(v, h)}, "numpy"])
    text = rf"\operatorname{{{name}}}(W x + b)".replace("_", r"\_")
    shapes = {"W": ("m", "n"), "x": ("n", 1), "b": ("m", 1)}
    result = matrix_jacobian(text, "x", shapes=shapes)
    W = sp.MatrixSymbol("W", m, n)
    z = W * sp.MatrixSymbol("x", n, 1) + sp.MatrixSymbol("b", m, 1)
    derivative = sp.diff(entry.expr, sp.Symbol("x", real=True))
    derivative = derivative.replace(sp.DiracDelta, lambda *args: sp.S.Zero)  # off the kinks
    if derivative == 0:
        assert result.expr == sp.ZeroMatrix(m, n)
    elif derivative.is_constant():
        assert result.expr == derivative * W
    else:
        assert result.expr == sp.DiagMatrix(elementwise(prime_function(entry.function), z)) * W
        explicit = prime_function(entry.function)(t).explicit()    # what the printers use
        for point in (-1.3, -0.4, 0.7, 1.9):                        # away from kinks
            assert float(explicit.subs(t, point).evalf()) == pytest.approx(
                float(derivative.subs(sp.Symbol("x", real=True), point).evalf()), rel=1e-12)
    _check_against_fd(text, "x", shapes, lambda e: numeric(e["W"] @ e["x"] + e["b"]))
    loss = rf"\frac{{1}}{{2}}\|{text.replace('x + b', 'a + b')} - y\|^2"
    _check_against_fd(loss, "W", LAYER,
                      lambda e: 0.5 * np.sum((numeric(e["W"] @ e["a"] + e["b"]) - e["y"]) ** 2))


def test_powers_and_reciprocals_of_activations_print_correctly():
    """σ(z)² and 1/σ(z) in NumPy code keep their meaning (the formula is parenthesised)."""
    text = r"\mathbf{1}^T \log(\sigma(x)) + x^T \sigma(x)"
    _check_against_fd(text, "x", {"x": ("n", 1)},
                      lambda e: np.sum(np.log(_sigmoid(e["x"]))) + e["x"].T @ _sigmoid(e["x"]))
    s = sp.MatrixSymbol("z", n, 1)
    code = numpy_matrix_code(elementwise(sp.Lambda(sp.Symbol("t"), 1 / SIGMOID(sp.Symbol("t"))),
                                         s))
    z = np.array([[0.3], [-1.2], [2.0]])
    np.testing.assert_allclose(eval(code, {"np": np}, {"z": z}), 1 / _sigmoid(z))  # noqa: S307


def test_entrywise_formulas_print_as_one_hadamard_factor():
    """A user function x tanh(x): its derivative reads as ⊙ of matrices, bracketed as one factor
    beside ⊙ and under ᵀ, and no internal placeholder leaks into the LaTeX."""
    W, x = sp.MatrixSymbol("W", m, n), sp.MatrixSymbol("x", n, 1)
    t = sp.Symbol("t")
    result = matrix_jacobian(elementwise(sp.Lambda(t, t * sp.tanh(t)), W * x), "x")
    assert result.latex == (r"\operatorname{diag}\left(\left(W x\right) \odot \left(1 - "
                            r"\tanh^{2}\left(W x\right)\right) + \tanh\left(W x\right)\right) W")
    result = matrix_jacobian(r"\mathbf{1}^T\tanh'(A x)", "x", shapes={"A": ("n", "n")})
    assert result.latex == (r"\left(- \left(2 - 2 \tanh^{2}\left(A x\right)\right) \odot "
                            r"\tanh\left(A x\right)\right)^{T} A")
    assert "PLACEHOLDER" not in matrix_jacobian(r"\sigma'(x)^T x", "x").latex


def test_cross_entropy_of_sigmoid_cancels():
    """BCE written out: the gradient simplifies to (σ(W x + b) − y) xᵀ, derived, not assumed."""
    text = r"-y^T \log(\sigma(W x + b)) - (1 - y)^T \log(1 - \sigma(W x + b))"
    shapes = {"W": ("m", "n"), "x": ("n", 1), "b": ("m", 1), "y": ("m", 1)}
    result = matrix_jacobian(text, "W", layout="denominator", shapes=shapes)
    W, x = sp.MatrixSymbol("W", m, n), sp.MatrixSymbol("x", n, 1)
    z = W * x + sp.MatrixSymbol("b", m, 1)
    assert result.expr == (elementwise(SIGMOID, z) - sp.MatrixSymbol("y", m, 1)) * x.T
    assert any(step.rule.startswith("entrywise algebra") for step in result.steps)

    def value(e):
        s = _sigmoid(e["W"] @ e["x"] + e["b"])
        return -(e["y"].T @ np.log(s)) - (1 - e["y"]).T @ np.log(1 - s)
    env_shapes = dict(shapes)
    _check_against_fd(text, "W", env_shapes, value)


# --- textbook forms -----------------------------------------------------------------------------

@pytest.mark.parametrize("text, wrt, layout, symmetric, latex", [
    ("v^T A v", "v", "denominator", (), r"\left(A + A^{T}\right) v"),
    ("v^T A v", "v", "denominator", ("A",), "2 A v"),
    ("v^T A v", "v", "numerator", ("A",), "2 v^{T} A"),
    (r"\frac{1}{2}\|X w - y\|^2", "w", "denominator", (), r"X^{T} \left(X w - y\right)"),
    (r"\|x - a\|^2", "x", "denominator", (), r"2 \left(x - a\right)"),
    (r"\exp(x^T A x)", "x", "denominator", (),
     r"e^{x^{T} A x} \left(A + A^{T}\right) x"),
    (r"x^T x \cdot A x", "x", "denominator", (),
     r"\left(2 x x^{T} + \left(x^{T} x\right) I_{n}\right) A^{T}"),
    (r"\operatorname{logsumexp}(W x) - y^T W x", "W", "denominator", (),
     r"\left(\operatorname{softmax}\left(W x\right) - y\right) x^{T}"),
])
def test_results_print_as_a_textbook_writes_them(text, wrt, layout, symmetric, latex):
    shapes = {"W": ("m", "n"), "y": ("m", 1)} if "W" in text else \
        {"X": ("m", "n"), "y": ("m", 1)} if "X" in text else {}
    result = matrix_jacobian(text, wrt, layout=layout, shapes=shapes, symmetric=symmetric)
    assert result.latex == latex


def test_symbolic_and_integer_sizes_agree():
    text = r"\frac{1}{2}\|\sigma(W x + b) - y\|^2"
    symbolic = matrix_jacobian(text, "W", shapes={"W": ("n_j", "n_k"), "x": ("n_k", 1),
                                                  "b": ("n_j", 1), "y": ("n_j", 1)})
    concrete = matrix_jacobian(text, "W", shapes={"W": (2, 3), "x": (3, 1), "b": (2, 1),
                                                  "y": (2, 1)})
    assert symbolic.shape == (sp.Symbol("n_k"), sp.Symbol("n_j")) and concrete.shape == (3, 2)
    assert symbolic.expr.xreplace({sp.Symbol("n_j"): 2, sp.Symbol("n_k"): 3}) == concrete.expr


def test_public_api_as_in_the_spec():
    j = derive.jacobian("v^T A v", wrt="v", shapes={"v": (3, 1), "A": (3, 3)},
                        layout="denominator", scalars=(), symmetric=())
    A, v = sp.MatrixSymbol("A", 3, 3), sp.MatrixSymbol("v", 3, 1)
    assert j.expr == (A + A.T) * v and j.shape == (3, 1)
    assert j.latex == r"\left(A + A^{T}\right) v" and j.numpy == "(A + A.T) @ v"


def test_sympy_objects_as_input():
    """EXPR as SymPy matrix expressions (SymPy's own applyfunc and Determinant included)."""
    A, v = sp.MatrixSymbol("A", n, n), sp.MatrixSymbol("v", n, 1)
    assert derive.jacobian(v.T * A * v, v, layout="denominator").expr == (A + A.T) * v
    assert derive.jacobian(v.T * A * v, "v", symmetric=[A], layout="denominator").expr == \
        2 * A * v
    assert derive.jacobian(sp.log(sp.Determinant(A)), A).expr == A.I
    result = derive.jacobian((A * v).applyfunc(sp.tanh), v)
    t = sp.Symbol("t", real=True)
    assert result.expr == sp.DiagMatrix(elementwise(sp.Lambda(t, 1 - sp.tanh(t) ** 2),
                                                    A * v)) * A
    x1, x2 = sp.symbols("x1 x2", real=True)     # explicit matrices still go to concrete sizes
    assert derive.jacobian(sp.Matrix([x1**2, x2]), sp.Matrix([x1, x2])).expr == \
        sp.Matrix([[2 * x1, 0], [0, 1]])


def test_vjp_gives_the_layer_gradients():
    W, a = sp.MatrixSymbol("W", m, n), sp.MatrixSymbol("a", n, 1)
    b, delta = sp.MatrixSymbol("b", m, 1), sp.MatrixSymbol("delta", m, 1)
    z = W * a + b
    assert vjp(z, W, delta)[0] == delta * a.T
    assert vjp(z, a, delta)[0] == W.T * delta
    assert vjp(z, b, delta)[0] == delta
    upstream = sp.MatrixSymbol("g", m, 1)
    gradient, steps = vjp(elementwise(SIGMOID, z), W, upstream)
    assert gradient == sp.hadamard_product(elementwise(prime_function(SIGMOID), z),
                                           upstream) * a.T
    assert steps and all(step.rule for step in steps)
    with pytest.raises(BadInput, match="upstream"):
        vjp(z, W, sp.MatrixSymbol("g", n, 1))


# --- expressions nobody listed: composed at random, with their NumPy values --------------------

SHAPES = {"x": ("n", 1), "c": ("n", 1), "A": ("n", "n"), "B": ("n", "n"), "W": ("m", "n")}


def _vector(rng, depth):
    """(LaTeX, SymPy syntax, NumPy function) of an n×1 expression in x, c, A, B, W."""
    if depth == 0:
        name = rng.choice(["x", "x", "c"])
        return name, name, lambda e, k=name: e[k]
    kind = rng.choice(["lin", "lint", "add", "sub", "tanh", "sigmoid", "sin", "had", "scale",
                       "inv", "softmax", "layer"])
    l1, s1, f1 = _vector(rng, depth - 1)
    if kind in ("add", "sub", "had"):
        l2, s2, f2 = _vector(rng, depth - 1)
    if kind == "lin":
        return rf"A ({l1})", f"A*({s1})", lambda e: e["A"] @ f1(e)
    if kind == "lint":
        return rf"B^T ({l1})", f"B.T*({s1})", lambda e: e["B"].T @ f1(e)
    if kind == "add":
        return rf"({l1}) + ({l2})", f"({s1}) + ({s2})", lambda e: f1(e) + f2(e)
    if kind == "sub":
        return rf"({l1}) - ({l2})", f"({s1}) - ({s2})", lambda e: f1(e) - f2(e)
    if kind == "tanh":
        return rf"\tanh({l1})", f"tanh({s1})", lambda e: np.tanh(f1(e))
    if kind == "sigmoid":
        return rf"\sigma({l1})", f"sigmoid({s1})", lambda e: _sigmoid(f1(e))
    if kind == "sin":
        return rf"\sin({l1})", f"sin({s1})", lambda e: np.sin(f1(e))
    if kind == "had":
        return (rf"({l1}) \odot ({l2})", f"hadamard_product({s1}, {s2})",
                lambda e: f1(e) * f2(e))
    if kind == "scale":
        return rf"(x^T c) ({l1})", f"(x.T*c)*({s1})", lambda e: (e["x"].T @ e["c"]) * f1(e)
    if kind == "inv":
        return rf"A^{{-1}} ({l1})", f"A.I*({s1})", lambda e: np.linalg.solve(e["A"], f1(e))
    if kind == "softmax":
        return (rf"\operatorname{{softmax}}({l1})", f"softmax({s1})",
                lambda e: np.exp(f1(e)) / np.sum(np.exp(f1(e))))
    return (rf"W^T \tanh(W ({l1}))", f"W.T*tanh(W*({s1}))",
            lambda e: e["W"].T @ np.tanh(e["W"] @ f1(e)))


def _scalar(rng, depth):
    """(LaTeX, SymPy syntax, NumPy function) of a scalar expression."""
    kind = rng.choice(["dot", "norm", "lognorm", "lse", "quad", "trace"])
    l1, s1, f1 = _vector(rng, depth)
    if kind == "dot":
        return rf"c^T ({l1})", f"c.T*({s1})", lambda e: e["c"].T @ f1(e)
    if kind == "norm":
        return rf"\|{l1}\|^2", f"norm({s1})**2", lambda e: np.sum(f1(e) ** 2)
    if kind == "lognorm":
        return (rf"\log(1 + \|{l1}\|^2)", f"log(1 + norm({s1})**2)",
                lambda e: np.log(1 + np.sum(f1(e) ** 2)))
    if kind == "lse":
        return (rf"\operatorname{{logsumexp}}({l1})", f"logsumexp({s1})",
                lambda e: np.log(np.sum(np.exp(f1(e)))))
    if kind == "quad":
        return rf"({l1})^T B ({l1})", f"({s1}).T*B*({s1})", lambda e: f1(e).T @ e["B"] @ f1(e)
    return (rf"\operatorname{{tr}}(A B) + x^T A ({l1})", f"trace(A*B) + x.T*A*({s1})",
            lambda e: np.trace(e["A"] @ e["B"]) + e["x"].T @ e["A"] @ f1(e))


def _cases(count, seed, builder):
    rng = np.random.default_rng(seed)
    return [builder(rng, int(rng.integers(1, 4))) for _ in range(count)]


SCALAR_CASES = _cases(24, 2024, _scalar)
VECTOR_CASES = _cases(12, 7, _vector)


@pytest.mark.parametrize("case", range(len(SCALAR_CASES)))
def test_random_scalar_expressions(case):
    latex, sympy_syntax, value = SCALAR_CASES[case]
    assert read_expression(latex, Namespace(SHAPES)) == \
        read_expression(sympy_syntax, Namespace(SHAPES)), (latex, sympy_syntax)
    names = sorted(s.name for s in read_expression(latex, Namespace(SHAPES)).atoms(
        sp.MatrixSymbol))
    for wrt in [v for v in ("x", "A", "W", "B", "c") if v in names][:2]:
        _check_against_fd(latex, wrt, SHAPES, value, invertible=("A",), seed=case)


@pytest.mark.parametrize("case", range(len(VECTOR_CASES)))
def test_random_vector_expressions(case):
    latex, sympy_syntax, value = VECTOR_CASES[case]
    assert read_expression(latex, Namespace(SHAPES)) == \
        read_expression(sympy_syntax, Namespace(SHAPES)), (latex, sympy_syntax)
    if sp.MatrixSymbol("x", n, 1) not in read_expression(latex, Namespace(SHAPES)).atoms(
            sp.MatrixSymbol):
        result = matrix_jacobian(latex, "x", shapes=SHAPES)
        assert result.expr == sp.ZeroMatrix(n, n) and result.notes
        return
    _check_against_fd(sympy_syntax, "x", SHAPES, value, invertible=("A",), seed=case)


SQUARE = {"X": ("n", "n"), "A": ("n", "n"), "B": ("n", "n")}


def _matrix(rng, depth):
    """(LaTeX, NumPy function) of an n×n expression in X, A, B."""
    if depth == 0:
        name = rng.choice(["X", "X", "A"])
        return name, lambda e, k=name: e[k]
    kind = rng.choice(["left", "right", "transpose", "add", "tanh", "sigmoid", "had", "mul",
                       "inv", "trace"])
    l1, f1 = _matrix(rng, depth - 1)
    if kind in ("add", "had", "mul"):
        l2, f2 = _matrix(rng, depth - 1)
    if kind == "left":
        return rf"A ({l1})", lambda e: e["A"] @ f1(e)
    if kind == "right":
        return rf"({l1}) B", lambda e: f1(e) @ e["B"]
    if kind == "transpose":
        return rf"({l1})^T", lambda e: f1(e).T
    if kind == "add":
        return rf"({l1}) + ({l2})", lambda e: f1(e) + f2(e)
    if kind == "tanh":
        return rf"\tanh({l1})", lambda e: np.tanh(f1(e))
    if kind == "sigmoid":
        return rf"\sigma({l1})", lambda e: _sigmoid(f1(e))
    if kind == "had":
        return rf"({l1}) \odot ({l2})", lambda e: f1(e) * f2(e)
    if kind == "mul":
        return rf"({l1}) ({l2})", lambda e: f1(e) @ f2(e)
    if kind == "inv":
        return (rf"(2 I + ({l1}) \odot ({l1}))^{{-1}}",
                lambda e: np.linalg.inv(2 * np.eye(len(e["X"])) + f1(e) * f1(e)))
    return rf"\operatorname{{tr}}({l1}) ({l1})", lambda e: np.trace(f1(e)) * f1(e)


def _matrix_scalar(rng, depth):
    latex, value = _matrix(rng, depth)
    kind = rng.choice(["trace", "frobenius", "sum", "logdet"])
    if kind == "trace":
        return rf"\operatorname{{tr}}({latex})", lambda e: np.trace(value(e))
    if kind == "frobenius":
        return rf"\|{latex}\|_F^2", lambda e: np.sum(value(e) ** 2)
    if kind == "sum":
        return rf"\mathbf{{1}}^T ({latex}) \mathbf{{1}}", lambda e: np.sum(value(e))
    return (rf"\log\det(3 I + ({latex}) ({latex})^T)",
            lambda e: np.log(np.linalg.det(3 * np.eye(len(e["X"])) + value(e) @ value(e).T)))


MATRIX_CASES = _cases(10, 31, _matrix_scalar)
MATRIX_VALUED_CASES = _cases(6, 32, _matrix)


@pytest.mark.parametrize("case", range(len(MATRIX_CASES)))
def test_random_scalar_functions_of_a_matrix(case):
    latex, value = MATRIX_CASES[case]
    _check_against_fd(latex, "X", SQUARE, value, seed=case)


@pytest.mark.parametrize("case", range(len(MATRIX_VALUED_CASES)))
def test_random_matrix_functions_in_the_vec_convention(case):
    latex, value = MATRIX_VALUED_CASES[case]
    env = _draw(SQUARE, np.random.default_rng(case))
    numerator = _fd_columns(value, env, "X", order="F")
    result = matrix_jacobian(latex, "X", shapes=SQUARE, vec=True)
    np.testing.assert_allclose(_evaluate(result, env), numerator, rtol=1e-5, atol=1e-7,
                               err_msg=f"{latex}: {result.numpy}")


# --- the vec convention -------------------------------------------------------------------------

VEC_CASES = [
    ("A X B", "X", {"A": ("m", "n"), "X": ("n", "p"), "B": ("p", "m")},
     lambda e: e["A"] @ e["X"] @ e["B"], "KroneckerProduct(B.T, A)"),
    ("X^T", "X", {"X": ("m", "n")}, lambda e: e["X"].T, "CommutationMatrix(m, n)"),
    ("A X", "X", {"A": ("m", "n"), "X": ("n", "p")}, lambda e: e["A"] @ e["X"],
     "KroneckerProduct(I, A)"),
    ("X X", "X", {"X": ("n", "n")}, lambda e: e["X"] @ e["X"],
     "KroneckerProduct(I, X) + KroneckerProduct(X.T, I)"),
    ("X^{-1}", "X", {"X": ("n", "n")}, lambda e: np.linalg.inv(e["X"]),
     "-(KroneckerProduct(X.T**(-1), X**(-1)))"),
    (r"\sigma(W x + b)", "W", {"W": ("m", "n"), "x": ("n", 1), "b": ("m", 1)},
     lambda e: _sigmoid(e["W"] @ e["x"] + e["b"]),
     "DiagMatrix(Lambda(_d, sigmoid_prime(_d)).(W*x + b))*(KroneckerProduct(x.T, I))"),
    (r"\tanh(X) \odot X", "X", {"X": ("m", "n")}, lambda e: np.tanh(e["X"]) * e["X"], None),
    (r"\operatorname{tr}(X) X^T A", "X", {"X": ("n", "n"), "A": ("n", "m")},
     lambda e: np.trace(e["X"]) * e["X"].T @ e["A"], None),
    ("a^T X b", "X", {"a": ("m", 1), "X": ("m", "n"), "b": ("n", 1)},
     lambda e: e["a"].T @ e["X"] @ e["b"], "KroneckerProduct(b.T, a.T)"),
]


@pytest.mark.parametrize("text, wrt, shapes, value, form", VEC_CASES,
                         ids=[c[0] for c in VEC_CASES])
def test_vec_convention(text, wrt, shapes, value, form):
    env = _draw(shapes, np.random.default_rng(3), invertible=("X",) if "-1" in text else ())
    numerator = _fd_columns(value, env, wrt, order="F")      # vec stacks columns
    for layout in LAYOUTS:
        result = matrix_jacobian(text, wrt, layout=layout, shapes=shapes, vec=True)
        if form is not None and layout == "numerator":
            assert str(result.expr) == form
        expected = numerator if layout == "numerator" else numerator.T
        got = _evaluate(result, env)
        concrete = tuple(int(sp.sympify(s).subs(SIZES)) for s in result.shape)
        assert got.shape == expected.shape == concrete
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7, err_msg=result.numpy)


def test_commutation_matrix_entries():
    K = np.array(CommutationMatrix(2, 3).as_explicit(), dtype=float)
    A = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(K @ A.ravel(order="F"), A.T.ravel(order="F"))


# --- readers ------------------------------------------------------------------------------------

@pytest.mark.parametrize("latex, sympy_syntax", [
    ("v^T A v", "v.T*A*v"),
    (r"\operatorname{tr}(A^T A)", "trace(A.T*A)"),
    (r"\tr(A^T A)", "trace(A.T*A)"),
    (r"\mathrm{tr}(A^T A)", "trace(A.T*A)"),
    (r"\operatorname{Tr}(A^T A)", "trace(A.T*A)"),
    ("tr(A^T A)", "trace(A.T*A)"),
    ("log(det(A))", "log(det(A))"),
    (r"\log\det A", "log(det(A))"),
    (r"\log|A|", "log(det(A))"),
    (r"\tanh(A x + b)", "(A*x + b).applyfunc(tanh)"),
    (r"A^{-1} x", "A.I*x"),
    (r"x \odot b", "hadamard_product(x, b)"),
    (r"\|x\|_2", "norm(x)"),
    (r"\operatorname{diag}(x) b", "diag(x)*b"),
])
def test_latex_and_sympy_syntax_read_alike(latex, sympy_syntax):
    assert read_expression(latex, Namespace()) == read_expression(sympy_syntax, Namespace())


def test_nested_elementwise_functions_stay_nested():
    """σ(sin x) stays two nodes with the calculus' own dummy whatever surrounds it (SymPy's
    doit would fuse them into one function with a fresh dummy, so equal readings differed)."""
    x, c = sp.MatrixSymbol("x", n, 1), sp.MatrixSymbol("c", n, 1)
    nested = elementwise(ACTIVATIONS.get("tanh").function, elementwise(SIGMOID, x))
    latex = read_expression(r"(\sin(x) - (c - x)) \odot \tanh(\sigma(x))", Namespace())
    python = read_expression("hadamard_product(sin(x) - (c - x), tanh(sigmoid(x)))",
                             Namespace())
    assert latex == python and nested in latex.args and len(latex.args) == 2
    assert sp.MatAdd(elementwise(sp.sin, x), -c, x).doit(deep=False) in latex.args
    _check_against_fd(r"c^T ((\sin(x) - (c - x)) \odot \tanh(\sigma(x)))", "x",
                      {"x": ("n", 1), "c": ("n", 1)},
                      lambda e: e["c"].T @ ((np.sin(e["x"]) - e["c"] + e["x"])
                                           * np.tanh(_sigmoid(e["x"]))))


def test_identity_and_ones_take_their_size_from_context():
    X, x = sp.MatrixSymbol("X", m, n), sp.MatrixSymbol("x", n, 1)
    ns = Namespace(shapes={"X": ("m", "n")})
    assert read_expression(r"\|X^T X - I\|_F", ns).matrix == X.T * X - sp.Identity(n)
    assert read_expression(r"\mathbf{1}^T x", Namespace()) == sp.OneMatrix(1, n) * x
    assert read_expression(r"1 - x", Namespace()) == sp.OneMatrix(n, 1) - x
    assert read_expression(r"I_m X", ns) == X
    with pytest.raises(BadInput, match="size"):
        read_expression(r"\mathbf{1}", Namespace())


# --- bad input ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, wrt, shapes, pattern", [
    ("W x + b", "x", {"W": (2, 3), "x": (3, 1), "b": (3, 1)},
     r"cannot add 'W x' \(2×1\) and 'b' \(3×1\)"),
    ("A B", "A", {"A": (2, 3), "B": (2, 3)},
     r"cannot multiply 'A' \(2×3\) by 'B' \(2×3\): 3 columns against 2 rows"),
    ("W*x", "x", {"W": (2, 3), "x": (2, 1)}, r"cannot multiply 'W' \(2×3\) by 'x' \(2×1\)"),
    ("A X B", "X", {}, r"4-tensor.*--vec"),
    (r"\sigma(W x)", "W", {"W": ("m", "n")}, r"3-tensor.*--vec"),
    (r"\frac{1}{2}\|x\|^2 +", "x", {}, r"end of the expression at column 21\n.*\n {22}\^"),
    (r"x^T (A x", "x", {}, r"expected '\)'"),
    (r"\foo(x)", "x", {}, r"unknown command \\foo; known functions: tr, .*sigmoid"),
    ("foo(x)", "x", {}, r"unknown function 'foo'; known: .*softplus"),
    ("bar(x*2)", "x", {}, r"unknown function 'bar'; known:"),
    (r"\operatorname{swsh}(x)", "x", {}, r"unknown function \\operatorname\{swsh\}; known"),
    (r"\sigma''(x)", "x", {}, r"only a first derivative mark is read .* at column 8"),
    (r"\tanh^{-1}(x^T x)", "x", {}, r"ambiguous \(the inverse function or 1/tanh\)"),
    ("x.applyfunc(Lambda(t, t**2 + y))", "x", {}, r"'y' in the body of a Lambda"),
    (r"\|X\|_2", "X", {}, r"2-norm of the matrix 'X' .*Frobenius"),
    ("A^{1/2}", "A", {}, r"cannot read the superscript '1/2'"),
    ("e^{A}", "A", {}, r"could be the matrix exponential; .* write \\exp\(A\)"),
    ("t v", "t", {}, r"cannot multiply 't' \(n×1\) by 'v' \(n×1\): 1 column against n rows "
     r"\(no shape was declared for t n×1, v n×1: declare it with --shape NAME=RxC or --scalar"),
])
def test_bad_input_is_named_and_placed(text, wrt, shapes, pattern):
    with pytest.raises(BadInput, match=pattern):
        matrix_jacobian(text, wrt, shapes=shapes)


def test_layer_superscripts_and_their_transposes():
    """a^{[2]T} is (a^{[2]})ᵀ, not a name; results print it back the same way."""
    result = matrix_jacobian(r"a^{[2]T} W^{[2]} a^{[1]}", "W^{[2]}", layout="denominator")
    assert result.expr == sp.MatrixSymbol("a^{[2]}", n, 1) * sp.MatrixSymbol("a^{[1]}", n, 1).T
    assert result.latex == "a^{[2]} a^{[1]T}"
    assert result.numpy == "a_2 @ a_1.T" and result.numpy_names["a^{[1]}"] == "a_1"


def test_scalar_parameters_of_a_user_function():
    result = matrix_jacobian("x.applyfunc(Lambda(t, t**3 + c*t))", "x", scalars=("c",))
    c, x = sp.Symbol("c", real=True), sp.MatrixSymbol("x", n, 1)
    t = sp.Symbol("t", real=True)
    assert result.expr == sp.DiagMatrix(elementwise(sp.Lambda(t, 3 * t**2 + c), x))
    _check_against_fd("x.applyfunc(Lambda(t, t**3 + c*t))", "x", {"x": ("n", 1)},
                      lambda e: e["x"] ** 3 + e["c"] * e["x"], scalars=("c",))


def test_vec_of_a_vector_transpose_is_the_identity():
    assert matrix_jacobian("x.T*x", "x", vec=True).expr == 2 * sp.MatrixSymbol("x", n, 1).T


def test_variable_not_in_expression_gives_zero_with_a_note():
    result = matrix_jacobian("v^T A v", "W", shapes={"W": ("m", "n")})
    assert result.expr == sp.ZeroMatrix(n, m) and result.shape == (n, m)
    assert any("does not depend on W" in note for note in result.notes)
    assert _evaluate(result, {"W": np.ones((2, 3)), "v": np.ones((3, 1)),
                              "A": np.eye(3)}).shape == (3, 2)


# --- results collected as a textbook writes them ----------------------------------------------

def _softmax(z):
    exp = np.exp(z - z.max(axis=0))
    return exp / exp.sum(axis=0)


def test_sympy_residual_norm_collects_into_one_term():
    """½ rᵀr with r = f.(W a + b) − y built in SymPy: its rᵀ holds f.(aᵀWᵀ + bᵀ), written
    f.(W a + b)ᵀ, so the two halves of the gradient are equal and add up to one term."""
    W, a = sp.MatrixSymbol("W", m, n), sp.MatrixSymbol("a", n, 1)
    b, y = sp.MatrixSymbol("b", m, 1), sp.MatrixSymbol("y", m, 1)
    t = sp.Symbol("t")
    logistic = sp.Lambda(t, 1 / (1 + sp.exp(-t)))
    z = W * a + b
    r = z.applyfunc(logistic) - y
    loss = sp.Rational(1, 2) * (r.T * r)
    from derive.calculus.matrix_nodes import hadamard_of
    delta = hadamard_of(elementwise(logistic, z) - y,
                        elementwise(sp.Lambda(t, sp.diff(logistic.expr, t)), z))
    result = derive.jacobian(loss, W, layout="denominator")
    assert result.expr == delta * a.T
    assert derive.jacobian(loss, W, layout="numerator").expr == sp.MatMul(a, sp.Transpose(delta))
    assert "W^{T}" not in result.latex
    _check_against_fd(loss, "W", LAYER,
                      lambda e: 0.5 * np.sum((_sigmoid(e["W"] @ e["a"] + e["b"]) - e["y"]) ** 2))


def test_entrywise_function_of_a_transpose_is_the_transpose_of_the_function():
    """One orientation: tanh(Xᵀ) is tanh(X)ᵀ, so ∇_X ‖tanh(Xᵀ) − Y‖² has the shape of X
    without a transpose around it."""
    shapes = {"X": ("m", "n"), "Y": ("n", "m")}
    result = derive.jacobian(r"\|\tanh(X^T) - Y\|_F^2", "X", shapes=shapes, layout="denominator")
    assert result.latex == (r"2 \left(\tanh'\left(X\right) \odot \left(\tanh\left(X\right) - "
                            r"Y^{T}\right)\right)")
    _check_against_fd(r"\|\tanh(X^T) - Y\|_F^2", "X", shapes,
                      lambda e: np.sum((np.tanh(e["X"].T) - e["Y"]) ** 2))


def test_a_vector_times_its_reciprocal_counts_its_entries():
    """sᵀ (1/s) = 1ᵀ1 = m: ∇_W 1ᵀ log softmax(W x) = (1 − m s) xᵀ."""
    text = r"\mathbf{1}^T\log\operatorname{softmax}(W x)"
    result = derive.jacobian(text, "W", shapes={"W": ("m", "n"), "x": ("n", 1)},
                             layout="denominator")
    assert result.latex == (r"\left(\mathbf{1} - m \operatorname{softmax}\left(W x\right)\right) "
                            r"x^{T}")
    # integer sizes: the count is a number in the NumPy code
    _check_against_fd(text, "W", {"W": (2, 3), "x": (3, 1)},
                      lambda e: np.sum(np.log(_softmax(e["W"] @ e["x"]))))


def test_reciprocal_after_a_product_and_like_entrywise_terms():
    """xᵀAᵀ (1/(A x)) = k whichever side the product is on, and −(1/u) + 1/u = 0."""
    A, x, t = sp.MatrixSymbol("A", 3, 3), sp.MatrixSymbol("x", 3, 1), sp.Symbol("t")
    u = A * x
    count = u.T * u.applyfunc(sp.Lambda(t, 1 / t))
    assert derive.jacobian(count, x).expr == sp.ZeroMatrix(1, 3)
    result = derive.jacobian(count * (x.T * x), x, layout="denominator")
    assert result.expr == 6 * x
    _check_against_fd(count * (x.T * x), "x", {"A": (3, 3), "x": (3, 1)},
                      lambda e: np.sum((e["A"] @ e["x"]) / (e["A"] @ e["x"]))
                      * np.sum(e["x"] ** 2), invertible=("A",))


def test_columns_of_a_softmax_sum_to_one():
    """1ᵀ softmax(z) = 1: its gradient is 0, and sᵀ(log s + 1) loses its constant."""
    result = derive.jacobian(r"\mathbf{1}^T\operatorname{softmax}(x)", "x",
                             shapes={"x": ("n", 1)})
    assert result.expr == sp.ZeroMatrix(1, n) and result.shape == (1, n)
    _check_against_fd(r"\mathbf{1}^T\operatorname{softmax}(W x)", "W",
                      {"W": ("m", "n"), "x": ("n", 1)},
                      lambda e: np.sum(_softmax(e["W"] @ e["x"])))
    text = r"\operatorname{softmax}(x)^T \log \operatorname{softmax}(x)"
    entropy = derive.jacobian(text, "x", shapes={"x": ("n", 1)}, layout="denominator")
    assert entropy.latex == (r"\log\left(\operatorname{softmax}\left(x\right)\right) \odot "
                             r"\operatorname{softmax}\left(x\right) - \left(\operatorname{softmax}"
                             r"\left(x\right)^{T} \log\left(\operatorname{softmax}\left(x\right)"
                             r"\right)\right) \operatorname{softmax}\left(x\right)")
    _check_against_fd(text, "x", {"x": ("n", 1)},
                      lambda e: np.sum(_softmax(e["x"]) * np.log(_softmax(e["x"]))))


def test_common_entrywise_factor_of_a_sum():
    """(A u) ⊙ v + (Aᵀ u) ⊙ v = ((A + Aᵀ) u) ⊙ v for u = x ⊙ v."""
    shapes = {"x": ("n", 1), "v": ("n", 1), "A": ("n", "n")}
    text = r"(x \odot v)^T A (x \odot v)"
    result = derive.jacobian(text, "x", shapes=shapes, layout="denominator")
    assert result.latex == (r"\left(\left(A + A^{T}\right) \left(v \odot x\right)\right) "
                            r"\odot v")
    assert derive.jacobian(text, "x", shapes=shapes, symmetric=["A"],
                           layout="denominator").latex == \
        r"2 \left(\left(A \left(v \odot x\right)\right) \odot v\right)"
    _check_against_fd(text, "x", shapes,
                      lambda e: (e["x"] * e["v"]).T @ e["A"] @ (e["x"] * e["v"]))


def test_an_entrywise_function_of_a_row_is_written_of_a_column():
    """exp.(tanh(A x)ᵀ A) (SymPy's own orientation) is exp.(Aᵀ tanh(A x))ᵀ: vectors are columns,
    and the transposes around it cancel."""
    A, x, c = sp.MatrixSymbol("A", n, n), sp.MatrixSymbol("x", n, 1), sp.MatrixSymbol("c", n, 1)
    expr = ((A * x).applyfunc(sp.tanh).T * A).applyfunc(sp.exp) * c
    result = derive.jacobian(expr, x, layout="denominator")
    assert result.latex == (r"A^{T} \left(\left(A \left(e^{\left(A^{T} \tanh\left(A x\right)"
                            r"\right)} \odot c\right)\right) \odot \left(1 - \tanh^{2}\left(A x"
                            r"\right)\right)\right)")
    _check_against_fd(expr, "x", {"A": ("n", "n"), "x": ("n", 1), "c": ("n", 1)},
                      lambda e: np.exp(np.tanh(e["A"] @ e["x"]).T @ e["A"]) @ e["c"])



# --- the calculus on its own: named functions given, rules registered --------------------------

def _holds_activation(expr, name) -> bool:
    """``expr`` holds the registry activation ``name`` or its derivative."""
    function = ACTIVATIONS.get(name).function
    return expr.has(function) or expr.has(prime_function(function))


def test_the_calculus_reads_named_functions_only_from_the_table_it_is_given():
    """Without a table, \\tanh is SymPy's tanh and \\sigma a variable; with derive's activations
    (what derive.jacobian passes), both are the registry's functions."""
    shapes = {"W": ("m", "n")}
    alone = matrix.matrix_jacobian(r"\tanh(W x)", "x", shapes=shapes).expr
    assert alone.has(sp.tanh) and not _holds_activation(alone, "tanh")
    assert _holds_activation(derive.jacobian(r"\tanh(W x)", "x", shapes=shapes).expr, "tanh")
    with pytest.raises(BadInput, match="cannot multiply"):
        matrix.matrix_jacobian(r"\sigma(W x)", "x", shapes=shapes)
    assert _holds_activation(derive.jacobian(r"\sigma(W x)", "x", shapes=shapes).expr, "sigmoid")
    assert namespace.Namespace().functions == {}


def test_vjp_rules_are_registered_explicitly_and_never_overwritten():
    """Entrywise2's rule is the calculus's own (no network module need be imported); a second
    rule for a node that has one is refused."""
    with pytest.raises(ValueError, match="already has the VJP rule"):
        register_vjp(sp.MatMul, "d(XY) = something else", VJP_RULES[sp.MatMul][1])
    a, y = sp.MatrixSymbol("a", 2, 1), sp.MatrixSymbol("y", 2, 1)
    loss = Entrywise2(sp.Lambda((U, V), (U - V) ** 2), a, y)
    gradient, steps = vjp(loss, a, sp.OneMatrix(2, 1))
    assert steps[0].rule == VJP_RULES[Entrywise2][0] == \
        "chain rule d f(A, B) = ∂₁f(A, B) ⊙ dA + ∂₂f(A, B) ⊙ dB"
    assert sp.simplify(gradient.as_explicit() - 2 * (a.as_explicit() - y.as_explicit())) == \
        sp.zeros(2, 1)
