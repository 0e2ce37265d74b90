"""Generated NumPy modules (SPEC §6, issue 4): every activation × loss × convention is right.

The truth here does not come from the code generator:

- forward values and losses are recomputed from the registries' SymPy definitions (lambdified
  entry by entry) and the layer formulas of SPEC §3.2 (:func:`reference_forward`);
- gradients are compared with float64 central differences of that loss by
  :func:`verify.check_gradients`, every coordinate;
- the optimisers are compared with their update rules (the Mines course's; heavy-ball
  momentum as ``torch.optim.SGD`` has it) on a 1-1 linear model whose gradient is written here
  in closed form;
- the input checks, relu'(0) = 0 and the general softmax output signal are compared with what
  the rules give by hand (``torch.autograd`` gives relu'(0) = 0; no torch is needed);
- equation numbers are looked up in the derivation the header names (in process and through
  the command line).
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import derive
import verify
from derive.__main__ import COMMANDS as DERIVE_COMMANDS
from derive.activations import ACTIVATIONS, x as X_SYMBOL
from derive.cli import run_commands
from derive.codegen import generate_numpy, load_source, stable_forms
from derive.errors import BadInput
from derive.engine import derive_matrix
from derive.losses import LOSSES, y as Y_SYMBOL, yhat as YHAT_SYMBOL
from derive.printing.checks import check_text
from derive.targets import TARGET_DOMAINS
from verify.__main__ import COMMANDS as VERIFY_COMMANDS

ROOT = Path(__file__).parent.parent
CONVENTIONS = ("rows", "columns", "augmented")
ELEMENTWISE = tuple(n for n in ACTIVATIONS.names() if not ACTIVATIONS.get(n).vector_valued)
LOSS_NAMES = tuple(LOSSES.names())
BATCH = 5


def test_the_registries_hold_every_activation_and_loss_of_the_spec():
    assert set(ELEMENTWISE) >= {"identity", "sigmoid", "tanh", "relu", "leaky_relu", "step",
                                "softplus"}
    assert set(LOSS_NAMES) >= {"mse", "squared", "l1", "huber", "logistic", "hinge", "bce",
                               "cross_entropy"}


def output_activation(loss: str, hidden: str) -> str:
    """The output activation a loss is defined for: softmax for probability-vector targets
    (cross_entropy), sigmoid for a prediction in (0, 1) (bce); otherwise the hidden one."""
    entry = LOSSES.get(loss)
    if entry.targets == "simplex":
        return "softmax"
    if entry.prediction_domain == (0, 1):
        return "sigmoid"
    return hidden


# --- independent truth --------------------------------------------------------------------------

def _entrywise(expr, *symbols):
    function = sp.lambdify(symbols, expr, modules="numpy")
    return np.vectorize(lambda *values: float(function(*values)), otypes=[float])


def reference_forward(net, params, X) -> np.ndarray:
    """a^L from the layer formulas of SPEC §3.2 and the registry's Φ, in float64."""
    a = np.asarray(X, dtype=np.float64)
    for layer, dense in enumerate(net.layers, start=1):
        W = np.asarray(params[f"W{layer}"], dtype=np.float64)
        if net.convention == "rows":
            z = W @ a + params[f"b{layer}"]
        elif net.convention == "columns":
            z = W.T @ a + params[f"b{layer}"]
        else:
            z = W @ np.vstack([np.ones((1, a.shape[1])), a])
        activation = dense.activation
        if activation.vector_valued:
            e = np.exp(z - z.max(axis=0, keepdims=True))
            a = e / e.sum(axis=0, keepdims=True)
        else:
            a = _entrywise(activation.expr, X_SYMBOL)(z)
    return a


def reference_loss(net, params, X, Y) -> float:
    """Σ_k ℓ(ŷ_k, y_k) per sample from the registry's ℓ, mean (or sum) over the batch."""
    yhat = reference_forward(net, params, X)
    total = float(np.sum(_entrywise(net.loss.expr, YHAT_SYMBOL, Y_SYMBOL)(yhat, Y)))
    return total / X.shape[1] if net.reduction == "mean" else total


# --- building and checking modules ---------------------------------------------------------------

def derivation(net):
    """What a module is printed from: the batch matrix derivation, denominator layout."""
    return derive.backprop(net, form="matrix", batch=True, layout="denominator")


def build(sizes, activations, loss, convention="rows", notation="cs229", dtype="float64",
          name="mlp", **options):
    net = derive.mlp(list(sizes), activations=list(activations), loss=loss,
                     convention=convention, notation=notation, **options)
    generated = generate_numpy(derivation(net), notation=notation, dtype=dtype, name=name)
    return net, generated, load_source(generated.source, name)


def draw_point(module, net, seed, batch=BATCH):
    """Xavier weights plus noise (nonzero biases), X ~ N(0, 1), Y in the loss's target domain."""
    rng = np.random.default_rng(seed)
    params = {k: np.asarray(v, dtype=np.float64) + 0.3 * rng.standard_normal(v.shape)
              for k, v in module.init_params(rng).items()}
    X = rng.standard_normal((net.sizes[0], batch))
    Y = verify.draw_targets(net.loss.targets, (net.sizes[-1], batch), rng)
    return params, X, Y


def assert_verified(module, **kwargs):
    report = verify.check_gradients(module, mode="full", **kwargs)
    assert report.status == "verified", report.to_text()
    assert all(row.checked == row.size for row in report.rows)
    return report


def functions_of(source: str) -> dict:
    tree = ast.parse(source)
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}


def assert_imports_numpy_only(source: str) -> None:
    tree = ast.parse(source)
    imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names]
    assert imported == ["numpy"]
    assert not any(isinstance(node, ast.ImportFrom) for node in ast.walk(tree))
    called = {node.func.id for node in ast.walk(tree)
              if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    assert not called & {"__import__", "eval", "exec", "open", "compile", "getattr"}


# --- every activation × every loss × every convention ----------------------------------------

SWEEP = [pytest.param(hidden, loss, convention, id=f"{hidden}-{loss}-{convention}")
         for hidden in ELEMENTWISE for loss in LOSS_NAMES for convention in CONVENTIONS]


@pytest.mark.parametrize("hidden,loss,convention", SWEEP)
def test_every_activation_loss_and_convention_is_verified(hidden, loss, convention):
    output = output_activation(loss, hidden)
    net, generated, module = build([2, 3, 2], [hidden, output], loss, convention)
    assert_imports_numpy_only(generated.source)
    params, X, Y = draw_point(module, net, seed=7)
    yhat, cache = module.forward(params, X)
    np.testing.assert_allclose(yhat, reference_forward(net, params, X), rtol=1e-12, atol=1e-14)
    assert module.loss(params, X, Y) == pytest.approx(reference_loss(net, params, X, Y),
                                                      rel=1e-10, abs=1e-12)
    grads = module.gradients(params, X, Y)
    assert list(grads) == list(module.PARAM_SHAPES)
    assert all(grads[k].shape == module.PARAM_SHAPES[k] for k in grads)
    # The point of the module's own check, and a point with nonzero biases.
    report = assert_verified(module, seed=0)
    assert_verified(module, params=params, X=X, Y=Y)
    # The verifier draws Y from the module's TARGETS and sizes X from its SIZES.
    assert any("module TARGETS" in note for note in report.notes), report.notes
    drawn = report.point["Y"]
    assert drawn.shape == (2, verify.numeric.BATCH) and report.point["X"].shape[0] == 2
    domain = {"binary": {0.0, 1.0}, "sign": {-1.0, 1.0}, "simplex": {0.0, 1.0}}
    if net.loss.targets in domain:
        assert set(np.unique(drawn)) <= domain[net.loss.targets]
    if net.loss.targets == "simplex":
        assert np.all(drawn.sum(axis=0) == 1)


@pytest.mark.parametrize("convention", CONVENTIONS)
@pytest.mark.parametrize("activations,loss", [
    (("softmax", "tanh"), "mse"),
    (("softmax", "softmax"), "cross_entropy"),
    (("relu", "softmax", "softmax"), "cross_entropy"),
    (("softmax", "sigmoid"), "bce"),
    (("softplus", "softmax"), "mse"),
], ids=["softmax-tanh-mse", "softmax-softmax-ce", "relu-softmax-softmax-ce",
        "softmax-sigmoid-bce", "softplus-softmax-mse"])
def test_softmax_in_hidden_and_output_layers(activations, loss, convention):
    sizes = [3, 4, 3, 2][:len(activations) + 1]
    net, _, module = build(sizes, activations, loss, convention)
    for seed in (1, 2):
        params, X, Y = draw_point(module, net, seed)
        np.testing.assert_allclose(module.forward(params, X)[0],
                                   reference_forward(net, params, X), rtol=1e-12)
        assert module.loss(params, X, Y) == pytest.approx(reference_loss(net, params, X, Y),
                                                          rel=1e-10)
        assert_verified(module, params=params, X=X, Y=Y)


def test_sum_reduction_and_a_deeper_network():
    net, _, module = build([3, 4, 4, 3, 2], ["tanh", "relu", "sigmoid", "identity"], "huber",
                           "columns", reduction="sum")
    params, X, Y = draw_point(module, net, 3)
    assert module.loss(params, X, Y) == pytest.approx(reference_loss(net, params, X, Y),
                                                      rel=1e-10)
    assert_verified(module, params=params, X=X, Y=Y)


# --- user-defined functions ------------------------------------------------------------------

SPEC_TEMPLATE = """\
[network]
sizes = [3, 4, 2]
activations = ["{name}", "tanh"]
loss = "log(cosh(yhat - y))"
convention = "{convention}"

[activations.{name}]
expr = "x / (1 + exp(-x))"
latex = "\\\\operatorname{{swish}}"

[output]
notation = "ensimag"
"""


def _swish_reference(net, params, X, Y):
    """Forward and loss written out by hand for swish then tanh with log cosh."""
    a = X
    for layer in (1, 2):
        W, b = params.get(f"W{layer}"), params.get(f"b{layer}")
        z = {"rows": lambda: W @ a + b, "columns": lambda: W.T @ a + b,
             "augmented": lambda: W @ np.vstack([np.ones((1, a.shape[1])), a])}[
            net.convention]()
        a = z / (1 + np.exp(-z)) if layer == 1 else np.tanh(z)
    return a, float(np.sum(np.log(np.cosh(a - Y))) / X.shape[1])


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_user_defined_activation_and_loss_from_a_spec_file(tmp_path, convention):
    path = tmp_path / "net.toml"
    path.write_text(SPEC_TEMPLATE.format(name="swish", convention=convention))
    net = derive.load_spec(path)
    generated = generate_numpy(derivation(net), name="swish_net")
    module = load_source(generated.source, "swish_net")
    assert "def swish(z):" in generated.source and "swish(zeta1)" in generated.source
    header = ast.get_docstring(ast.parse(generated.source))
    assert f"loss l(yhat, y) = {sp.sstr(net.loss.expr)} per output" in header
    assert "--activations 'x/(1+exp(-x)),tanh'" in header      # the derivation's command
    for seed in (0, 1):
        params, X, Y = draw_point(module, net, seed)
        yhat, expected_loss = _swish_reference(net, params, X, Y)
        np.testing.assert_allclose(module.forward(params, X)[0], yhat, rtol=1e-12)
        assert module.loss(params, X, Y) == pytest.approx(expected_loss, rel=1e-12)
        assert_verified(module, params=params, X=X, Y=Y)


@pytest.mark.parametrize("name,notation", [
    ("forward", "ensimag"), ("a1", "cs229"), ("zeta1", "ensimag"), ("abs", "cs229"),
    ("cache", "ensimag"), ("loss", "cs229"), ("X", "ensimag"), ("N", "cs229"),
    ("DTYPE", "ensimag"), ("np", "cs229"), ("gradients", "ensimag"), ("sgd_step", "cs229")])
def test_user_activation_names_never_clash_with_the_modules_names(tmp_path, name, notation):
    """A helper named like a module function, a local variable, a constant or a builtin the
    code calls would shadow it (or be shadowed): the module must rename its helper."""
    path = tmp_path / "net.toml"
    path.write_text(SPEC_TEMPLATE.format(name=name, convention="rows").replace(
        'loss = "log(cosh(yhat - y))"', 'loss = "huber"'))
    net = derive.load_spec(path)
    generated = generate_numpy(derivation(net), notation=notation, name="clash")
    module = load_source(generated.source, "clash")
    params, X, Y = draw_point(module, net, 0)
    np.testing.assert_allclose(module.forward(params, X)[0],
                               reference_forward(net, params, X), rtol=1e-12)
    assert module.loss(params, X, Y) == pytest.approx(reference_loss(net, params, X, Y),
                                                      rel=1e-12)
    assert_verified(module, params=params, X=X, Y=Y)
    assert_imports_numpy_only(generated.source)


# --- float32 -------------------------------------------------------------------------------------

F32_CASES = [pytest.param((hidden, hidden), "mse", convention, id=f"{hidden}-mse-{convention}")
             for hidden in ELEMENTWISE for convention in CONVENTIONS] + [
    pytest.param(("softmax", "softmax"), "cross_entropy", convention,
                 id=f"softmax-ce-{convention}") for convention in CONVENTIONS] + [
    pytest.param(("tanh", "sigmoid"), "bce", convention, id=f"tanh-sigmoid-bce-{convention}")
    for convention in CONVENTIONS]


@pytest.mark.parametrize("activations,loss,convention", F32_CASES)
def test_float32_modules_compute_in_float32(activations, loss, convention):
    net, generated, module = build([2, 3, 2], activations, loss, convention, dtype="float32")
    assert module.DTYPE is np.float32
    header = ast.get_docstring(ast.parse(generated.source))
    agreement = re.search(r"its float32 gradients agree with the float64 ones to rel err "
                          r"([0-9.e+-]+) \(threshold ([0-9.e+-]+)\)", header)
    assert agreement and float(agreement.group(1)) <= float(agreement.group(2)), header
    params32 = module.init_params(np.random.default_rng(4))
    assert {v.dtype for v in params32.values()} == {np.dtype(np.float32)}
    params, X, Y = draw_point(module, net, 4)
    for given in (params, params32):                  # float64 input is computed in float32
        yhat, cache = module.forward(given, X)
        grads = module.gradients(given, X, Y)
        dtypes = {yhat.dtype} | {v.dtype for v in cache.values()} | \
            {v.dtype for v in grads.values()}
        assert dtypes == {np.dtype(np.float32)}, (dtypes, generated.source)
    yhat = module.forward(params, X)[0]
    np.testing.assert_allclose(yhat, reference_forward(net, params, X), rtol=2e-5, atol=2e-6)
    report = assert_verified(module, seed=0)
    assert report.thresholds["code_precision"] == "float32"
    assert report.rows and report.thresholds["rtol"] == verify.numeric.RTOL[np.dtype("float32")]


# --- how the code reads ----------------------------------------------------------------------

def assigned(function: ast.FunctionDef) -> list:
    return [t.id for stmt in function.body if isinstance(stmt, ast.Assign)
            for t in stmt.targets if isinstance(t, ast.Name)]


PROFILE_NAMES = {
    "cs229": {"z": "z{l}", "a": "a{l}", "signal": "delta{l}", "W": "W{l}", "b": "b{l}"},
    "ensimag": {"z": "zeta{l}", "a": "alpha{l}", "signal": "B{l}", "W": "Omega{l}",
                "b": "beta{l}"},
}


@pytest.mark.parametrize("convention", CONVENTIONS)
@pytest.mark.parametrize("notation", sorted(PROFILE_NAMES))
def test_variable_names_follow_the_notation_profile(notation, convention):
    names = PROFILE_NAMES[notation]
    _, generated, _ = build([3, 4, 4, 2], ["tanh", "relu", "sigmoid"], "bce", convention,
                            notation=notation)
    functions = functions_of(generated.source)
    forward, backward = assigned(functions["_forward"]), assigned(functions["gradients"])
    values = [names[kind].format(l=layer) for layer in (1, 2, 3) for kind in ("z", "a")]
    assert [n for n in forward if n in values] == values
    weights = [names["W"].format(l=layer) for layer in (1, 2, 3)]
    biases = [names["b"].format(l=layer) for layer in (1, 2, 3)]
    assert set(weights) <= set(forward)
    assert (set(biases) <= set(forward)) == (convention != "augmented")
    computed = [n for n in backward if n.startswith("grad_") or
                re.fullmatch(names["signal"].format(l=r"\d"), n)]
    expected = []
    for layer in (3, 2, 1):             # the derivation's order: B^l, then ∇W^l, ∇b^l
        expected.append(names["signal"].format(l=layer))
        expected += [f"grad_W{layer}"] + ([f"grad_b{layer}"] if convention != "augmented"
                                          else [])
    assert computed == expected


# Assignments in _forward()/gradients() that are not equations of the derivation: the checked
# inputs, the batch size, the parameters, the cache, a signal divided by N once for two
# gradients.
def _is_setup(stmt: ast.Assign) -> bool:
    target = stmt.targets[0]
    if isinstance(target, ast.Tuple):
        return [getattr(t, "id", None) for t in target.elts] in (["_", "cache"], ["X", "Y"])
    value = ast.unparse(stmt.value)
    scaled = re.fullmatch(r"(\w+)_over_N", target.id)     # (1/N) Δ^l, shared by ∇W^l, ∇b^l
    return scaled is not None and value == f"{scaled.group(1)} / N" or \
        target.id in ("X", "Y") and value.startswith("np.asarray(") or \
        target.id == "N" and value in ("X.shape[1]", "float(X.shape[1])") or \
        target.id == "cache" and isinstance(stmt.value, ast.Dict) or \
        value.startswith("np.asarray(params[")


def cited_lines(source: str):
    """(function, statement, equation number or None) per assignment of _forward() and
    gradients(), those in an if/else branch (``"gradients:else"`` for the else branch) too."""
    lines = source.splitlines()
    functions = functions_of(source)
    for function in ("_forward", "gradients"):
        for where, stmt in _assignments(functions[function].body, function):
            found = re.search(r"#.*\(eq\. (\d+)[,)]", lines[stmt.lineno - 1])
            yield where, stmt, int(found.group(1)) if found else None


def _assignments(body, where):
    for stmt in body:
        if isinstance(stmt, ast.Assign):
            yield where, stmt
        elif isinstance(stmt, ast.If):
            yield from _assignments(stmt.body, where)
            yield from _assignments(stmt.orelse, f"{where}:else")


def _quantity(notation: str, target: str):
    """(kind, layer, wrt) of a code name in the profile's letters."""
    names = PROFILE_NAMES[notation]
    if target.startswith("grad_"):
        return "grad", int(target[6:]), target[5:]
    for kind, label in (("z", "z"), ("a", "a"), ("signal", "D")):
        found = re.fullmatch(names[kind].format(l=r"(\d+)"), target)
        if found:
            return label, int(found.group(1)), None
    return None


@pytest.mark.parametrize("notation,convention,activations,loss", [
    ("cs229", "rows", ("tanh", "softmax"), "cross_entropy"),
    ("ensimag", "columns", ("relu", "sigmoid"), "bce"),
    ("cs229", "augmented", ("leaky_relu", "softplus", "identity"), "huber"),
    ("ensimag", "rows", ("softmax", "tanh"), "l1"),
])
def test_every_equation_line_cites_an_equation_of_the_derivation(notation, convention,
                                                                 activations, loss):
    sizes = [3, 4, 3, 2][:len(activations) + 1]
    net, generated, _ = build(sizes, activations, loss, convention, notation=notation)
    d = derive_matrix(net, layout="denominator", batch=True)
    sym = d.symbols
    seen = set()
    for function, stmt, number in cited_lines(generated.source):
        target = stmt.targets[0]
        if _is_setup(stmt):
            continue
        quantity = _quantity(notation, target.id)
        assert quantity is not None, ast.unparse(stmt)
        assert number is not None, f"{function}: {ast.unparse(stmt)} cites no equation"
        assert 1 <= number <= len(d.steps)
        step = d.steps[number - 1]
        kind, layer, wrt = quantity
        assert (step.lhs.kind, step.lhs.layer, step.lhs.wrt) == (kind, layer, wrt), \
            (ast.unparse(stmt), number, step.lhs)
        symbol = {"z": sym.z, "a": sym.a, "D": sym.signal}.get(kind)
        definition = d.gradients[wrt] if kind == "grad" else d.definitions[symbol(layer)]
        if function.endswith(":else"):
            # The general output signal (targets off the simplex) cites the unfused step.
            assert step.rule == "vjp" and step.rhs != definition, step
            continue
        assert step.rhs == definition        # the step it cites is the one the code implements
        seen.add(quantity)
    depth = len(activations)
    assert {(k, l, None) for l in range(1, depth + 1) for k in ("z", "a", "D")} <= seen
    assert {("grad", int(p[1:]), p) for p in net.param_shapes()} <= seen


def test_the_header_names_the_derivation_whose_numbers_the_comments_cite(capsys):
    """The header's command prints the derivation; its equation (k) is what line k computes."""
    _, generated, _ = build([3, 5, 2], ["tanh", "softmax"], "cross_entropy", "rows")
    header = ast.get_docstring(ast.parse(generated.source))
    command = re.search(r"python -m derive mlp (.*--form matrix.*)$", header, re.M)
    assert command, header
    argv = shlex.split(command.group(1))
    assert run_commands("python -m derive", "", DERIVE_COMMANDS, ["mlp", *argv]) == 0
    printed = dict(re.findall(r"^\s*\((\d+)\) (.*?) = ", capsys.readouterr().out, re.M))
    expect = {"z": "z^{l}", "a": "a^{l}", "D": "Delta^{l}"}
    checked = 0
    for _, stmt, number in cited_lines(generated.source):
        if number is None:
            continue
        kind, layer, wrt = _quantity("cs229", stmt.targets[0].id)
        lhs = f"grad_{wrt} E" if kind == "grad" else expect[kind].format(l=layer)
        assert printed[str(number)] == lhs, (ast.unparse(stmt), number, printed)
        checked += 1
    assert checked >= 10


@pytest.mark.parametrize("notation", ["ensimag", "cs229", "mines", "cmu", "durham"])
def test_comments_are_plain_text_in_every_profile(notation):
    _, generated, _ = build([2, 3, 2], ["relu", "sigmoid"], "bce", "rows", notation=notation)
    for _, stmt, number in cited_lines(generated.source):
        line = generated.source.splitlines()[stmt.lineno - 1]
        if number is not None:
            assert "\\" not in line.split("#", 1)[1], line


def test_the_header_records_network_layout_convention_and_verification():
    net, generated, _ = build([3, 4, 2], ["relu", "sigmoid"], "bce", "columns",
                              notation="ensimag")
    header = ast.get_docstring(ast.parse(generated.source))
    assert "3-4-2 network" in header
    assert "relu, sigmoid activations" in header
    assert f"loss bce: l(yhat, y) = {sp.sstr(LOSSES.get('bce').expr)} per output" in header
    assert "Convention  columns" in header and "(denominator)" in header
    assert "Notation    ensimag" in header and "Precision   float64" in header
    verified = re.search(r"Verified    central differences in float64 .* max rel err "
                         r"([0-9.e+-]+) \(threshold ([0-9.e+-]+)\)", header)
    assert verified and float(verified.group(1)) < float(verified.group(2)), header
    assert generated.check in header
    assert "LogAddExp0" not in header                 # SymPy's internal name is not the reader's
    unchecked = generate_numpy(derivation(net), check=False)
    assert "Verified    not run" in unchecked.source


# --- determinism -------------------------------------------------------------------------------

def test_generation_is_deterministic_across_runs_and_hash_seeds(tmp_path):
    spec = tmp_path / "net.toml"
    spec.write_text(SPEC_TEMPLATE.format(name="swish", convention="augmented"))
    net = derive.load_spec(spec)
    first = generate_numpy(derivation(net), name="mlp").source
    assert generate_numpy(derivation(derive.load_spec(spec)), name="mlp").source == first
    for seed in ("1", "271828"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        result = subprocess.run([sys.executable, "-m", "derive", "mlp", str(spec), "--emit",
                                 "numpy"], capture_output=True, env=env, cwd=ROOT, timeout=120)
        assert result.returncode == 0, result.stderr
        assert result.stdout == first.encode()


# --- numerical stability -----------------------------------------------------------------------

def _output_bias(module, params, value):
    """Move the output layer's bias (augmented: column 0 of W) to ``value``, weights tiny."""
    last = len(module.SIZES) - 1
    W = params[f"W{last}"]
    params[f"W{last}"] = 1e-3 * W
    if module.CONVENTION == "augmented":
        params[f"W{last}"][:, 0] = value
    else:
        params[f"b{last}"] = np.full_like(params[f"b{last}"], value)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("convention", CONVENTIONS)
def test_sigmoid_bce_stays_finite_at_logits_of_1000(convention, dtype):
    net, _, module = build([2, 3, 2], ["tanh", "sigmoid"], "bce", convention, dtype=dtype)
    for logit in (1000.0, -1000.0):
        params, X, _ = draw_point(module, net, 0, batch=4)
        _output_bias(module, params, logit)
        z = module.forward(params, X)[1]["z2"]
        for label in (0.0, 1.0):
            Y = np.full((2, 4), label)
            value = module.loss(params, X, Y)
            # -y log σ(z) - (1 - y) log(1 - σ(z)) = log(1 + e^z) - y z: ≈ |z| when wrong, ≈ 0 else
            expected = float(np.sum(np.logaddexp(0, z) - label * z) / 4)
            assert np.isfinite(value) and value == pytest.approx(expected, rel=1e-6, abs=1e-30)
            wrong = (logit > 0) != (label == 1)
            assert value == pytest.approx(2 * 1000 if wrong else 0, rel=1e-2, abs=1e-6)
            grads = module.gradients(params, X, Y)
            assert all(np.all(np.isfinite(g)) for g in grads.values())
            bias = grads["W2"][:, :1] if convention == "augmented" else grads["b2"]
            np.testing.assert_allclose(bias, (1.0 if logit > 0 else 0.0) - label, atol=1e-6)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("convention", CONVENTIONS)
def test_softmax_cross_entropy_stays_finite_at_logits_of_1000(convention, dtype):
    net, _, module = build([2, 3, 3], ["relu", "softmax"], "cross_entropy", convention,
                           dtype=dtype)
    params, X, _ = draw_point(module, net, 1, batch=3)
    last = 2
    params["W2"] = 1e-3 * params["W2"]
    logits = np.array([[1000.0], [-1000.0], [0.0]])
    if convention == "augmented":
        params["W2"][:, :1] = logits
    else:
        params["b2"] = logits
    Y = np.zeros((3, 3))
    Y[1, :] = 1.0                                   # the class at logit -1000
    value = module.loss(params, X, Y)
    assert np.isfinite(value) and value == pytest.approx(2000.0, rel=1e-5)
    Y = np.zeros((3, 3))
    Y[0, :] = 1.0                                   # the class at logit +1000
    assert module.loss(params, X, Y) == pytest.approx(0.0, abs=1e-3)
    grads = module.gradients(params, X, Y)
    assert all(np.all(np.isfinite(g)) for g in grads.values())
    bias = grads[f"W{last}"][:, :1] if convention == "augmented" else grads[f"b{last}"]
    np.testing.assert_allclose(bias, 0.0, atol=1e-6)   # softmax is one-hot at the right class


#: User activations whose sympy.diff has log(1 + e^x) and powers of 1 + e^x: printed raw, Φ'
#: overflows at |z| ~ 1e3 (e^z / (e^z + 1) = ∞/∞) while the forward pass is finite.
USER_ACTIVATIONS = {"mish": "x*tanh(log(1+exp(x)))", "softplus_by_hand": "log(1+exp(x))",
                    "swish": "x/(1+exp(-x))"}


def _mpmath_gradients(text, params, X, Y) -> dict:
    """Rows convention, mse, mean: backprop written out by hand in 50-digit mpmath, with Φ'
    from sympy.diff of the activation's formula (no rewriting)."""
    import mpmath

    expr = sp.sympify(text, locals={"x": X_SYMBOL})
    with mpmath.workdps(50):
        phi = np.vectorize(sp.lambdify(X_SYMBOL, expr, "mpmath"), otypes=[object])
        dphi = np.vectorize(sp.lambdify(X_SYMBOL, sp.diff(expr, X_SYMBOL), "mpmath"),
                            otypes=[object])
        mp = np.vectorize(lambda v: mpmath.mpf(float(v)), otypes=[object])
        W1, b1, W2, b2 = (mp(params[k]) for k in ("W1", "b1", "W2", "b2"))
        A0, N = mp(X), X.shape[1]
        Z1 = W1 @ A0 + b1
        A1 = phi(Z1)
        Z2 = W2 @ A1 + b2
        D2 = (phi(Z2) - mp(Y)) * dphi(Z2)
        D1 = (W2.T @ D2) * dphi(Z1)
        grads = {"W1": D1 @ A0.T / N, "b1": D1.sum(axis=1, keepdims=True) / N,
                 "W2": D2 @ A1.T / N, "b2": D2.sum(axis=1, keepdims=True) / N}
        return {k: np.vectorize(float, otypes=[float])(v) for k, v in grads.items()}


@pytest.mark.parametrize("text", USER_ACTIVATIONS.values(), ids=USER_ACTIVATIONS.keys())
def test_user_activation_derivatives_stay_finite_at_inputs_of_1000(text):
    net = derive.mlp([3, 4, 2], activation=text, loss="mse", notation="ensimag")
    generated = generate_numpy(derivation(net), name="user")
    module = load_source(generated.source, "user")
    body = ast.get_source_segment(generated.source, functions_of(generated.source)["gradients"])
    assert "np.logaddexp(0.0, " in body and "np.log(" not in body, body
    header = ast.get_docstring(ast.parse(generated.source))
    assert "Derivative  phi' written with np.logaddexp" in header
    rng = np.random.default_rng(7)
    params = {k: v + 0.3 * rng.standard_normal(v.shape)
              for k, v in module.init_params(rng).items()}
    Y = rng.standard_normal((2, 2))
    mixed = np.array([[1e3, -1e3], [1e3, -1e3], [-1e3, 1e3]])
    for X in (np.full((3, 2), 1e3), np.full((3, 2), -1e3), mixed):
        assert np.isfinite(module.loss(params, X, Y))
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            grads = module.gradients(params, X, Y)
        expected = _mpmath_gradients(text, params, X, Y)
        for k, g in grads.items():
            assert np.all(np.isfinite(g)), (k, g)
            scale = max(float(np.max(np.abs(expected[k]))), 1.0)
            np.testing.assert_allclose(g, expected[k], rtol=1e-9, atol=1e-12 * scale,
                                       err_msg=f"{k} at X = {X.tolist()}")
    assert_verified(module)


def test_a_derivative_rewrite_that_is_not_equal_is_not_used(monkeypatch):
    """The rewriting is checked against Φ' before it is used: a wrong one is discarded and
    Φ' is printed as sympy.diff gives it."""
    monkeypatch.setattr(stable_forms, "stable_derivative_form",
                        lambda expr: sp.exp(-stable_forms.LogAddExp0(-stable_forms.T)) * 1.0001)
    net = derive.mlp([2, 3, 1], activation="x/(1+exp(-x))", loss="mse")
    generated = generate_numpy(derivation(net), name="wrong")
    assert "Derivative  " not in generated.source and "1.0001" not in generated.source
    assert_verified(load_source(generated.source, "wrong"))


def test_an_expression_activation_has_one_helper():
    _, generated, module = build([2, 3, 2], ["x*tanh(log(1+exp(x)))"] * 2, "mse")
    assert list(functions_of(generated.source))[:2] == ["phi", "init_params"]
    assert "phi(z1)" in generated.source and "phi(z2)" in generated.source
    assert_verified(module)


def test_a_user_loss_is_named_in_the_header():
    net = derive.load_spec(ROOT / "examples" / "swish_logcosh.toml")
    header = ast.get_docstring(ast.parse(generate_numpy(derivation(net), check=False).source))
    assert f"loss logcosh: l(yhat, y) = {sp.sstr(net.loss.expr)} per output" in header
    unnamed = derive.mlp([2, 1], activation="identity", loss="log(cosh(yhat - y))")
    header = ast.get_docstring(ast.parse(generate_numpy(derivation(unnamed),
                                                        check=False).source))
    assert "; loss l(yhat, y) = log(cosh(y - yhat)) per output" in header


def test_leaky_relu_helpers_are_named_after_the_activation():
    _, generated, module = build([2, 3, 2], ["leaky_relu(0.1)", "leaky_relu(0.2)"], "mse")
    helpers = functions_of(generated.source)
    assert "leaky_relu" in helpers and "leaky_relu_1_5" in helpers   # α = 1/5 falls back
    assert ast.get_docstring(helpers["leaky_relu"]).startswith("leaky_relu(1/10): ")
    assert "a1 = leaky_relu(z1)" in generated.source
    assert "a2 = leaky_relu_1_5(z2)" in generated.source
    assert_verified(module)


def test_the_header_says_the_layout_does_not_change_the_code():
    numerator = generate_numpy(derivation(derive.mlp([2, 3, 1], layout="numerator")),
                               check=False).source
    denominator = generate_numpy(derivation(derive.mlp([2, 3, 1], layout="denominator")),
                                 check=False).source
    assert ("Layout      gradients in the shape of their parameter (denominator); the "
            "derivation's numerator layout (--layout) changes its printed equations only, "
            "not the code") in numerator
    assert "Layout      gradients in the shape of their parameter (denominator)\n" in denominator
    differing = [(a, b) for a, b in zip(numerator.splitlines(), denominator.splitlines())
                 if a != b]
    assert len(differing) == 1 and differing[0][0].startswith("Layout")


# --- what a new user found: input checks, targets off their domain, relu'(0) ---------------

PUBLIC = ("forward", "loss", "gradients", "sgd_step", "momentum_step", "adam_step")


def _call(module, function, params, X, Y):
    if function == "forward":
        return module.forward(params, X)
    if function in ("sgd_step", "momentum_step", "adam_step"):
        return getattr(module, function)(params, X, Y, 0.1)
    return getattr(module, function)(params, X, Y)


@pytest.fixture(scope="module")
def classifiers():
    """A bce module (n_L = 1) and a cross-entropy one (n_L = 3), with a valid point each."""
    out = {}
    for loss, activations, sizes in (("bce", ["relu", "sigmoid"], [2, 3, 1]),
                                     ("cross_entropy", ["relu", "softmax"], [2, 3, 3])):
        net, _, module = build(sizes, activations, loss)
        out[loss] = (module, *draw_point(module, net, seed=2))
    return out


@pytest.mark.parametrize("function", PUBLIC)
@pytest.mark.parametrize("loss", ["bce", "cross_entropy"])
def test_every_public_function_checks_the_shapes_of_X_and_Y(classifiers, loss, function):
    module, params, X, Y = classifiers[loss]
    _call(module, function, params, X, Y)                       # the valid point passes
    labels = np.zeros(BATCH, dtype=int)                          # integer labels, shape (N,)
    wrong = {"X 1-D": (X[0], Y), "X transposed": (X.T, Y), "no samples": (X[:, :0], Y[:, :0]),
             "Y labels of shape (N,)": (X, labels), "Y transposed": (X, Y.T),
             "Y of another N": (X, Y[:, :-1])}
    for case, (x, y) in wrong.items():
        if function == "forward" and case.startswith("Y"):
            continue
        with pytest.raises(ValueError, match="samples are columns: X is n_0 x N") as error:
            _call(module, function, params, x, y)
        text = str(error.value)
        assert str(np.shape(x if case.startswith("X") or case == "no samples" else y)) in text
    with pytest.raises(ValueError, match="samples are columns") as error:
        _call(module, "gradients", params, X, labels)
    hint = "Y.reshape(1, -1)" if loss == "bce" else "one-hot columns are np.eye(3)[:, labels]"
    assert hint in str(error.value)


@pytest.mark.parametrize("function", PUBLIC)
def test_non_finite_inputs_raise_instead_of_training_into_nan(classifiers, function):
    module, params, X, Y = classifiers["cross_entropy"]
    for name, value in (("X", np.nan), ("Y", np.inf)):
        x, y = X.copy(), Y.copy()
        (x if name == "X" else y)[0, 1] = value
        if function == "forward" and name == "Y":
            continue
        with pytest.raises(ValueError, match=f"{name} has 1 nan or inf entries"):
            _call(module, function, params, x, y)


@pytest.mark.parametrize("loss,activations,valid,invalid,fragment", [
    ("bce", ("tanh", "sigmoid"), [[0.0, 1.0, 0.25]], [[0.0, 2.0, 1.0]],
     r"bce targets are entries in \[0, 1\].*\[0, 2\]"),
    ("logistic", ("tanh", "identity"), [[1.0, -1.0, 1.0]], [[1.0, 0.0, 1.0]],
     r"logistic targets are entries ±1; Y has 1 other entries \(labels 0/1\? 2 \* Y - 1"),
    ("hinge", ("relu", "identity"), [[-1.0, -1.0, 1.0]], [[0.5, -1.0, 1.0]],
     r"hinge targets are entries ±1; Y has 1 other entries$"),
])
def test_targets_outside_the_losses_domain_raise(loss, activations, valid, invalid, fragment):
    net, generated, module = build([2, 3, 1], activations, loss)
    params, X, _ = draw_point(module, net, seed=3, batch=3)
    for function in PUBLIC[1:]:
        _call(module, function, params, X, np.array(valid))
        with pytest.raises(ValueError, match=fragment):
            _call(module, function, params, X, np.array(invalid))
    header = ast.get_docstring(ast.parse(generated.source))
    assert f"{loss} targets are {TARGET_DOMAINS[net.loss.targets].description};" in \
        " ".join(header.split())


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_bce_target_check_is_exact_at_the_ends_of_0_1(dtype):
    """The one-pass test (Y's bit patterns as unsigned integers) and its exact fallback agree
    with 0 <= y <= 1 at the edges: -0.0, the smallest subnormal, the floats next to 0 and 1."""
    net, _, module = build([2, 3, 1], ["tanh", "sigmoid"], "bce", dtype=dtype)
    params, X, _ = draw_point(module, net, seed=5, batch=1)
    kind = np.dtype(dtype).type
    tiny = np.nextafter(kind(0), kind(1))
    for value in (0.0, -0.0, 1.0, 0.5, tiny, np.nextafter(kind(1), kind(0))):
        module.gradients(params, X, np.array([[value]], dtype=dtype))
    for value in (np.nextafter(kind(1), kind(2)), -tiny, -1.0, 2.0):
        with pytest.raises(ValueError, match=r"bce targets are entries in \[0, 1\]"):
            module.gradients(params, X, np.array([[value]], dtype=dtype))
    for value in (np.nan, np.inf, -np.inf):
        with pytest.raises(ValueError, match="Y has 1 nan or inf entries"):
            module.gradients(params, X, np.array([[value]], dtype=dtype))


def _general_signal(yhat, Y):
    """∂(-Σ y log softmax)/∂z for any Y: softmax(z) Σ_k y_k - y, column by column."""
    return yhat * Y.sum(axis=0, keepdims=True) - Y


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_cross_entropy_off_the_simplex_uses_the_general_output_signal(convention):
    """Columns of Y summing to 1 (one-hot, label smoothing) give the fused a - y; any other Y
    (counts, unnormalised weights) the softmax Jacobian applied to l': both are the gradient."""
    net, generated, module = build([2, 3, 3], ["tanh", "softmax"], "cross_entropy", convention,
                                   notation="cs229")
    params, X, _ = draw_point(module, net, seed=4)
    rng = np.random.default_rng(4)
    smoothed = 0.9 * np.eye(3)[:, rng.integers(0, 3, BATCH)] + 0.1 / 3
    counts = rng.integers(0, 4, size=(3, BATCH)).astype(float)
    counts[0, 0] = 5.0                                   # no column of zeros
    for Y in (smoothed, counts, 2.5 * smoothed):
        report = assert_verified(module, params=params, X=X, Y=Y)
        assert report.status == "verified"
        yhat, cache = module.forward(params, X)
        grads = module.gradients(params, X, Y)
        bias = grads["W2"][:, :1] if convention == "augmented" else grads["b2"]
        np.testing.assert_allclose(bias, _general_signal(yhat, Y).mean(axis=1, keepdims=True),
                                   rtol=1e-12, atol=1e-15)
    doc = module.gradients.__doc__
    assert "delta2 is a2 - Y (eq. 8) when every column of Y sums to 1" in " ".join(doc.split())
    assert "for any other Y it is the general form" in " ".join(doc.split())
    header = ast.get_docstring(ast.parse(generated.source))
    assert "at targets whose columns do not sum to 1 too: max rel err" in header
    assert "SUM_TOL = 12 * np.finfo(DTYPE).eps" in generated.source


def test_label_smoothing_in_float32_is_on_the_simplex_within_sum_tol():
    _, generated, module = build([2, 3, 4], ["tanh", "softmax"], "cross_entropy",
                                 dtype="float32")
    params = module.init_params(np.random.default_rng(0))
    X = np.random.default_rng(1).standard_normal((2, 6))
    Y = (0.9 * np.eye(4)[:, [0, 1, 2, 3, 0, 1]] + 0.025).astype(np.float32)
    off = np.abs(Y.sum(axis=0) - 1).max()
    assert 0 < off <= module.SUM_TOL                     # rounded: not exactly 1 in float32
    assert module.SUM_TOL == 16 * np.finfo(np.float32).eps
    grads = module.gradients(params, X, Y)
    yhat = module.forward(params, X)[0]
    np.testing.assert_allclose(grads["b2"], (yhat - Y).sum(axis=1, keepdims=True) / 6,
                               rtol=1e-6, atol=1e-7)


def _relu_at_its_kink():
    """1-1-1, relu then identity, mse: z1 = 0.5 * 1 - 0.5 = 0 exactly for the first sample."""
    net, generated, module = build([1, 1, 1], ["relu", "identity"], "mse")
    params = {"W1": np.array([[0.5]]), "b1": np.array([[-0.5]]), "W2": np.array([[2.0]]),
              "b2": np.array([[0.25]])}
    X, Y = np.array([[1.0, 3.0]]), np.array([[1.0, -1.0]])
    return net, generated, module, params, X, Y


def test_relu_derivative_at_zero_is_pytorchs_zero():
    """relu'(0) = 0 as torch.relu's backward gives it: the rule, by hand, at z1 = 0 exactly."""
    assert ACTIVATIONS.get("relu").derivative_at(sp.Integer(0)) == 0
    net, generated, module, params, X, Y = _relu_at_its_kink()
    z1 = module.forward(params, X)[1]["z1"]
    assert z1[0, 0] == 0.0 and z1[0, 1] > 0
    grads = module.gradients(params, X, Y)
    # By hand: delta2 = (W2 relu(z1) + b2 - y) / N per sample; delta1 = W2 delta2 relu'(z1),
    # with relu'(0) = 0 for sample 1 and relu'(1) = 1 for sample 2.
    a1 = np.maximum(z1, 0)
    delta2 = params["W2"] @ a1 + params["b2"] - Y
    delta1 = params["W2"].T @ delta2 * np.array([[0.0, 1.0]])
    np.testing.assert_allclose(grads["b1"], delta1.sum(axis=1, keepdims=True) / 2, rtol=1e-15)
    np.testing.assert_allclose(grads["W1"], delta1 @ X.T / 2, rtol=1e-15)
    assert grads["b1"][0, 0] == pytest.approx(2.0 * (2.0 * 1.0 + 0.25 + 1.0) / 2)  # sample 2 only
    header = ast.get_docstring(ast.parse(generated.source))
    assert "Kinks       relu'(0) = 0 (the mask z > 0, as in PyTorch)" in header
    assert "(z1 > 0.0).astype(DTYPE)" in generated.source and ">= 0" not in generated.source


def test_verify_reports_no_failure_at_an_exact_relu_kink():
    _, _, module, params, X, Y = _relu_at_its_kink()
    for mode in ("full", "directional"):
        report = verify.check_gradients(module, params, X, Y, mode=mode, seed=0)
        assert report.status == "verified", report.to_text()


# --- optimisers (the Mines course's; momentum also as torch.optim.SGD) -------------------------

def _linear_model():
    """1-1 identity network with mse: E = (1/2N) Σ (w x + b − y)², gradient in closed form."""
    _, _, module = build([1, 1], ["identity"], "mse", "rows")
    X = np.array([[1.0, 2.0, -1.0]])
    Y = np.array([[0.0, 1.0, 0.5]])

    def gradient(w, b):
        r = w * X[0] + b - Y[0]
        return float(np.mean(r * X[0])), float(np.mean(r))

    return module, X, Y, gradient


def _params(w, b):
    return {"W1": np.array([[w]]), "b1": np.array([[b]])}


def test_sgd_step_is_theta_minus_lr_grad():
    module, X, Y, gradient = _linear_model()
    gw, gb = gradient(0.5, -0.25)
    new = module.sgd_step(_params(0.5, -0.25), X, Y, lr=0.1)
    assert new["W1"][0, 0] == pytest.approx(0.5 - 0.1 * gw, abs=1e-15)
    assert new["b1"][0, 0] == pytest.approx(-0.25 - 0.1 * gb, abs=1e-15)
    # by hand: r = w x + b - y = (0.25, -0.25, -1.25), g_w = (0.25 - 0.5 + 1.25)/3 = 1/3,
    # g_b = (0.25 - 0.25 - 1.25)/3 = -5/12
    assert (gw, gb) == pytest.approx((1 / 3, -5 / 12), abs=1e-15)


@pytest.mark.parametrize("form", ["heavy_ball", "ema"])
def test_momentum_follows_its_update_rule_over_three_steps(form):
    """heavy_ball: v <- beta v + g, theta <- theta - lr v (torch.optim.SGD(momentum=beta), no
    dampening); ema: m <- beta m + (1 - beta) g, theta <- theta - lr m (the Mines course)."""
    module, X, Y, gradient = _linear_model()
    beta, lr = 0.8, 0.05
    w, b, v = 0.5, -0.25, (0.0, 0.0)
    params, state = _params(w, b), None
    for _ in range(3):
        gw, gb = gradient(w, b)
        scale = 1.0 if form == "heavy_ball" else 1 - beta
        v = (beta * v[0] + scale * gw, beta * v[1] + scale * gb)             # v(t+1)
        w, b = w - lr * v[0], b - lr * v[1]                                  # theta(t+1)
        params, state = module.momentum_step(params, X, Y, lr, state=state, beta=beta,
                                             form=form)
        assert (params["W1"][0, 0], params["b1"][0, 0]) == pytest.approx((w, b), abs=1e-15)
        assert (state["W1"][0, 0], state["b1"][0, 0]) == pytest.approx(v, abs=1e-15)


def test_momentum_defaults_to_heavy_ball_and_names_its_forms():
    module, X, Y, gradient = _linear_model()
    gw, _ = gradient(0.5, -0.25)
    first, _ = module.momentum_step(_params(0.5, -0.25), X, Y, 0.1)
    assert first["W1"][0, 0] == pytest.approx(0.5 - 0.1 * gw, abs=1e-15)   # v = g at step 1
    ema, _ = module.momentum_step(_params(0.5, -0.25), X, Y, 0.1, form="ema")
    assert ema["W1"][0, 0] == pytest.approx(0.5 - 0.1 * 0.1 * gw, abs=1e-15)  # (1 - beta) g
    with pytest.raises(ValueError, match="heavy_ball, ema"):
        module.momentum_step(_params(0.5, -0.25), X, Y, 0.1, form="nesterov")
    doc = module.momentum_step.__doc__
    assert "v <- beta * v + grad" in doc and "m <- beta * m + (1 - beta) * grad" in doc
    assert 'form="heavy_ball" (the default)' in doc and "torch.optim.SGD" in doc


def test_adam_follows_its_update_rule_with_bias_correction_over_three_steps():
    module, X, Y, gradient = _linear_model()
    beta1, beta2, eps, lr = 0.9, 0.99, 1e-8, 0.01
    w, b = 0.5, -0.25
    m, v = [0.0, 0.0], [0.0, 0.0]
    params, state = _params(w, b), None
    for t in (1, 2, 3):
        g = gradient(w, b)
        new = []
        for i, theta in enumerate((w, b)):
            m[i] = beta1 * m[i] + (1 - beta1) * g[i]
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] ** 2
            m_hat, v_hat = m[i] / (1 - beta1 ** t), v[i] / (1 - beta2 ** t)
            new.append(theta - lr * m_hat / (np.sqrt(v_hat) + eps))
        w, b = new
        params, state = module.adam_step(params, X, Y, lr, state=state, beta1=beta1,
                                         beta2=beta2, eps=eps)
        assert state["t"] == t
        assert (params["W1"][0, 0], params["b1"][0, 0]) == pytest.approx((w, b), abs=1e-15)
    # The first step of Adam moves every parameter by lr (bias correction makes m̂/√v̂ = ±1).
    first, _ = module.adam_step(_params(0.5, -0.25), X, Y, 0.01)
    assert first["W1"][0, 0] == pytest.approx(0.5 - 0.01, abs=1e-9)
    assert first["b1"][0, 0] == pytest.approx(-0.25 + 0.01, abs=1e-9)


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_training_reduces_the_loss_on_a_separable_problem(convention):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((2, 40))
    Y = (X[0:1] + 0.5 * X[1:2] > 0).astype(float)
    _, _, module = build([2, 4, 1], ["tanh", "sigmoid"], "bce", convention)
    start = module.init_params(rng)
    initial = module.loss(start, X, Y)
    params = start
    for _ in range(300):
        params = module.sgd_step(params, X, Y, lr=0.5)
    assert module.loss(params, X, Y) < 0.5 * initial
    params, state = start, None
    for _ in range(300):
        params, state = module.adam_step(params, X, Y, 0.05, state=state)
    final = module.loss(params, X, Y)
    assert final < 0.25 * initial
    assert np.mean((module.forward(params, X)[0] > 0.5) == (Y == 1)) >= 0.95


# --- parameters ---------------------------------------------------------------------------------

@pytest.mark.parametrize("convention", CONVENTIONS)
def test_param_shapes_and_xavier_init_follow_spec_6_and_cs229(convention):
    sizes = [40, 60, 30]
    _, _, module = build(sizes, ["tanh", "identity"], "mse", convention)
    expected = {"rows": lambda m, n: (n, m), "columns": lambda m, n: (m, n),
                "augmented": lambda m, n: (n, 1 + m)}[convention]
    shapes = {}
    for layer in (1, 2):
        shapes[f"W{layer}"] = expected(sizes[layer - 1], sizes[layer])
        if convention != "augmented":
            shapes[f"b{layer}"] = (sizes[layer], 1)
    assert module.PARAM_SHAPES == shapes and list(module.PARAM_SHAPES) == list(shapes)
    assert module.SIZES == tuple(sizes)
    params = module.init_params(np.random.default_rng(0))
    assert {k: v.shape for k, v in params.items()} == shapes
    for layer in (1, 2):
        W = params[f"W{layer}"]
        if convention == "augmented":
            assert np.all(W[:, 0] == 0)                     # the bias column starts at zero
            W = W[:, 1:]
        else:
            assert np.all(params[f"b{layer}"] == 0)
        std = np.sqrt(2.0 / (sizes[layer] + sizes[layer - 1]))   # CS229: N(0, √(2/(n_l+n_l-1)))
        # The sample std of n normals is within 5·std/√(2n) of std with overwhelming probability.
        assert abs(W.std() - std) < 5 * std / np.sqrt(2 * W.size)
        assert abs(W.mean()) < 5 * std / np.sqrt(W.size)
    again = module.init_params(np.random.default_rng(0))
    assert all(np.array_equal(again[k], params[k]) for k in params)
    assert all(np.array_equal(module.init_params(3)[k], module.init_params(3)[k])
               for k in params)


# --- the command line: verify code, the generated test file, bad input ------------------------

def _derive(capsys, *argv):
    try:
        status = run_commands("python -m derive", "", DERIVE_COMMANDS, ["mlp", *map(str, argv)])
    except SystemExit as exc:                        # argparse's own errors
        status = exc.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


SAMPLES = {
    "rows_tanh_ce": ["--sizes", "3,5,2", "--activations", "tanh,softmax", "--loss",
                     "cross_entropy", "--notation", "cs229"],
    "columns_relu_bce": ["--sizes", "2,4,1", "--activations", "relu,sigmoid", "--loss", "bce",
                         "--convention", "columns"],
    "augmented_lrelu_huber": ["--sizes", "3,3,2", "--activations", "leaky_relu,identity",
                              "--loss", "huber", "--convention", "augmented", "--notation",
                              "mines"],
    "f32_softplus_hinge": ["--sizes", "2,3,1", "--activations", "softplus,identity", "--loss",
                           "hinge", "--dtype", "float32"],
}


def test_a_sample_passes_verify_code_and_its_own_test_file(tmp_path, capsys):
    spec = tmp_path / "swish.toml"
    spec.write_text(SPEC_TEMPLATE.format(name="swish", convention="columns"))
    samples = {**SAMPLES, "custom_swish": [str(spec)]}
    for name, argv in samples.items():
        status, _, err = _derive(capsys, *argv, "--emit", "numpy", "-o", tmp_path / f"{name}.py")
        assert status == 0, err
        assert (tmp_path / f"test_{name}.py").is_file()
        status = run_commands("python -m verify", "", VERIFY_COMMANDS,
                              ["code", str(tmp_path / f"{name}.py")])
        out = capsys.readouterr().out
        assert status == 0 and "VERIFIED" in out, out
    process = subprocess.run([sys.executable, "-m", "verify", "code",
                              str(tmp_path / "f32_softplus_hinge.py")], capture_output=True,
                             text=True, cwd=ROOT, timeout=120)
    assert process.returncode == 0 and "float32" in process.stdout, process.stdout
    tests = sorted(str(p) for p in tmp_path.glob("test_*.py"))
    process = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                              *tests], capture_output=True, text=True, cwd=tmp_path,
                             timeout=300)
    assert process.returncode == 0, process.stdout + process.stderr
    assert f"{2 * len(samples)} passed" in process.stdout


def test_regenerating_over_its_own_files_is_allowed(tmp_path, capsys):
    for _ in range(2):
        status, _, err = _derive(capsys, "--emit", "numpy", "-o", tmp_path / "mlp.py")
        assert status == 0, err


@pytest.mark.parametrize("case,argv,fragment", [
    ("symbolic sizes", ["--sizes", "n_0,n_1,n_2"], "integer sizes"),
    ("symbolic depth", ["--depth", "L", "--activations", "relu,sigmoid"], "integer sizes"),
    ("bad dtype", ["--dtype", "float16"], "--dtype"),
    ("not a module path", ["-o", "{tmp}/net.txt"], "-o"),
    ("missing directory", ["-o", "{tmp}/no/such/dir/net.py"], "does not exist"),
    ("foreign module", ["-o", "{tmp}/foreign.py"], "not generated by symbackprop"),
    ("foreign test file", ["-o", "{tmp}/guarded.py"], "not generated by symbackprop"),
])
def test_bad_input_exits_2_and_writes_nothing(tmp_path, capsys, case, argv, fragment):
    foreign = {"foreign.py": "x = 1\n", "test_guarded.py": "def test_mine():\n    pass\n"}
    for name, text in foreign.items():
        (tmp_path / name).write_text(text)
    before = {p.name: p.read_bytes() for p in tmp_path.rglob("*")}
    argv = [a.format(tmp=tmp_path) for a in argv]
    if "-o" not in argv:
        argv += ["-o", str(tmp_path / "net.py")]
    status, out, err = _derive(capsys, *argv, "--emit", "numpy")
    assert status == 2, (case, err)
    assert fragment in err and "Traceback" not in err, err
    assert err.strip().splitlines()[-1].startswith("python -m derive mlp: error:")
    assert {p.name: p.read_bytes() for p in tmp_path.rglob("*")} == before   # nothing written


def test_bad_input_to_the_python_api():
    net = derive.mlp([2, 3, 1])
    with pytest.raises(BadInput, match="float16"):
        generate_numpy(derivation(net), dtype="float16")
    with pytest.raises(BadInput, match="identifier"):
        generate_numpy(derivation(net), name="not-a-name")
    with pytest.raises(BadInput, match="integer sizes"):
        generate_numpy(derivation(derive.load_spec({"network": {"sizes": ["n_0", "n_1"]}})))
    with pytest.raises(BadInput, match=r"derive the network first.*derive\.backprop"):
        generate_numpy(net)                         # the generator prints derivations


def test_any_derivation_of_a_network_is_printed_from_its_batch_form():
    """A per-neuron or per-sample derivation gives the module of its batch matrix form; the
    header keeps the check of the derivation given."""
    net = derive.mlp([2, 3, 1], activations=["tanh", "sigmoid"], loss="bce")
    def code(source):
        return [line for line in source.splitlines() if not line.startswith("Derivation  ")]

    printed = generate_numpy(derivation(net), check=False).source
    for given in (derive.backprop(net, layout="denominator"),
                  derive.backprop(net, form="matrix", layout="denominator")):
        source = generate_numpy(given, check=False).source
        assert code(source) == code(printed)
        assert f"Derivation  checked: {check_text(given.check)}" in source
    graph = derive.derive_graph(derive.load_graph(ROOT / "examples" / "graph_chain_rule.toml"))
    with pytest.raises(BadInput, match="no batch matrix form"):
        generate_numpy(graph)


def test_bad_input_process_has_no_traceback(tmp_path):
    target = tmp_path / "foreign.py"
    target.write_text("precious = True\n")
    result = subprocess.run([sys.executable, "-m", "derive", "mlp", "--emit", "numpy", "-o",
                             str(target)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert target.read_text() == "precious = True\n"
    assert not (tmp_path / "test_foreign.py").exists()

