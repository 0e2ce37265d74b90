"""General computation graphs (CMU 10-315) against independent truth.

Truth is never the engine itself: scalar results are compared with closed forms from the seed
(``sympy.simplify(difference) == 0``) or with ``sympy.diff`` of the fully composed expression
written out by hand here; vector graphs with central finite differences of a NumPy forward
pass written by hand here, in float64.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from derive.activations import ACTIVATIONS
from derive.errors import BadInput
from derive.graphs import Graph, derive_graph, load_graph
from derive.printing.forms import form_text
from derive.printing.graph_code import numpy_gradients, sympy_gradients
from derive.printing.text import render_text
from derive.render import formats, render

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
LAYOUTS = ("numerator", "denominator")

x, w1, w2, w3, wA, wB, wC, wD, wE = sp.symbols("x w1 w2 w3 wA wB wC wD wE", real=True)
z1, z2, z3, z4 = sp.symbols("z1 z2 z3 z4", real=True)
sigmoid = ACTIVATIONS.get("sigmoid").function


def same(a, b) -> bool:
    difference = sp.Matrix(a) - sp.Matrix(b) if isinstance(a, sp.MatrixBase) else a - b
    if isinstance(difference, sp.MatrixBase):
        return all(sp.simplify(e) == 0 for e in difference)
    return sp.simplify(difference) == 0


# --- CMU 10-315, "Multivariable Chain Rule": closed forms from the slides -------------------------

SEED_SCALAR_CASES = [
    # (id, nodes, output, expected dy/dx)
    ("linear", {"z1": "3*x", "z2": "5*x", "y": "2*z1 + 7*z2"}, "y", sp.Integer(41)),
    ("exercise", {"z1": "sin(x)", "z2": "x**3", "y": "z1**4 * exp(z2) + 5*z1 + 7*z2"}, "y",
     4 * sp.sin(x) ** 3 * sp.cos(x) * sp.exp(x ** 3)
     + 3 * x ** 2 * sp.sin(x) ** 4 * sp.exp(x ** 3) + 5 * sp.cos(x) + 21 * x ** 2),
    ("product", {"z1": "sin(x)", "z2": "x**3", "y": "z1*z2"}, "y",
     x ** 3 * sp.cos(x) + 3 * x ** 2 * sp.sin(x)),
]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("case_id, nodes, output, expected", SEED_SCALAR_CASES,
                         ids=[c[0] for c in SEED_SCALAR_CASES])
def test_seed_multivariable_chain_rule(case_id, nodes, output, expected, layout):
    d = derive_graph(Graph(nodes=nodes, output=output, inputs=["x"]), layout)
    assert sp.simplify(d.gradient("x", explicit=True) - expected) == 0
    # x feeds z1 and z2: the last step is the sum of both path contributions
    last = d.steps[-1]
    assert (str(last.lhs), last.rule) == (f"d{output}/dx", "accumulate")
    dy_dz1, dy_dz2, dz1_dx, dz2_dx = sp.symbols(f"d{output}_dz1 d{output}_dz2 dz1_dx dz2_dx",
                                                real=True)
    assert last.rhs == dy_dz1 * dz1_dx + dy_dz2 * dz2_dx


def test_seed_exercise_example_file_matches_the_slide():
    d = derive_graph(load_graph(EXAMPLES / "graph_chain_rule.toml"))
    expected = SEED_SCALAR_CASES[1][3]
    assert sp.simplify(d.gradient("x", explicit=True) - expected) == 0


# --- CMU 10-315, "Network Optimization: Forward then Backwards": z2 = w2^5 z1^7 -------------------

CHAIN = {"z1": "w1*x", "z2": "w2**5 * z1**7", "z3": "w3*z2", "J": "z3"}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_seed_local_jacobians_of_z2(layout):
    d = derive_graph(Graph(nodes=CHAIN, output="J", inputs=["x"], parameters=["w1", "w2", "w3"]),
                     layout)
    assert d.local_jacobian("z2", "z1") == 7 * w2 ** 5 * z1 ** 6
    assert d.local_jacobian("z2", "w2") == 5 * w2 ** 4 * z1 ** 7
    # ∂J/∂w1 = ∂J/∂z3 ∂z3/∂z2 ∂z2/∂z1 ∂z1/∂w1 (one path: every adjoint is a chain_rule step)
    product = sp.Mul(*[d.local_jacobian(c, p, explicit=True)
                       for c, p in (("J", "z3"), ("z3", "z2"), ("z2", "z1"), ("z1", "w1"))])
    assert sp.expand(d.gradient("w1", explicit=True) - product) == 0
    composed = w3 * w2 ** 5 * (w1 * x) ** 7
    for name, symbol in (("w1", w1), ("w2", w2), ("w3", w3)):
        assert sp.expand(d.gradient(name, explicit=True) - sp.diff(composed, symbol)) == 0
    rules = {str(s.lhs): s.rule for s in d.steps if s.lhs.kind == "partial" and s.lhs.of == "J"}
    assert set(rules.values()) <= {"chain_rule", "definition"}
    dJ_dz2, dz2_dw2 = sp.symbols("dJ_dz2 dz2_dw2", real=True)
    assert d.gradient("w2") == dJ_dz2 * dz2_dw2


# --- CMU 10-315, the four-node graph with arbitrary f's --------------------------------------------

FOUR_NODE_CASES = [
    # (id, nodes as text, the same f's composed by hand)
    ("trig-exp",
     {"z1": "sin(wA*x)", "z2": "wB*z1**2", "z3": "exp(wC*z1)", "z4": "wD*z2*z3 + wE*z3",
      "J": "z4"},
     lambda: (lambda a: (lambda b, c: wD * b * c + wE * c)(wB * a ** 2, sp.exp(wC * a)))(
         sp.sin(wA * x))),
    ("sigmoid-log",
     {"z1": "sigmoid(wA*x)", "z2": "tanh(wB*z1)", "z3": "log(1 + wC**2*z1**2)",
      "z4": "wD*z2**2 + wE*z3*z2", "J": "z4"},
     lambda: (lambda a: (lambda b, c: wD * b ** 2 + wE * c * b)(
         sp.tanh(wB * a), sp.log(1 + wC ** 2 * a ** 2)))(sigmoid(wA * x))),
    ("declared-out-of-order",
     {"J": "z4", "z4": "wD*z2 + wE*z3**3", "z3": "wC + z1", "z2": "wB*z1", "z1": "wA*x**2"},
     lambda: (lambda a: wD * (wB * a) + wE * (wC + a) ** 3)(wA * x ** 2)),
]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("case_id, nodes, composed", FOUR_NODE_CASES,
                         ids=[c[0] for c in FOUR_NODE_CASES])
def test_four_node_graph_equals_direct_differentiation(case_id, nodes, composed, layout):
    graph = Graph(nodes=nodes, output="J", inputs=["x"],
                  parameters=["wA", "wB", "wC", "wD", "wE"])
    d = derive_graph(graph, layout)
    J = composed()
    for name, symbol in (("wA", wA), ("wB", wB), ("wC", wC), ("wD", wD), ("wE", wE), ("x", x)):
        assert same(d.gradient(name, explicit=True), sp.diff(J, symbol)), name
    # ∂J/∂z1 = ∂J/∂z2 ∂z2/∂z1 + ∂J/∂z3 ∂z3/∂z1 (CMU 10-315), rule "accumulate"
    (step,) = [s for s in d.steps if s.rule != "diff" and (s.lhs.of, s.lhs.wrt) == ("J", "z1")]
    assert step.rule == "accumulate"
    dJ_dz2, dJ_dz3, dz2_dz1, dz3_dz1 = sp.symbols("dJ_dz2 dJ_dz3 dz2_dz1 dz3_dz1", real=True)
    assert step.rhs == dJ_dz2 * dz2_dz1 + dJ_dz3 * dz3_dz1
    # every node is kept over its direct inputs only
    definitions = {str(s.lhs): s.rhs for s in d.steps if s.lhs.kind == "node"}
    assert definitions["z4"].free_symbols <= {wD, wE, z2, z3}
    assert definitions["J"] == z4


def test_four_node_order_is_reverse_topological_and_deterministic():
    graph = load_graph(EXAMPLES / "graph_cmu.toml")
    d = derive_graph(graph)
    adjoints = [s.lhs.wrt for s in d.steps if s.lhs.kind == "partial" and s.lhs.of == "J"
                and s.rule != "diff"]
    assert adjoints == ["J", "z4", "z3", "z2", "z1", "wE", "wD", "wC", "wB", "wA", "x"]
    locals_before_z1 = [str(s.lhs) for s in d.steps if s.rule == "diff"][3:5]
    assert locals_before_z1 == ["dz2/dz1", "dz3/dz1"]
    assert [str(s.lhs) for s in derive_graph(graph).steps] == [str(s.lhs) for s in d.steps]


def test_parameter_that_does_not_reach_the_output_has_zero_gradient():
    d = derive_graph({"nodes": {"J": "w*x", "u": "v*x"}, "output": "J", "inputs": ["x"],
                      "parameters": ["w", "v"]})
    assert d.gradient("v") == 0 and d.gradient("u") == 0
    assert d.evaluate({"x": 2.0, "w": 3.0, "v": 5.0}) == {"x": 3.0, "w": 2.0, "v": 0.0,
                                                          "J": 1.0, "u": 0.0}


# --- vector graphs: finite differences ------------------------------------------------------------

def _mlp_forward(p):
    h = np.tanh(p["W"] @ p["x"] + p["b"])
    return float(((p["v"].T @ h).item() - p["t"]) ** 2 / 2)


def _residual_forward(p):
    y = p["x"] + p["W2"] @ np.tanh(p["W1"] @ p["x"] + p["b1"])
    return float((y.T @ y).item() / 2)


def _softmax_forward(p):
    s = p["W"] @ p["x"]
    s = np.exp(s - s.max()) / np.exp(s - s.max()).sum()
    return float(-(p["y"] * np.log(s)).sum() + p["lam"] * (p["W"] ** 2).sum())


SOFTMAX_GRAPH = {"nodes": {"s": "softmax(W*x)", "ce": "-dot(y, log(s))",
                           "reg": "lam*sum(hadamard(W, W))", "J": "ce + reg"},
                 "output": "J", "inputs": ["x", "y"], "parameters": ["W", "lam"],
                 "shapes": {"W": [3, 4], "x": 4, "y": 3}}

def _gram_forward(p):
    r = p["x"].T @ p["W"].T @ p["W"]
    return float((r ** 2).sum() + max(0.0, (r @ p["x"]).item()))


GRAM_GRAPH = {"nodes": {"A": "W.T*W", "r": "x.T*A", "J": "sum(hadamard(r, r)) + relu(r*x)"},
              "output": "J", "inputs": ["x"], "parameters": ["W"],
              "shapes": {"W": [3, 2], "x": 2}}   # a matrix node A and a row node r

VECTOR_CASES = [
    # (id, graph, hand-written forward, shapes of the values)
    ("mlp", EXAMPLES / "graph_mlp.toml", _mlp_forward,
     {"W": (3, 2), "x": (2, 1), "b": (3, 1), "v": (3, 1), "t": ()}),
    ("residual", EXAMPLES / "graph_residual.toml", _residual_forward,
     {"W1": (2, 3), "x": (3, 1), "b1": (2, 1), "W2": (3, 2)}),
    ("softmax", SOFTMAX_GRAPH, _softmax_forward,
     {"W": (3, 4), "x": (4, 1), "y": (3, 1), "lam": ()}),
    ("matrix-node", GRAM_GRAPH, _gram_forward, {"W": (3, 2), "x": (2, 1)}),
]


def _central_difference(forward, values, name, h=1e-6):
    base = {k: np.array(v, dtype=float) for k, v in values.items()}
    grad = np.zeros_like(base[name])
    for index in np.ndindex(grad.shape):
        plus = {k: v.copy() for k, v in base.items()}
        minus = {k: v.copy() for k, v in base.items()}
        plus[name][index] += h
        minus[name][index] -= h
        grad[index] = (forward(plus) - forward(minus)) / (2 * h)
    return grad


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("case_id, spec, forward, shapes", VECTOR_CASES,
                         ids=[c[0] for c in VECTOR_CASES])
def test_vector_graph_against_finite_differences(case_id, spec, forward, shapes, layout):
    d = derive_graph(load_graph(spec), layout)
    rng = np.random.default_rng(1)
    values = {name: rng.normal(size=shape) for name, shape in shapes.items()}
    if case_id == "softmax":
        values["y"] = np.array([[0.2], [0.5], [0.3]])
        values["lam"] = 0.1
    assert d.value(values) == pytest.approx(forward(values), rel=1e-12)
    gradients = d.evaluate(values)
    for name, shape in shapes.items():
        numeric = _central_difference(forward, values, name)
        assert np.shape(gradients[name]) == shape, name
        np.testing.assert_allclose(gradients[name], numeric, rtol=1e-6, atol=1e-8,
                                   err_msg=f"{case_id}: gradient of {name}")


@pytest.mark.parametrize("case_id, spec, forward, shapes", VECTOR_CASES,
                         ids=[c[0] for c in VECTOR_CASES])
def test_numpy_format_gradients_equal_finite_differences(case_id, spec, forward, shapes):
    """``derive graph --format numpy``: one NumPy expression per gradient, evaluated on the
    variables' arrays, in the variable's shape, equal to central differences."""
    d = derive_graph(load_graph(spec))
    rng = np.random.default_rng(2)
    values = {name: rng.normal(size=shape) for name, shape in shapes.items()}
    if case_id == "softmax":
        values["y"] = np.array([[0.2], [0.5], [0.3]])
        values["lam"] = 0.1
    lines = numpy_gradients(d).splitlines()
    assert [line.split(" = ")[0] for line in lines] == [f"grad_{n}" for n in d.leaves()]
    for line in lines:
        target, code = line.split(" = ", 1)
        name = target[len("grad_"):]
        got = eval(code, {"np": np}, dict(values))                         # noqa: S307
        assert np.shape(got) == shapes[name], name
        np.testing.assert_allclose(got, _central_difference(forward, values, name),
                                   rtol=1e-6, atol=1e-8, err_msg=f"{case_id}: {name}")


def test_every_graph_format_through_the_rendering_table():
    """``render(d, fmt)`` for each format of ``derive graph``; numpy used to raise
    AttributeError (``to_numpy`` read a network a graph does not have)."""
    d = derive_graph(load_graph(EXAMPLES / "graph_cmu.toml"))
    assert formats("GraphDerivation") == ("text", "latex", "sympy", "numpy", "json")
    assert render(d, "numpy") == numpy_gradients(d)
    assert render(d, "numpy", notation="cs229", dtype="float64") == numpy_gradients(d)
    assert render(d, "sympy") == sympy_gradients(d)
    assert render(d, "text", explicit=True) == render_text(d, explicit=True) \
        != render(d, "text")
    assert render(d, "latex", explicit=True) == render(d, "latex")     # an option it does not take
    assert json.loads(render(d, "json"))["steps"][0]["form"] == "z1 = sin(wA * x)"   # as written
    with pytest.raises(BadInput, match="unknown format 'html'; known: text, latex"):
        render(d, "html")
    with pytest.raises(BadInput, match="unknown option 'colour'"):
        render(d, "text", colour=True)


def test_every_graph_format_through_the_command(tmp_path):
    spec = str(EXAMPLES / "graph_cmu.toml")
    out = {}
    for fmt in ("text", "latex", "sympy", "numpy", "json"):
        done = subprocess.run([sys.executable, "-m", "derive", "graph", spec, "--format", fmt],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        out[fmt] = done.stdout
    assert out["latex"].startswith("% generated by symbackprop")
    assert json.loads(out["json"])["output"] == "J"
    wA, wB, wC, wD, wE, x = sp.symbols("wA wB wC wD wE x", real=True)
    composed = wD * wB ** 5 * sp.sin(wA * x) ** 7 * sp.exp(wC * sp.sin(wA * x)) \
        + wE * sp.exp(wC * sp.sin(wA * x))
    names = {str(s): s for s in (wA, wB, wC, wD, wE, x)}
    for line in out["sympy"].splitlines():
        target, text = line.split(" = ", 1)
        name = target[len("grad_"):]
        assert sp.simplify(sp.sympify(text, locals=names) - sp.diff(composed, names[name])) == 0


# --- the residual block y = x + F(x) -------------------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
def test_residual_block_accumulates_identity_and_F_paths(layout):
    d = derive_graph(load_graph(EXAMPLES / "graph_residual.toml"), layout)
    assert d.children["x"] == ["u", "y"]
    (step,) = [s for s in d.steps if s.rule != "diff" and (s.lhs.of, s.lhs.wrt) == ("J", "x")]
    assert step.rule == "accumulate"
    assert step.rhs.shape == ((1, 3) if layout == "numerator" else (3, 1))
    assert d.local_jacobian("y", "x") == sp.eye(3)     # the identity path
    # closed form: ∇_x J = y + W1ᵀ diag(1 − tanh²(u)) W2ᵀ y, written out independently
    X = sp.Matrix(sp.symbols("x_1:4", real=True))
    W1 = sp.Matrix(2, 3, lambda i, j: sp.Symbol(f"W1_{i + 1}_{j + 1}", real=True))
    W2 = sp.Matrix(3, 2, lambda i, j: sp.Symbol(f"W2_{i + 1}_{j + 1}", real=True))
    b1 = sp.Matrix(sp.symbols("b1_1:3", real=True))
    u = W1 * X + b1
    y = X + W2 * u.applyfunc(sp.tanh)
    closed = y + W1.T * sp.diag(*[1 - sp.tanh(e) ** 2 for e in u]) * W2.T * y
    assert sp.expand(d.gradient("x", explicit=True) - closed) == sp.zeros(3, 1)
    J = (y.T * y)[0, 0] / 2
    assert sp.expand(d.gradient("W2", explicit=True)
                     - sp.Matrix(3, 2, lambda i, j: sp.diff(J, W2[i, j]))) == sp.zeros(3, 2)


# --- shapes and layouts (SPEC §3.1) --------------------------------------------------------------

SHAPE_CASES = [
    # (name, numerator ∂J/∂v, denominator ∂J/∂v, gradient)
    ("t", (1, 1), (1, 1), (1, 1)),
    ("x", (1, 2), (2, 1), (2, 1)),
    ("v", (1, 3), (3, 1), (3, 1)),
    ("W", (2, 3), (3, 2), (3, 2)),
    ("h", (1, 3), (3, 1), (3, 1)),
]


@pytest.mark.parametrize("name, numerator, denominator, gradient", SHAPE_CASES)
def test_derivative_shapes_per_layout(name, numerator, denominator, gradient):
    num = derive_graph(load_graph(EXAMPLES / "graph_mlp.toml"), "numerator")
    den = derive_graph(load_graph(EXAMPLES / "graph_mlp.toml"), "denominator")
    shape = lambda value: value.shape if isinstance(value, sp.MatrixBase) else (1, 1)  # noqa: E731
    assert shape(num.derivative(name)) == numerator
    assert shape(den.derivative(name)) == denominator
    assert shape(num.gradient(name)) == shape(den.gradient(name)) == gradient
    assert num.gradient(name, explicit=True) == den.gradient(name, explicit=True)


def test_denominator_steps_are_transposes_and_flip_the_product():
    num = derive_graph(load_graph(EXAMPLES / "graph_mlp.toml"), "numerator")
    den = derive_graph(load_graph(EXAMPLES / "graph_mlp.toml"), "denominator")
    assert len(num.steps) == len(den.steps)
    for a, b in zip(num.steps, den.steps):
        assert (a.lhs, a.rule) == (b.lhs, b.rule)
        if a.lhs.kind == "partial" and isinstance(a.rhs, sp.MatrixBase):
            assert a.rhs.T == b.rhs, str(a.lhs)
    forms = {str(s.lhs): (form_text(num, s), form_text(den, t))
             for s, t in zip(num.steps, den.steps) if s.rule == "chain_rule"}
    assert forms["dJ/dh"] == ("dJ/dh = dJ/dy · dy/dh", "dJ/dh = dy/dh · dJ/dy")
    assert str(num.steps[[str(s.lhs) for s in num.steps].index("dh/dvec(W)")].lhs) == "dh/dvec(W)"


def test_load_graph_from_file_and_dict_agree():
    import tomllib

    path = EXAMPLES / "graph_cmu.toml"
    from_file = load_graph(path)
    from_dict = load_graph(tomllib.loads(path.read_text()))
    assert from_file.nodes == from_dict.nodes
    assert (from_file.inputs, from_file.parameters) == (("x",), ("wA", "wB", "wC", "wD", "wE"))


# --- bad input -----------------------------------------------------------------------------------

HEAD = '[graph]\noutput = "J"\ninputs = ["x"]\nparameters = ["w", "W", "b"]\n'
SHAPES = '[graph.shapes]\nW = [3, 2]\nx = 3\nb = 3\n'
BAD_CASES = [
    # (id, TOML text, fragments the message must contain)
    ("cycle", HEAD + '[graph.nodes]\nz1 = "w*z3"\nz2 = "z1*x"\nz3 = "sin(z2)"\nJ = "z3"\n',
     ["bad.toml:6", "graph.nodes.z1", "cycle", "z1 uses z3, z3 uses z2, z2 uses z1"]),
    ("self-cycle", HEAD + '[graph.nodes]\nJ = "J*w"\n', ["bad.toml:6", "cycle", "J uses J"]),
    ("undefined", HEAD + '[graph.nodes]\nz1 = "w*x"\nJ = "z1*c"\n',
     ["bad.toml:7", "graph.nodes.J", "node 'J'", "undefined", "c"]),
    ("unknown-function", HEAD + '[graph.nodes]\nJ = "swsh(w*x)"\n',
     ["bad.toml:6", "swsh"]),
    ("output-missing", HEAD.replace('"J"', '"L"') + '[graph.nodes]\nJ = "w*x"\n',
     ["bad.toml:2", "graph.output", "'L'", "not defined"]),
    ("output-not-a-node", HEAD.replace('"J"', '"w"') + '[graph.nodes]\nJ = "w*x"\n',
     ["graph.output", "parameter"]),
    ("output-vector", HEAD + '[graph.nodes]\nJ = "W*x + b"\n' + SHAPES.replace("x = 3", "x = 2"),
     ["bad.toml:6", "scalar", "3x1"]),
    ("shape-mismatch", HEAD + '[graph.nodes]\nh = "tanh(W*x + b)"\nJ = "sum(h)"\n' + SHAPES,
     ["bad.toml:6", "graph.nodes.h", "node 'h'", "(3, 2) * (3, 1)", "W 3x2", "x 3x1"]),
    ("declared-node-shape", HEAD + '[graph.nodes]\nh = "W*x"\nJ = "sum(h)"\n'
     + SHAPES.replace("x = 3", "x = 2") + "h = 2\n",
     ["bad.toml:12", "graph.shapes.h", "3x1", "2x1"]),
    ("malformed", '[graph]\noutput = "J"\ninputs = ["x"\n[graph.nodes]\nJ = "x"\n',
     ["bad.toml:4", "malformed TOML"]),
    ("unknown-key", '[graph]\noutput = "J"\nparamters = ["w"]\n[graph.nodes]\nJ = "w"\n',
     ["bad.toml:3", "paramters"]),
    ("no-graph-table", '[network]\nsizes = [2, 1]\n', ["bad.toml", "[graph]"]),
    ("dunder", HEAD + '[graph.nodes]\nJ = "x.__class__"\n', ["bad.toml:6", "not a plain"]),
    ("bad-shape", HEAD + '[graph.nodes]\nJ = "w"\n[graph.shapes]\nx = [0, 2]\n',
     ["bad.toml:8", "graph.shapes.x", "[0, 2]"]),
    ("duplicate", HEAD + '[graph.nodes]\nw = "x"\nJ = "w"\n', ["bad.toml:6", "declared twice"]),
]


@pytest.mark.parametrize("case_id, text, fragments", BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_bad_input_names_what_and_where(case_id, text, fragments, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(BadInput) as info:
        derive_graph(load_graph(path))
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_missing_file_is_bad_input(tmp_path):
    with pytest.raises(BadInput, match="no such file"):
        load_graph(tmp_path / "absent.toml")


# --- the command ---------------------------------------------------------------------------------

def _run(*args, seed="0"):
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "derive", "graph", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_command_text_is_one_line_per_step_and_deterministic():
    first = _run("examples/graph_cmu.toml", seed="1")
    second = _run("examples/graph_cmu.toml", seed="12345")
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    lines = first.stdout.splitlines()
    steps = [line for line in lines if line and not line.startswith(("#", "grad_"))]
    assert len(steps) == len(derive_graph(load_graph(EXAMPLES / "graph_cmu.toml")).steps)
    assert all(re.fullmatch(r"\S+ = .+    \[(definition|diff|chain_rule|accumulate)\]", line)
               for line in steps), steps
    assert "dJ/dz1 = dJ_dz2*dz2_dz1 + dJ_dz3*dz3_dz1    [accumulate]" in lines
    grads = [line for line in lines if line.startswith("grad_")]
    assert [g.split()[0] for g in grads] == ["grad_wA", "grad_wB", "grad_wC", "grad_wD",
                                             "grad_wE", "grad_x"]


def test_command_json_is_deterministic_and_matches_the_api():
    first = _run("examples/graph_residual.toml", "--json", "--layout", "denominator", seed="3")
    second = _run("examples/graph_residual.toml", "--json", "--layout", "denominator",
                  seed="4242")
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    document = json.loads(first.stdout)
    assert document["layout"] == "denominator"
    assert {s["rule"] for s in document["steps"]} == {"definition", "diff", "chain_rule",
                                                      "accumulate"}
    d = derive_graph(load_graph(EXAMPLES / "graph_residual.toml"), "denominator")
    names = {str(s): s for s in sp.Matrix(d.symbol("W1")).atoms(sp.Symbol)}
    for name in ("W1", "b1", "W2", "x"):
        parsed = sp.sympify(document["gradients"][name], locals=names)
        assert sp.Matrix(parsed).shape == d.variables[name].shape


def test_command_bad_input_exits_2_with_one_line(tmp_path):
    path = tmp_path / "cycle.toml"
    path.write_text(BAD_CASES[0][1])
    result = _run(str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr and "cycle" in result.stderr
    missing = _run(str(tmp_path / "absent.toml"))
    assert missing.returncode == 2 and "absent.toml" in missing.stderr
