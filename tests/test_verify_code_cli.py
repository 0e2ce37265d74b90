"""``python -m verify code`` end to end: exit status 0 / 1 / 2, what it prints, ``--spec``,
``--mode``, ``--seed``, ``--json``.

Most cases run in process through the same table machinery as ``python -m verify``
(``run_commands``); real subprocesses cover what only a process shows: the exit codes, stderr
without a traceback, ``--help``, and byte-identical JSON under different hash seeds.
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

import derive
from derive.cli import run_commands
from derive.codegen import generate_numpy
from verify import check_gradients, load_module
from verify.__main__ import COMMANDS
from verify.numeric import FRESH_POINTS
from verify.steps import RTOL, RTOL_OWN_PRECISION

MODULES = Path(__file__).parent / "handwritten_modules"
ROOT = Path(__file__).parent.parent
GOOD = MODULES / "relu_softmax_ce.py"


def _in_process(capsys, *argv):
    status = run_commands("python -m verify", "", COMMANDS, ["code", *map(str, argv)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _process(*argv, hash_seed="0"):
    env = dict(os.environ, PYTHONHASHSEED=hash_seed)
    return subprocess.run([sys.executable, "-m", "verify", *map(str, argv)], cwd=ROOT,
                          capture_output=True, text=True, env=env, timeout=120)


def _faulty(tmp_path, old="D1 = (params[\"W2\"].T @ D2)", new="D1 = (params[\"W2\"] @ D2)"):
    source = GOOD.read_text()
    assert source.count(old) == 1
    path = tmp_path / "faulty.py"
    path.write_text(source.replace(old, new))
    return path


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


# --- end to end, in real processes ------------------------------------------------------------

def test_exit_codes_and_streams_of_real_processes(tmp_path):
    verified = _process("code", GOOD)
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("gradient check of relu_softmax_ce.py: VERIFIED")
    assert verified.stderr == ""

    mismatch = _process("code", _faulty(tmp_path))
    assert mismatch.returncode == 1, mismatch.stderr
    assert "MISMATCH" in mismatch.stdout and "W1[0, 0]: analytic" in mismatch.stdout

    unusable = _process("code", _write(tmp_path, "raises.py", UNUSABLE["raises"][0]))
    assert unusable.returncode == 2
    assert unusable.stdout == "" and "Traceback" not in unusable.stderr
    assert unusable.stderr.splitlines() == [
        "python -m verify code: error: raises.py: gradients(params, X, Y) raised IndexError: "
        "tuple index out of range"]


def test_help_works_for_the_command_table_and_the_code_command():
    top = _process("--help")
    assert top.returncode == 0 and "code" in top.stdout
    assert "finite-difference check of a gradient module" in top.stdout
    code = _process("code", "--help")
    assert code.returncode == 0
    for flag in ("--spec", "--mode", "--seed", "--json", "MODULE.py"):
        assert flag in code.stdout


def test_json_is_byte_identical_across_runs_and_hash_seeds(tmp_path):
    faulty = _faulty(tmp_path)
    first = _process("code", faulty, "--json", "--seed", "3", hash_seed="0")
    second = _process("code", faulty, "--json", "--seed", "3", hash_seed="12345")
    assert first.returncode == second.returncode == 1
    assert first.stdout == second.stdout
    document = json.loads(first.stdout)
    assert document["status"] == "mismatch" and document["ok"] is False


# --- in process ---------------------------------------------------------------------------------

def test_verified_module_prints_the_per_tensor_table_then_the_thresholds_in_one_line(capsys):
    status, out, err = _in_process(capsys, GOOD)
    assert status == 0 and err == ""
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("tensor"))
    assert header == 1                                  # right after the headline
    table = [line.split()[0] for line in lines[header + 2:header + 8]]
    assert table == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert all(line.rstrip().endswith("ok") for line in lines[header + 2:header + 8])
    # One line of thresholds, after the table, with rtol/atol, the step rule and the mode.
    assert [i for i, line in enumerate(lines) if "rtol" in line] == [header + 8]
    thresholds = lines[header + 8]
    assert thresholds.startswith("thresholds: float64 code, rtol = 1e-06")
    for phrase in ("atol = η/h, η = 32·eps(float64)·max|L|",
                   "step h = eps(float64)^(1/3)·max(1, |θ_i|) = 6.06e-06·max(1, |θ_i|)",
                   "mode full: central float64 differences of the same loss"):
        assert phrase in thresholds


def test_mismatch_names_tensor_entries_and_values(capsys, tmp_path):
    faulty = _faulty(tmp_path)
    status, out, _ = _in_process(capsys, faulty)
    assert status == 1
    report = check_gradients(faulty)
    truth = load_module(GOOD).gradients(report.point["params"], report.point["X"],
                                        report.point["Y"])
    rows = {line.split()[0]: line for line in out.splitlines()
            if line[:2] in ("W1", "b1", "W2", "b2", "W3", "b3") and "  " in line}
    assert "MISMATCH" in rows["W1"] and "MISMATCH" in rows["b1"]
    assert rows["W2"].rstrip().endswith("ok") and rows["W3"].rstrip().endswith("ok")
    first = report.failures[0]
    assert first.label() == "W1[0, 0]"
    assert f"W1[0, 0]: analytic {first.analytic:.10g}, numeric {first.numeric:.10g}" in out
    assert first.numeric == pytest.approx(truth["W1"][0, 0], rel=1e-6)
    assert "input point:" in out and "X (4x5) =" in out


def test_directional_mode_localises_a_wrong_entry(capsys, tmp_path):
    status, out, _ = _in_process(capsys, _faulty(tmp_path), "--mode", "directional")
    assert status == 1
    assert "W1 along direction 1: analytic" in out
    assert "(found by bisection of direction 1)" in out
    assert "4 dirs" in out


def test_json_document(capsys, tmp_path):
    status, out, _ = _in_process(capsys, GOOD, "--json")
    document = json.loads(out)
    assert status == 0 and document["status"] == "verified"
    assert document["thresholds"]["rtol"] == 1e-6
    assert [row["status"] for row in document["rows"]] == ["ok"] * 6
    status, out, _ = _in_process(capsys, _faulty(tmp_path), "--json")
    document = json.loads(out)
    assert status == 1 and document["status"] == "mismatch"
    failure = document["failures"][0]
    assert failure["tensor"] == "W1" and failure["entry"] == [0, 0]
    assert {"analytic", "numeric", "rel_error", "abs_error", "step"} <= set(failure)


def test_seed_changes_the_point_and_repeats_it(capsys):
    runs = [json.loads(_in_process(capsys, GOOD, "--json", "--seed", seed)[1])
            for seed in ("1", "1", "2")]
    assert runs[0] == runs[1]
    assert runs[0]["point"]["X"] != runs[2]["point"]["X"]


def test_spec_gives_shapes_and_targets_to_a_bare_module(capsys, tmp_path):
    bare = _write(tmp_path, "bare.py", '''
import numpy as np

def _forward(params, X):
    A1 = np.maximum(params["W1"] @ X + params["b1"], 0.0)
    return A1, params["W2"] @ A1 + params["b2"]

def loss(params, X, Y):
    _, Yhat = _forward(params, X)
    return float(np.mean(np.sum(np.log1p(np.exp(-Y * Yhat)), axis=0)))

def gradients(params, X, Y):
    A1, Yhat = _forward(params, X)
    D2 = -Y / (1 + np.exp(Y * Yhat)) / X.shape[1]
    D1 = (params["W2"].T @ D2) * (A1 > 0)
    return {"W1": D1 @ X.T, "b1": D1.sum(axis=1, keepdims=True),
            "W2": D2 @ A1.T, "b2": D2.sum(axis=1, keepdims=True)}
''')
    spec = _write(tmp_path, "net.toml", '[network]\nsizes = [3, 4, 1]\nactivation = "relu"\n'
                                        'loss = "logistic"\n')
    status, out, err = _in_process(capsys, bare, "--spec", spec, "--json")
    document = json.loads(out)
    assert status == 0, err
    assert [(r["name"], r["shape"]) for r in document["rows"]] == \
        [("W1", [4, 3]), ("b1", [4, 1]), ("W2", [1, 4]), ("b2", [1, 1])]
    assert set(np.unique(document["point"]["Y"])) <= {-1.0, 1.0}       # logistic: ±1 targets
    assert "targets sign (the spec's loss 'logistic')" in document["notes"]
    # without the spec nothing says what to draw
    status, _, err = _in_process(capsys, bare)
    assert status == 2
    assert "neither init_params() nor PARAM_SHAPES" in err


def test_bad_spec_is_bad_input(capsys, tmp_path):
    spec = _write(tmp_path, "net.toml", '[network]\nsizes = [4, 5, 2]\n')
    status, out, err = _in_process(capsys, GOOD, "--spec", spec)
    assert status == 2 and out == ""
    assert "PARAM_SHAPES" in err and "differ from the spec's" in err
    broken = _write(tmp_path, "broken.toml", "[network\nsizes = 3")
    status, _, err = _in_process(capsys, GOOD, "--spec", broken)
    assert status == 2 and "malformed TOML" in err
    status, _, err = _in_process(capsys, GOOD, "--spec", tmp_path / "none.toml")
    assert status == 2 and "none.toml" in err


UNUSABLE = {
    "syntax_error": ("import numpy as np\ndef loss(params, X, Y)\n    return 0\n",
                     "{path}:2: syntax error"),
    "import_raises": ("import numpy as np\nraise ImportError('no module named cupy')\n",
                      "{path}: importing it raised ImportError: no module named cupy"),
    "no_gradients": ("def loss(params, X, Y):\n    return 0.0\n",
                     "{name}: no function gradients(params, X, Y)"),
    "wrong_keys": (GOOD.read_text().replace('"b3": db3}', '"c3": db3}'),
                   "{name}: gradients() keys do not match the parameters (missing b3; "
                   "unexpected c3)"),
    "wrong_shape": (GOOD.read_text().replace("db1 = D1.sum(axis=1, keepdims=True)",
                                             "db1 = D1.sum(axis=0, keepdims=True)"),
                    "{name}: gradients()['b1'] has shape (1, 5), but parameter b1 has "
                    "shape (5, 1)"),
    "nan_gradient": (GOOD.read_text().replace("dW3 = D3 @ cache[\"A2\"].T",
                                              "dW3 = D3 @ cache[\"A2\"].T / 0.0"),
                     "{name}: gradients()['W3'] contains"),
    "nan_loss": (GOOD.read_text().replace(
        'return float(-np.mean(np.sum(Y * _log_softmax(cache["Z3"]), axis=0)))',
        "return float(np.log(-1.0))"),
                 "{name}: loss() returned nan at the input point"),
    "raises": (GOOD.read_text().replace("N = X.shape[1]", "N = X.shape[2]"),
               "{name}: gradients(params, X, Y) raised IndexError: tuple index out of range"),
    "exits": ("import sys, numpy as np\nPARAM_SHAPES = {'W': (2, 3)}\nSIZES = (3, 2)\n"
              "def loss(params, X, Y):\n    sys.exit(0)\n"
              "def gradients(params, X, Y):\n    return {'W': np.cos(params['W'])}\n",
              "{name}: loss(params, X, Y) raised SystemExit: 0"),
    "no_entries": ("import numpy as np\nPARAM_SHAPES = {'W': (0, 2)}\nSIZES = (2, 2)\n"
                   "def loss(params, X, Y):\n    return 0.0\n"
                   "def gradients(params, X, Y):\n    return {'W': np.zeros((0, 2))}\n",
                   "{name}: the parameters have no entries to check"),
    "vector_loss": ("import numpy as np\nPARAM_SHAPES = {'W': (2, 2)}\n"
                    "def loss(params, X, Y):\n    return np.ones(3)\n"
                    "def gradients(params, X, Y):\n    return {'W': params['W']}\n",
                    "{name}: cannot tell the input/output sizes from the parameter shapes "
                    "[(2, 2)] (last try: loss() returned an array of shape (3,), not a "
                    "number)"),
}


def test_what_the_module_prints_stays_out_of_the_json(capsys, tmp_path):
    chatty = GOOD.read_text().replace("def loss(params, X, Y):",
                                      "print('loading')\n\ndef loss(params, X, Y):\n"
                                      "    print('loss called')")
    status, out, err = _in_process(capsys, _write(tmp_path, "chatty.py", chatty), "--json")
    assert status == 0 and json.loads(out)["status"] == "verified"
    assert "loading" in err and "loss called" in err


@pytest.mark.parametrize("argv, message", [
    (["--seed", "-1"], "--seed: the seed must be a non-negative integer, got -1"),
    (["--spec", "nope.toml"], "--spec: No such file or directory: nope.toml"),
])
def test_bad_flags_exit_2_naming_the_flag(argv, message, capsys):
    status, out, err = _in_process(capsys, GOOD, *argv)
    assert status == 2 and out == "" and message in err and "Traceback" not in err


def test_a_missing_file_exits_2(capsys, tmp_path):
    status, out, err = _in_process(capsys, tmp_path / "absent.py")
    assert status == 2 and out == ""
    assert err == f"python -m verify code: error: {tmp_path / 'absent.py'}: no such file\n"


@pytest.mark.parametrize("case", sorted(UNUSABLE))
def test_unusable_modules_exit_2_with_one_line(case, capsys, tmp_path):
    source, expected = UNUSABLE[case]
    path = _write(tmp_path, f"{case}.py", source)
    for extra in ((), ("--json",)):
        with np.errstate(all="ignore"):
            status, out, err = _in_process(capsys, path, *extra)
        assert status == 2
        lines = err.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in err
        assert lines[0].startswith("python -m verify code: error: " +
                                   expected.format(path=path, name=path.name))
        if extra:
            document = json.loads(out)
            assert document == {"status": "unusable", "ok": False, "module": path.name,
                                "message": lines[0].split("error: ", 1)[1]}
        else:
            assert out == ""



# --- points that compare only zeros; float32 modules -------------------------------------------

def _dead_output_mutant(tmp_path):
    """relu_output_hinge with the sign of its output signal flipped: at seeds 0, 3 and 7 the
    drawn point has a dead output relu, where every gradient and difference is exactly 0."""
    source = (MODULES / "relu_output_hinge.py").read_text()
    old = "D2 = -Y * (1.0 - Y * Yhat > 0)"
    assert source.count(old) == 1
    return _write(tmp_path, "mut_relu_hinge.py",
                  source.replace(old, "D2 = Y * (1.0 - Y * Yhat > 0)"))


def test_a_bug_hidden_at_a_dead_point_exits_1_at_every_seed(capsys, tmp_path):
    mutant = _dead_output_mutant(tmp_path)
    for seed in range(10):
        status, out, _ = _in_process(capsys, mutant, "--seed", seed)
        assert status == 1, out
        assert "MISMATCH" in out.splitlines()[0]
    good = MODULES / "relu_output_hinge.py"
    for seed in (0, 3):
        status, out, _ = _in_process(capsys, good, "--seed", seed)
        assert status == 0 and "(at fresh point #1: all 0 before)" in out
    process = _process("code", mutant, "--seed", "0")
    assert process.returncode == 1 and "at fresh point #1" in process.stdout
    assert "fresh point #1: params drawn by init_params" in process.stdout


def test_an_unused_parameter_exits_0_and_says_it_is_uninformative(capsys, tmp_path):
    module = _write(tmp_path, "unused.py", '''
import numpy as np

PARAM_SHAPES = {"W": (2, 3), "unused": (2, 2)}
SIZES = (3, 2)

def loss(params, X, Y):
    return float(0.5 * np.sum((params["W"] @ X - Y) ** 2))

def gradients(params, X, Y):
    return {"W": (params["W"] @ X - Y) @ X.T, "unused": np.zeros((2, 2))}
''')
    status, out, _ = _in_process(capsys, module)
    assert status == 0
    lines = out.splitlines()
    assert lines[0].startswith("gradient check of unused.py: VERIFIED")
    assert "1 tensor uninformative (unused: zero gradient at every drawn point)" in lines[0]
    row = next(line for line in lines if line.startswith("unused "))
    assert row.endswith("ok (zero gradient at every drawn point: uninformative)")
    status, out, _ = _in_process(capsys, module, "--json")
    document = json.loads(out)
    assert status == 0 and document["uninformative"] == ["unused"]
    assert [row["status"] for row in document["rows"]] == ["ok", "uninformative"]


def _float32_module(tmp_path, bug=""):
    net = derive.mlp([3, 4, 2], activation="tanh", loss="mse")
    source = generate_numpy(derive.backprop(net, form="matrix", batch=True), dtype="float32",
                            name="m32").source
    if bug:
        source += ("\n\n_correct_gradients = gradients\n\n\ndef gradients(params, X, Y):\n"
                   "    grads = _correct_gradients(params, X, Y)\n" + bug + "    return grads\n")
    return _write(tmp_path, "m32_bug.py" if bug else "m32.py", source)


def test_float32_modules_are_checked_against_float64_differences(capsys, tmp_path):
    status, out, _ = _in_process(capsys, _float32_module(tmp_path))
    assert status == 0, out
    assert "float32 gradients against float64 central differences, rtol = 0.0001" in out
    assert "float64 twin (DTYPE = np.float64)" in out
    for bug in ("    grads['b1'] = grads['b1'] * DTYPE(2)\n",
                "    grads['b1'] = grads['b1'].copy()\n    grads['b1'][1, 0] *= 2\n"):
        for mode in ("full", "directional"):
            status, out, _ = _in_process(capsys, _float32_module(tmp_path, bug), "--mode", mode)
            assert status == 1, out
            row = next(line for line in out.splitlines() if line.startswith("b1 "))
            total = 4 if mode == "directional" else (4 if "DTYPE(2)" in bug else 1)
            assert f"MISMATCH ({total} of 4)" in row
            assert "numeric = central differences of its float64 twin's loss" in out


def test_help_describes_fresh_points_and_float64_twins():
    text = _process("code", "--help").stdout
    assert f"up to {FRESH_POINTS} fresh points" in " ".join(text.split())
    assert "float64 twin" in text
    stated = [float(value) for value in re.findall(r"rtol ([0-9.e+-]+)\)", text)]
    assert stated == [RTOL[np.dtype(np.float32)], RTOL_OWN_PRECISION[np.dtype(np.float32)]]


# --- the likely bug of a failing tensor (issue 10, item 3) ------------------------------------

BROKEN = [
    # (module, failing tensor, classes, phrase of the first detail)
    ("broken_bias_not_averaged", "b2", ["missing_factor"], "not averaged over the batch (×N"),
    ("broken_transposed_weights", "W1", ["missing_transpose"], "transposed"),
    ("broken_sign_and_half", "W2", ["wrong_sign", "missing_factor"], "-1/2 times"),
    ("broken_missing_bias_gradient", "b1", ["missing_term"], "zero where the numeric one"),
]


@pytest.mark.parametrize("name, tensor, classes, phrase", BROKEN)
def test_mismatch_names_the_likely_bug(capsys, name, tensor, classes, phrase):
    path = MODULES / f"{name}.py"
    status, out, _ = _in_process(capsys, path, "--json")
    assert status == 1
    document = json.loads(out)
    assert list(document["diagnosis"]) == [tensor]
    assert [d["class"] for d in document["diagnosis"][tensor]] == classes
    assert phrase in document["diagnosis"][tensor][0]["detail"]
    rows = {row["name"]: row for row in document["rows"]}
    assert rows[tensor]["diagnosis"] == document["diagnosis"][tensor]
    assert all("diagnosis" not in row for key, row in rows.items() if key != tensor)
    status, out, _ = _in_process(capsys, path)
    assert status == 1
    assert f"  likely bug in {tensor}: {classes[0]}: " in out


def test_likely_bug_batch_size_and_directional_mode():
    report = check_gradients(str(MODULES / "broken_bias_not_averaged.py"), seed=2)
    n = np.asarray(report.point["X"]).shape[1]
    assert f"(×N, N = {n})" in report.rows[-1].diagnosis[0]["detail"]
    directional = check_gradients(str(MODULES / "broken_transposed_weights.py"),
                                  mode="directional")
    failing = [row for row in directional.rows if row.failed]
    assert [row.name for row in failing] == ["W1"]
    assert failing[0].diagnosis[0]["class"] == "missing_transpose"
    scaled = check_gradients(str(MODULES / "broken_sign_and_half.py"), mode="directional")
    assert [d["class"] for row in scaled.rows for d in row.diagnosis] == \
        ["wrong_sign", "missing_factor"]


def test_good_modules_have_no_diagnosis():
    document = check_gradients(str(GOOD)).as_dict()
    assert document["diagnosis"] == {}
    assert all("diagnosis" not in row for row in document["rows"])
