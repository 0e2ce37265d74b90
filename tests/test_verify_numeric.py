"""The finite-difference verifier (SPEC §7, issue 4 item 3) on hand-written gradient modules.

The truth the verifier is held to comes from outside it: the hand-written modules in
``tests/handwritten_modules`` are correct by construction (each gradient formula written from the
mathematics, independently of ``derive``), and every faulty variant is that same source with one
line edited — so for a mismatch the expected analytic value is the faulty module's gradient and
the expected numeric value is the correct module's gradient, entry by entry.  Kinks are placed
on purpose (pre-activations exactly 0, ŷ = y, y·ŷ = 1, |ŷ − y| = δ, tied maxout pieces).
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import numpy as np
import pytest

import derive
import verify
from derive.codegen import generate_numpy, load_source
from verify.numeric import DIRECTIONS, FRESH_POINTS
from verify.steps import RTOL

MODULES = Path(__file__).parent / "handwritten_modules"
SMOOTH = ("sigmoid_bce_rows", "tanh_mse_columns", "relu_softmax_ce", "augmented_sum",
          "any_size_mlp")
KINKED = ("relu_l1", "step_sigmoid_mse", "relu_hinge", "tanh_huber", "maxout_mse")
MODES = ("full", "directional")


def _module(name):
    return importlib.import_module(f"tests.handwritten_modules.{name}")


def _mutant(tmp_path, name, old, new):
    """The module's source with the one line holding ``old`` edited to hold ``new``."""
    source = (MODULES / f"{name}.py").read_text()
    assert source.count(old) == 1, f"{old!r} must occur once in {name}.py"
    path = tmp_path / f"{name}_mutant.py"
    path.write_text(source.replace(old, new))
    return path


def _failing(report):
    return {row.name for row in report.rows if row.failed}


def _point(report):
    return report.point["params"], report.point["X"], report.point["Y"]


# --- correct modules ------------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", SMOOTH + KINKED + ("float32_tanh_mse",))
def test_correct_modules_are_verified(name, mode):
    module = _module(name)
    for seed in range(4):
        report = verify.check_gradients(module, mode=mode, seed=seed)
        assert report.status == "verified", report.to_text()
        assert report.ok and not report.failures
        assert [(row.name, row.shape) for row in report.rows] == \
            list(module.PARAM_SHAPES.items())
        for row in report.rows:
            assert row.checked == (row.size if mode == "full" else DIRECTIONS)
            assert row.max_rel_error <= report.thresholds["rtol"]


def test_the_drawn_point_is_used_and_given_points_are_kept():
    module = _module("sigmoid_bce_rows")
    report = verify.check_gradients(module, seed=5)
    params, X, Y = _point(report)
    assert X.shape == (2, 5) and Y.shape == (1, 5)
    assert set(np.unique(Y)) <= {0.0, 1.0}                  # binary targets, inferred
    rng = np.random.default_rng(11)
    given = module.init_params(rng)
    X2, Y2 = rng.standard_normal((2, 7)), rng.integers(0, 2, (1, 7)).astype(float)
    report = verify.check_gradients(module, given, X2, Y2)
    params, X, Y = _point(report)
    assert all(np.array_equal(params[k], given[k]) for k in given)
    assert np.array_equal(X, X2) and np.array_equal(Y, Y2)
    assert report.point["origin"] == "params given"


def test_targets_follow_the_loss():
    softmax = verify.check_gradients(_module("relu_softmax_ce"), seed=2)
    Y = softmax.point["Y"]
    assert np.array_equal(np.sort(Y, axis=0)[-1], np.ones(Y.shape[1]))   # one-hot columns
    assert np.array_equal(Y.sum(axis=0), np.ones(Y.shape[1]))
    hinge = verify.check_gradients(_module("relu_hinge"), seed=2)       # TARGETS = "sign"
    assert set(np.unique(hinge.point["Y"])) <= {-1.0, 1.0}


def test_a_file_path_and_the_imported_module_give_the_same_report():
    by_path = verify.check_gradients(MODULES / "tanh_mse_columns.py", seed=3)
    by_str = verify.check_gradients(str(MODULES / "tanh_mse_columns.py"), seed=3)
    imported = verify.check_gradients(_module("tanh_mse_columns"), seed=3)
    assert by_path.as_dict() == imported.as_dict() == by_str.as_dict()
    assert by_path.name == "tanh_mse_columns.py"


def test_a_pair_of_functions_and_a_dict_are_checked():
    module = _module("augmented_sum")
    rng = np.random.default_rng(0)
    params, X = module.init_params(rng), rng.standard_normal((2, 4))
    Y = rng.uniform(size=(2, 4))
    pair = verify.check_gradients((module.loss, module.gradients), params, X, Y)
    table = verify.check_gradients({"loss": module.loss, "gradients": module.gradients},
                                   params, X, Y)
    assert pair.status == table.status == "verified"


# --- faulty modules: which tensor, which entries, analytic vs numeric ------------------------

MUTANTS = [
    # (id, module, line text, edited text, tensors that must fail)
    ("missing_1_over_N", "sigmoid_bce_rows", "D2 = (Yhat - Y) / N", "D2 = (Yhat - Y)",
     {"W1", "b1", "W2", "b2"}),
    ("sign_flip", "sigmoid_bce_rows", "D2 = (Yhat - Y) / N", "D2 = (Y - Yhat) / N",
     {"W1", "b1", "W2", "b2"}),
    ("missing_activation_derivative", "tanh_mse_columns",
     'D1 = (params["W2"] @ D2) * (1 - cache["A1"] ** 2)', 'D1 = params["W2"] @ D2',
     {"W1", "b1"}),
    ("bias_not_summed_over_batch", "tanh_mse_columns",
     "db1 = D1.sum(axis=1, keepdims=True)", "db1 = D1[:, :1]", {"b1"}),
    ("dropped_transpose_backprop", "relu_softmax_ce", 'D1 = (params["W2"].T @ D2)',
     'D1 = (params["W2"] @ D2)', {"W1", "b1"}),
    ("dropped_transpose_weight_gradient", "relu_softmax_ce", 'dW2 = D2 @ cache["A1"].T',
     'dW2 = cache["A1"] @ D2.T', {"W2"}),
    ("missing_factor_2", "augmented_sum", "E2 = 2 * (Yhat - Y)", "E2 = (Yhat - Y)",
     {"W1", "W2"}),
    ("bias_column_not_dropped", "augmented_sum", 'params["W2"][:, 1:].T',
     'params["W2"][:, :-1].T', {"W1"}),
    ("l1_sign_flip", "relu_l1", "np.sign(Yhat - Y)", "np.sign(Y - Yhat)",
     {"W1", "b1", "W2", "b2"}),
    ("hinge_missing_relu_derivative", "relu_hinge",
     'D1 = (params["W2"].T @ D2) * (cache["Z1"] > 0)', 'D1 = params["W2"].T @ D2',
     {"W1", "b1"}),
    ("maxout_wrong_piece", "maxout_mse", 'DA1 * (cache["winner"] == 0), DA1 * (cache["winner"] == 1)',
     'DA1 * (cache["winner"] == 1), DA1 * (cache["winner"] == 0)', {"W1", "b1"}),
    ("float32_missing_1_over_N", "float32_tanh_mse", "D2 = (Yhat - Y) / DTYPE(N)",
     "D2 = (Yhat - Y)", {"W1", "b1", "W2", "b2"}),
]


def _mutant_reports(mutant, tmp_path, mode, seeds=range(3)):
    """(report, true gradients, faulty gradients at the report's point) per seed, after
    checking that the report is a mismatch in exactly the expected tensors."""
    _, name, old, new, expected = mutant
    path = _mutant(tmp_path, name, old, new)
    correct, faulty = _module(name), verify.load_module(path)
    for seed in seeds:
        report = verify.check_gradients(path, mode=mode, seed=seed)
        assert report.status == "mismatch", report.to_text()
        assert _failing(report) == expected
        params, X, Y = _point(report)
        yield report, correct.gradients(params, X, Y), faulty.gradients(params, X, Y)


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m[0] for m in MUTANTS])
def test_faulty_module_is_a_mismatch_naming_tensors_entries_and_values(mutant, tmp_path):
    name = mutant[1]
    for report, truth, claimed in _mutant_reports(mutant, tmp_path, "full"):
        text = report.to_text()
        assert "MISMATCH" in text
        for failure in report.failures:
            assert isinstance(failure.entry, tuple) and failure.redraw == 0
            index = failure.entry
            # analytic = the faulty module's gradient; numeric = the true derivative.
            assert failure.analytic == pytest.approx(float(claimed[failure.tensor][index]),
                                                     rel=1e-6, abs=1e-7)
            tolerance = 2e-3 if name.startswith("float32") else 1e-6
            assert failure.numeric == pytest.approx(float(truth[failure.tensor][index]),
                                                    rel=tolerance, abs=tolerance)
            assert abs(failure.analytic - failure.numeric) > report.thresholds["rtol"] * \
                max(abs(failure.analytic), abs(failure.numeric))
            assert failure.label() in text
            assert f"analytic {failure.analytic:.10g}, numeric {failure.numeric:.10g}" in text
        # every listed entry is wrong, and the count covers all the wrong ones
        for row in report.rows:
            wrong = ~np.isclose(claimed[row.name], truth[row.name], rtol=1e-3, atol=1e-6)
            assert row.failed == int(wrong.sum()), row.name


def test_a_dropped_transpose_of_a_square_weight_gradient_spares_its_diagonal(tmp_path):
    path = _mutant(tmp_path, "relu_softmax_ce", 'dW2 = D2 @ cache["A1"].T',
                   'dW2 = cache["A1"] @ D2.T')
    report = verify.check_gradients(path, mode="full", seed=0)
    entries = [f.entry for f in report.failures if f.tensor == "W2"]
    assert entries and all(i != j for i, j in entries)


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m[0] for m in MUTANTS])
def test_faulty_module_is_a_mismatch_in_directional_mode_localised_to_an_entry(mutant,
                                                                               tmp_path):
    for report, truth, claimed in _mutant_reports(mutant, tmp_path, "directional"):
        for tensor in mutant[4]:
            along = [f for f in report.failures if f.tensor == tensor and f.direction is not None]
            assert along and all(f.entry.startswith("direction ") for f in along)
            for failure in along:          # gᵀu of the faulty module vs the true gᵀu
                u = failure.direction
                assert failure.analytic == pytest.approx(float(np.sum(claimed[tensor] * u)),
                                                         rel=1e-6, abs=1e-7)
                assert failure.numeric == pytest.approx(float(np.sum(truth[tensor] * u)),
                                                        rel=2e-3, abs=2e-3)
            found = [f for f in report.failures if f.tensor == tensor and f.localised_by]
            assert len(found) == 1 and found[0].localised_by.startswith("bisection")
            index = found[0].entry
            assert not np.isclose(claimed[tensor][index], truth[tensor][index], rtol=1e-3)
            assert found[0].analytic == pytest.approx(float(claimed[tensor][index]), rel=1e-6)
            assert found[0].numeric == pytest.approx(float(truth[tensor][index]), rel=2e-3,
                                                     abs=1e-5)


def test_small_errors_are_caught_in_float64_and_rounding_is_not(tmp_path):
    # A gradient 1e-4 too large everywhere is a mismatch at rtol 1e-6 ...
    path = _mutant(tmp_path, "tanh_mse_columns", "D2 = (Yhat - Y) * (1 - Yhat ** 2) / N",
                   "D2 = (Yhat - Y) * (1 - Yhat ** 2) / N * (1 + 1e-4)")
    assert verify.check_gradients(path, seed=0).status == "mismatch"
    # ... one 1e-9 too large is within the stated threshold.
    path = _mutant(tmp_path, "tanh_mse_columns", "D2 = (Yhat - Y) * (1 - Yhat ** 2) / N",
                   "D2 = (Yhat - Y) * (1 - Yhat ** 2) / N * (1 + 1e-9)")
    assert verify.check_gradients(path, seed=0).status == "verified"


# --- kinks -------------------------------------------------------------------------------------

def _relu_kinks(module, seed, n_in):
    """Params and X with pre-activations exactly 0 (sample 0, units 0-1), 0 up to rounding
    (sample 1, unit 2) and 1e-7 from 0 (sample 2, unit 3)."""
    rng = np.random.default_rng(seed)
    params = module.init_params(rng)
    X = rng.standard_normal((n_in, 6))
    X[:, 0] = 0.0
    params["b1"][:2] = 0.0
    params["b1"][2, 0] = -(params["W1"][2] @ X[:, 1])
    params["b1"][3, 0] = -(params["W1"][3] @ X[:, 2]) + 1e-7
    return params, X, rng


def _kinked_point(name, seed):
    module = _module(name)
    if name == "relu_l1":
        params, X, rng = _relu_kinks(module, seed, 3)
        Y = module.forward(params, X)[0].copy()              # ŷ == y exactly on samples 0-2
        Y[:, 3:] += rng.standard_normal((2, 3))
    elif name == "relu_hinge":
        params, X, rng = _relu_kinks(module, seed, 2)
        Y = rng.choice([-1.0, 1.0], size=(1, 6))
        A1 = np.maximum(params["W1"] @ X + params["b1"], 0.0)
        params["b2"][0, 0] = Y[0, 4] - params["W2"][0] @ A1[:, 4]      # y·ŷ = 1 at sample 4
    elif name == "tanh_huber":
        rng = np.random.default_rng(seed)
        params, X = module.init_params(rng), rng.standard_normal((3, 6))
        Yhat = module.forward(params, X)[0]
        Y = Yhat + rng.choice([-1.0, 1.0], size=Yhat.shape) * module.DELTA  # |r| = δ everywhere
    elif name == "maxout_mse":
        rng = np.random.default_rng(seed)
        params, X = module.init_params(rng), rng.standard_normal((3, 6))
        params["W1"][4:6] = params["W1"][0:2]                  # pieces tied for units 0, 1
        params["b1"][4:6] = params["b1"][0:2]
        Y = rng.standard_normal((2, 6))
    elif name == "step_sigmoid_mse":
        rng = np.random.default_rng(seed)
        params, X = module.init_params(rng), rng.standard_normal((3, 6))
        X[:, 0] = 0.0
        params["b1"][:2] = 0.0                                  # the loss jumps right here
        Y = rng.uniform(size=(1, 6))
    return module, params, X, Y


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", KINKED)
def test_points_at_kinks_never_give_a_false_failure(name, mode):
    redrawn = 0
    for seed in range(20):
        module, params, X, Y = _kinked_point(name, seed)
        report = verify.check_gradients(module, params, X, Y, mode=mode, seed=seed)
        assert report.status == "verified", report.to_text()
        redrawn += sum(row.redrawn for row in report.rows)
        if any(row.redrawn for row in report.rows):
            assert "re-drawn" in report.to_text()
    assert redrawn > 0          # the kinks were met, and handled by re-drawing


@pytest.mark.parametrize("name", ("relu_l1", "step_sigmoid_mse", "tanh_huber", "maxout_mse"))
def test_without_redraws_a_kink_is_reported_as_non_differentiable_here(name):
    # One kind of kink at a time: where kinks of two kinds coincide (relu and hinge, relu and
    # l1) their slope changes can cancel along a coordinate, so that only the re-draw tells the
    # point from a wrong gradient.
    nondiff = 0
    for seed in range(6):
        module, params, X, Y = _kinked_point(name, seed)
        if name == "relu_l1":
            Y = Y + 0.5                                # only the relu kinks
        report = verify.check_gradients(module, params, X, Y, mode="full", redraws=0)
        assert report.status == "verified", report.to_text()
        nondiff += report.nondifferentiable
        if report.nondifferentiable:
            assert "non-differentiable here" in report.to_text()
            assert report.as_dict()["nondifferentiable"] == report.nondifferentiable
    assert nondiff > 0


@pytest.mark.parametrize("mode", MODES)
def test_faults_are_still_caught_at_kinks(mode, tmp_path):
    path = _mutant(tmp_path, "relu_l1", 'D1 = (params["W2"].T @ D2) * (cache["Z1"] > 0)',
                   'D1 = params["W2"].T @ D2')
    faulty = verify.load_module(path)
    for seed in range(10):
        _, params, X, Y = _kinked_point("relu_l1", seed)
        Y = Y + 0.5            # residuals off their kink, so that the l1 signal is not 0
        report = verify.check_gradients(faulty, params, X, Y, mode=mode, seed=seed)
        assert report.status == "mismatch"
        assert _failing(report) <= {"W1", "b1"} and _failing(report)


# --- float32 ------------------------------------------------------------------------------------

FLOAT32_BIAS_BUGS = {
    # a ×2 bug in the gradient of one bias entry, and of the whole bias
    "one_entry": "    grads['b1'] = grads['b1'].copy()\n    grads['b1'][0, 0] *= 2\n",
    "whole_bias": "    grads['b1'] = grads['b1'] * DTYPE(2)\n",
}


def _float32_bias_bug(tmp_path, bug):
    """The wide float32 module with its gradients() wrapped to make the ``bug``."""
    source = (MODULES / "float32_relu_softmax_ce.py").read_text()
    path = tmp_path / f"float32_{bug}.py"
    path.write_text(source + "\n\n_correct_gradients = gradients\n\n\n"
                    "def gradients(params, X, Y):\n"
                    "    grads = _correct_gradients(params, X, Y)\n"
                    + FLOAT32_BIAS_BUGS[bug] + "    return grads\n")
    return path


def test_float32_code_is_checked_against_float64_differences_of_its_twin():
    report = verify.check_gradients(_module("float32_tanh_mse"), seed=1)
    assert report.status == "verified"
    assert report.thresholds["code_precision"] == "float32"
    assert report.thresholds["rtol"] == RTOL[np.dtype(np.float32)] == 1e-4
    text = report.to_text()
    assert "float32 gradients against float64 central differences, rtol = 0.0001" in text
    assert "float64 twin (DTYPE = np.float64)" in text
    assert "does not resolve float64" in text           # the float32 loss itself cannot be used
    assert "eps(float64)^(1/3)" in text                 # the float64 step
    assert _module("float32_tanh_mse").DTYPE is np.float32       # the module is left alone


@pytest.mark.parametrize("mode", MODES)
def test_a_correct_wide_float32_module_passes(mode):
    for seed in range(3):
        report = verify.check_gradients(MODULES / "float32_relu_softmax_ce.py", mode=mode,
                                        seed=seed)
        assert report.status == "verified", report.to_text()
        assert "float64 twin" in report.thresholds["differences"]
        assert all(row.max_rel_error <= 1e-5 for row in report.rows)     # 10x below rtol


@pytest.mark.parametrize("bug", sorted(FLOAT32_BIAS_BUGS))
def test_a_float32_bias_twice_too_large_is_caught_in_full_mode(bug, tmp_path):
    path = _float32_bias_bug(tmp_path, bug)
    correct = _module("float32_relu_softmax_ce")
    for seed in (0, 1):
        report = verify.check_gradients(path, mode="full", seed=seed)
        assert report.status == "mismatch" and _failing(report) == {"b1"}, report.to_text()
        truth = correct.gradients(*_point(report))["b1"].astype(np.float64)
        live = np.flatnonzero(truth.ravel() != 0)      # a dead relu unit's entry stays 0 × 2
        row = next(row for row in report.rows if row.name == "b1")
        assert row.failed == (1 if bug == "one_entry" else live.size)
        for failure in report.failures:
            # numeric = the true derivative, from float64 differences (not float32 ones)
            assert failure.numeric == pytest.approx(truth[failure.entry], rel=1e-5)
            assert failure.analytic == pytest.approx(2 * truth[failure.entry], rel=1e-6)
            assert failure.abs_error == pytest.approx(abs(truth[failure.entry]), rel=1e-5)
            assert 1e-2 < failure.rel_error <= 0.5 + 1e-6      # not a rounding difference
        if bug == "one_entry":
            assert [f.entry for f in report.failures] == [(0, 0)]


@pytest.mark.parametrize("bug", sorted(FLOAT32_BIAS_BUGS))
def test_a_float32_bias_twice_too_large_fails_every_direction(bug, tmp_path):
    path = _float32_bias_bug(tmp_path, bug)
    correct = _module("float32_relu_softmax_ce")
    for seed in (0, 1):
        report = verify.check_gradients(path, mode="directional", seed=seed)
        assert report.status == "mismatch" and _failing(report) == {"b1"}, report.to_text()
        row = next(row for row in report.rows if row.name == "b1")
        assert row.failed == row.checked == DIRECTIONS
        truth = correct.gradients(*_point(report))["b1"].astype(np.float64)
        for failure in report.failures:
            if failure.direction is not None:       # gᵀu: twice the bias part of the truth
                claimed = truth.copy()
                claimed[(0, 0) if bug == "one_entry" else slice(None)] *= 2
                assert failure.numeric == pytest.approx(float(np.sum(truth * failure.direction)),
                                                        rel=1e-4)
                assert failure.analytic == pytest.approx(
                    float(np.sum(claimed * failure.direction)), rel=1e-5)
        found = [f for f in report.failures if f.localised_by]
        assert len(found) == 1
        assert found[0].abs_error == pytest.approx(abs(truth[found[0].entry]), rel=1e-5)
        if bug == "one_entry":
            assert found[0].entry == (0, 0)


def test_a_generated_float32_module_is_checked_against_its_float64_twin(tmp_path):
    net = derive.mlp([3, 4, 2], activation="tanh", loss="mse")
    source = generate_numpy(derive.backprop(net, form="matrix", batch=True), dtype="float32",
                            name="m32").source
    module = load_source(source, "m32")                  # no file: the twin is rebound
    report = verify.check_gradients(module, seed=0)
    assert report.status == "verified", report.to_text()
    assert "float64 twin" in report.thresholds["differences"]
    wrapped = load_source(source + "\n\n_correct = gradients\n\n\n"
                          "def gradients(params, X, Y):\n"
                          "    grads = _correct(params, X, Y)\n"
                          "    grads['b2'] = grads['b2'] * DTYPE(2)\n    return grads\n", "m32")
    for mode in MODES:
        report = verify.check_gradients(wrapped, seed=0, mode=mode)
        assert report.status == "mismatch" and _failing(report) == {"b2"}
        row = next(row for row in report.rows if row.name == "b2")
        assert row.failed == row.checked


def test_float32_code_without_dtype_is_differenced_in_float32_and_says_so(tmp_path):
    # No module-level DTYPE (the precision is a private name): no twin can be made.
    source = (MODULES / "float32_tanh_mse.py").read_text().replace("DTYPE", "_PRECISION")
    path = tmp_path / "float32_no_dtype.py"
    path.write_text(source)
    report = verify.check_gradients(path, seed=1)
    assert report.status == "verified"
    assert report.thresholds["code_precision"] == "float32"       # from the params' dtype
    assert report.thresholds["rtol"] == 1e-3
    text = report.to_text()
    assert "no module-level DTYPE to make a float64 twin from" in text
    assert "float32 gradients against float32 central differences" in text
    assert "a weaker check" in text and "eps(float32)^(1/3)" in text
    mutant = path.with_name("float32_no_dtype_mutant.py")
    mutant.write_text(source.replace("D2 = (Yhat - Y) / _PRECISION(N)", "D2 = (Yhat - Y)"))
    assert verify.check_gradients(mutant, seed=1).status == "mismatch"


def test_float32_params_to_generic_code_are_differenced_in_float64():
    module = _module("tanh_mse_columns")
    params = {k: v.astype(np.float32) for k, v in
              module.init_params(np.random.default_rng(0)).items()}
    report = verify.check_gradients(module, params)
    assert report.status == "verified"
    assert report.thresholds["code_precision"] == "float32"
    assert report.thresholds["rtol"] == 1e-4
    assert "resolves float64 inputs, so it is differenced in float64" in report.to_text()
    # the point was rounded to float32, so both sides saw the same numbers
    for value in report.point["params"].values():
        assert np.array_equal(value, value.astype(np.float32).astype(np.float64))


def test_float64_code_gets_the_float64_threshold():
    report = verify.check_gradients(_module("tanh_mse_columns"))
    assert report.thresholds["code_precision"] == "float64"
    assert report.thresholds["rtol"] == 1e-6
    assert "rtol = 1e-06" in report.to_text()


# --- cost ---------------------------------------------------------------------------------------

class _Counting:
    """A module whose loss and gradients count their calls."""

    def __init__(self, module):
        self.module, self.losses, self.gradient_calls = module, 0, 0
        self.forward, self.init_params = module.forward, module.init_params
        self.PARAM_SHAPES = module.PARAM_SHAPES

    def loss(self, params, X, Y):
        self.losses += 1
        return self.module.loss(params, X, Y)

    def gradients(self, params, X, Y):
        self.gradient_calls += 1
        return self.module.gradients(params, X, Y)


def test_directional_cost_does_not_grow_with_the_parameter_count():
    module = _module("any_size_mlp")
    counts = {}
    for sizes in ((3, 4, 5, 2), (60, 400, 300, 8)):
        counting = _Counting(module)
        params = module.init_params(np.random.default_rng(0), sizes)
        report = verify.check_gradients(counting, params, mode="directional",
                                        param_shapes=module.param_shapes(sizes),
                                        sizes=sizes)
        assert report.status == "verified"
        counts[sum(v.size for v in params.values())] = (counting.losses,
                                                        counting.gradient_calls)
    (small, big), values = sorted(counts), [counts[k] for k in sorted(counts)]
    assert big > 1000 * small / 10
    assert values[0] == values[1]
    # one loss at the point, two per direction; one gradient evaluation
    assert values[0] == (1 + 2 * DIRECTIONS * 6, 1)


def test_full_mode_cost_grows_with_the_parameter_count():
    counting = _Counting(_module("tanh_mse_columns"))
    report = verify.check_gradients(counting, mode="full")
    size = sum(row.size for row in report.rows)
    assert counting.losses == 1 + 2 * size
    assert report.notes[-1] == f"{counting.losses} loss evaluations"


def test_auto_mode_switches_to_directions_above_the_limit():
    module = _module("any_size_mlp")
    sizes = (40, 50, 5)
    params = module.init_params(np.random.default_rng(0), sizes)
    report = verify.check_gradients(module, params, param_shapes=module.param_shapes(sizes),
                                    sizes=sizes)
    assert {row.mode for row in report.rows} == {"directional"}
    assert any("mode auto: directional (2305 parameters" in note for note in report.notes)


# --- report -------------------------------------------------------------------------------------

def test_the_text_report_states_its_table_then_its_thresholds_in_one_line():
    report = verify.check_gradients(_module("sigmoid_bce_rows"), mode="directional")
    lines = report.to_text().splitlines()
    # The headline, the table, then the thresholds: one line, every fact in it.
    assert lines[1].startswith("tensor ") and "max rel err" in lines[1]
    rows = lines[3:3 + len(report.rows)]
    assert [line.split()[0] for line in rows] == [row.name for row in report.rows]
    assert all("4 dirs" in line for line in rows)
    assert [i for i, line in enumerate(lines) if line.startswith("thresholds: ")] == \
        [3 + len(report.rows)]
    thresholds = lines[3 + len(report.rows)]
    for phrase in ("float64 code, rtol = 1e-06", "atol = η/h", "η = 32·eps(float64)·max|L|",
                   "h = eps(float64)^(1/3)·max(1, |θ_i|)", "mode directional",
                   f"{DIRECTIONS} random unit directions per tensor", "kinks: up to 3 re-draws",
                   f"up to {FRESH_POINTS} fresh points"):
        assert phrase in thresholds
    assert not [line for line in lines if line.lstrip().startswith(("step:", "pass:", "noise:",
                                                                    "kinks:", "zeros:"))]


def test_the_json_report_is_one_deterministic_document():
    first = verify.check_gradients(_module("relu_softmax_ce"), seed=4).as_dict()
    second = verify.check_gradients(_module("relu_softmax_ce"), seed=4).as_dict()
    assert json.dumps(first) == json.dumps(second)
    assert first["status"] == "verified" and first["thresholds"]["rtol"] == 1e-6
    assert [row["name"] for row in first["rows"]] == ["W1", "b1", "W2", "b2", "W3", "b3"]
    other = verify.check_gradients(_module("relu_softmax_ce"), seed=5).as_dict()
    assert other["point"]["X"] != first["point"]["X"]


# --- spec ----------------------------------------------------------------------------------------

def test_a_spec_gives_sizes_shapes_and_the_target_domain():
    net = derive.load_spec({"network": {"sizes": [2, 4, 1], "activation": "relu",
                                        "loss": "hinge"}})
    module = _module("relu_hinge")
    bare = {"loss": module.loss, "gradients": module.gradients}   # no shapes, no init
    report = verify.check_gradients(bare, spec=net, seed=1)
    assert report.status == "verified"
    assert [(row.name, row.shape) for row in report.rows] == list(net.param_shapes().items())
    assert set(np.unique(report.point["Y"])) <= {-1.0, 1.0}        # hinge: sign targets


def test_a_spec_that_disagrees_with_the_module_makes_it_unusable():
    net = derive.load_spec({"network": {"sizes": [2, 3, 2], "loss": "mse"}})
    report = verify.check_gradients(_module("sigmoid_bce_rows"), spec=net)
    assert report.status == "unusable"
    assert "differ from the spec's" in report.message and "W2: 1x3" in report.message


def test_a_symbolic_spec_is_bad_input():
    with pytest.raises(derive.BadInput, match="integer sizes"):
        verify.check_gradients(_module("sigmoid_bce_rows"),
                               spec={"network": {"sizes": ["n_0", "n_1"]}})


# --- unusable modules ---------------------------------------------------------------------------

def _replace_function(name, function, source):
    module = _module(name)
    namespace = {"np": np, "module": module}
    exec(source, namespace)
    table = {key: getattr(module, key) for key in ("PARAM_SHAPES", "init_params", "forward",
                                                   "loss", "gradients")}
    table[function] = namespace[function]
    return table


UNUSABLE = [
    ("no_gradients", {"loss": _module("tanh_mse_columns").loss,
                      "PARAM_SHAPES": _module("tanh_mse_columns").PARAM_SHAPES},
     "no function gradients(params, X, Y)"),
    ("missing_key", _replace_function("tanh_mse_columns", "gradients", """
def gradients(params, X, Y):
    out = module.gradients(params, X, Y)
    del out["b2"]
    return out"""), "gradients() keys do not match the parameters (missing b2)"),
    ("wrong_shape", _replace_function("tanh_mse_columns", "gradients", """
def gradients(params, X, Y):
    out = module.gradients(params, X, Y)
    out["b1"] = out["b1"].ravel()
    return out"""), "gradients()['b1'] has shape (4,), but parameter b1 has shape (4, 1)"),
    ("nan_gradient", _replace_function("tanh_mse_columns", "gradients", """
def gradients(params, X, Y):
    out = module.gradients(params, X, Y)
    out["W2"][1, 0] = np.nan
    return out"""), "gradients()['W2'] contains nan at index (1, 0)"),
    ("inf_loss", _replace_function("tanh_mse_columns", "loss", """
def loss(params, X, Y):
    return np.inf"""), "loss() returned inf at the input point"),
    ("raises", _replace_function("tanh_mse_columns", "gradients", """
def gradients(params, X, Y):
    return {"W1": params["W1"] @ X}"""), "gradients(params, X, Y) raised ValueError: matmul"),
    ("array_loss", _replace_function("tanh_mse_columns", "loss", """
def loss(params, X, Y):
    return np.ones(3)"""), "loss() returned ndarray of shape (3,), not a scalar"),
]


@pytest.mark.parametrize("case", UNUSABLE, ids=[c[0] for c in UNUSABLE])
def test_unusable_modules_are_reported_in_one_line(case):
    _, module, message = case
    report = verify.check_gradients(module, seed=0)
    assert report.status == "unusable" and not report.ok
    assert message in report.message
    assert "\n" not in report.message
    assert report.to_text() == f"gradient check: UNUSABLE: {report.message}"


def test_unloadable_files_are_unusable(tmp_path):
    missing = verify.check_gradients(tmp_path / "absent.py")
    assert missing.status == "unusable" and missing.message.endswith("absent.py: no such file")
    broken = tmp_path / "broken.py"
    broken.write_text("import numpy as np\n\ndef loss(params, X, Y)\n    return 0.0\n")
    report = verify.check_gradients(broken)
    assert report.status == "unusable"
    assert report.message.startswith(f"{broken}:3: syntax error")
    raising = tmp_path / "raising.py"
    raising.write_text("raise RuntimeError('no GPU here')\n")
    report = verify.check_gradients(raising)
    assert report.message == f"{raising}: importing it raised RuntimeError: no GPU here"
    with pytest.raises(verify.Unusable, match="no such file"):
        verify.load_module(tmp_path / "absent.py")


# --- points where every gradient is 0 -----------------------------------------------------------

#: Seeds at which relu_output_hinge's drawn point has its output relu dead for every sample:
#: every gradient entry and every central difference is exactly 0 there.
DEAD_SEEDS = (0, 3, 7)
SIGN_FLIP = ('D2 = -Y * (1.0 - Y * Yhat > 0)', 'D2 = Y * (1.0 - Y * Yhat > 0)')
ALL = {"W1", "b1", "W2", "b2"}


def _fresh_point(report, failure):
    fresh = report.point["fresh"][failure.fresh - 1]
    return fresh["params"], fresh["X"], fresh["Y"]


def test_at_the_dead_seeds_the_input_point_compares_only_zeros():
    # What the check saw before fresh points existed: zeros against zeros, "verified".
    for seed in DEAD_SEEDS:
        report = verify.check_gradients(_module("relu_output_hinge"), seed=seed,
                                        fresh_points=0)
        assert all(row.max_abs_error == 0 and row.zero_points == 1 for row in report.rows)
        assert report.uninformative == list(_module("relu_output_hinge").PARAM_SHAPES)
        headline = report.to_text().splitlines()[0]
        assert "UNINFORMATIVE" in headline and "nothing was compared" in headline


@pytest.mark.parametrize("mode", MODES)
def test_a_sign_flip_hidden_by_a_dead_output_is_caught_at_a_fresh_point(mode, tmp_path):
    path = _mutant(tmp_path, "relu_output_hinge", *SIGN_FLIP)
    correct, faulty = _module("relu_output_hinge"), verify.load_module(path)
    for seed in range(10):
        report = verify.check_gradients(path, mode=mode, seed=seed)
        assert report.status == "mismatch", report.to_text()
        assert _failing(report) and _failing(report) <= ALL
        if seed not in DEAD_SEEDS:
            continue
        assert all(row.fresh >= 1 and row.zero_points >= 1 for row in report.rows)
        assert all(f.fresh >= 1 for f in report.failures)
        text = report.to_text()
        assert "at fresh point #1" in text and "fresh point #1: params drawn by init_params" in text
        assert "exactly 0 at the input point" in text
        for failure in report.failures:
            if failure.direction is not None or failure.redraw:
                continue
            point = _fresh_point(report, failure)
            assert point[1].shape == report.point["X"].shape
            assert failure.analytic == pytest.approx(
                float(faulty.gradients(*point)[failure.tensor][failure.entry]), rel=1e-9)
            assert failure.numeric == pytest.approx(
                float(correct.gradients(*point)[failure.tensor][failure.entry]), rel=1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_the_correct_module_passes_where_its_input_point_is_dead(mode):
    for seed in range(10):
        report = verify.check_gradients(_module("relu_output_hinge"), mode=mode, seed=seed)
        assert report.status == "verified", report.to_text()
        assert not report.uninformative
        if seed in DEAD_SEEDS:
            assert all(row.fresh >= 1 for row in report.rows)
            assert "(at fresh point #" in report.to_text()
            assert report.point["fresh"][0]["tensors"] == list(report.point["params"])


def test_a_given_point_that_sees_only_zeros_is_left_for_a_fresh_one(tmp_path):
    dead = verify.check_gradients(_module("relu_output_hinge"), seed=0, fresh_points=0)
    params, X, Y = _point(dead)
    path = _mutant(tmp_path, "relu_output_hinge", *SIGN_FLIP)
    report = verify.check_gradients(path, params, X, Y)
    assert report.status == "mismatch"
    assert report.point["origin"] == "params given"
    assert report.point["fresh"][0]["origin"].endswith("Y as given")
    assert np.array_equal(report.point["fresh"][0]["Y"], Y)


def test_fresh_points_are_seeded():
    first = verify.check_gradients(_module("relu_output_hinge"), seed=3).as_dict()
    second = verify.check_gradients(_module("relu_output_hinge"), seed=3).as_dict()
    assert json.dumps(first) == json.dumps(second)
    assert first["point"]["fresh"][0]["X"] != first["point"]["X"]


def _with_unused_parameter(claimed=np.zeros):
    """tanh_mse_columns with a parameter ``unused`` that its loss never reads."""
    module = _module("tanh_mse_columns")
    shapes = {**module.PARAM_SHAPES, "unused": (2, 2)}

    def init_params(rng=None):
        params = module.init_params(rng)
        params["unused"] = rng.standard_normal((2, 2))
        return params

    def gradients(params, X, Y):
        grads = module.gradients({k: v for k, v in params.items() if k != "unused"}, X, Y)
        return {**grads, "unused": claimed((2, 2))}

    return {"PARAM_SHAPES": shapes, "init_params": init_params, "forward": module.forward,
            "loss": lambda params, X, Y: module.loss(
                {k: v for k, v in params.items() if k != "unused"}, X, Y),
            "gradients": gradients}


@pytest.mark.parametrize("mode", MODES)
def test_an_unused_parameter_is_verified_as_uninformative_not_failed(mode):
    report = verify.check_gradients(_with_unused_parameter(), mode=mode, seed=0)
    assert report.status == "verified" and report.ok
    assert report.uninformative == ["unused"]
    rows = {row.name: row for row in report.rows}
    assert rows["unused"].zero_points == FRESH_POINTS + 1 and rows["unused"].uninformative
    assert rows["unused"].status_text() == \
        "ok (zero gradient at every drawn point: uninformative)"
    assert all(row.fresh == 0 and row.zero_points == 0 for name, row in rows.items()
               if name != "unused")                 # the others are checked once
    text = report.to_text()
    assert "1 tensor uninformative (unused: zero gradient at every drawn point)" in \
        text.splitlines()[0]
    assert f"exactly 0 at all {FRESH_POINTS + 1} points drawn" in text
    document = report.as_dict()
    assert document["uninformative"] == ["unused"]
    assert document["rows"][-1]["status"] == "uninformative"
    # A gradient claimed for it where the loss does not move is a mismatch, as before.
    wrong = verify.check_gradients(_with_unused_parameter(np.ones), mode=mode, seed=0)
    assert wrong.status == "mismatch" and _failing(wrong) == {"unused"}


def test_a_loss_flat_everywhere_is_verified_but_says_nothing_was_compared():
    flat = {"PARAM_SHAPES": {"W": (2, 3)}, "SIZES": (3, 2),
            "loss": lambda params, X, Y: 1.0,
            "gradients": lambda params, X, Y: {"W": np.zeros((2, 3))}}
    report = verify.check_gradients(flat, seed=0)
    assert report.status == "verified"
    assert report.uninformative == ["W"]
    assert "UNINFORMATIVE" in report.to_text().splitlines()[0]
    assert "this verification is empty" in report.to_text()


def test_a_fresh_point_the_module_cannot_evaluate_is_skipped_and_noted():
    def loss(params, X, Y):
        if np.max(np.abs(params["w"])) > 1e-3:
            raise ValueError("only defined near 0")
        return 0.0

    module = {"loss": loss, "gradients": lambda params, X, Y: {"w": np.zeros((1, 1))}}
    report = verify.check_gradients(module, {"w": np.zeros((1, 1))}, np.zeros((1, 2)),
                                    np.zeros((1, 2)), fresh_points=2)
    assert report.status == "verified" and report.uninformative == ["w"]
    assert "fresh point #1 could not be used: loss(params, X, Y) raised ValueError: only " \
           "defined near 0" in report.notes
