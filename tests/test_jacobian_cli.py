"""``python -m derive jacobian`` end to end: every identity of the table through the command
line (in process: argument parsing, rendering, exit status), and a few real subprocesses for
what only a process shows (exit codes, stderr without traceback, byte-identical output under
different hash seeds).  Each process costs a second or two, so most cases run in process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

from derive.__main__ import COMMANDS
from derive.calculus.matrix_printing import identifier
from derive.cli import run_commands
from derive.identities import IDENTITIES, IDENTITIES_BY_NAME
from tests.test_identity_table import SIZES, _environment, _expected_numeric

LAYOUTS = ("numerator", "denominator")


def _argv(row, layout, fmt="numpy"):
    argv = ["jacobian", row.expr, "--wrt", row.wrt, "--layout", layout, "--format", fmt]
    for name, (rows, cols) in row.shapes:
        argv += ["--shape", f"{name}={rows},{cols}"]
    for name in row.scalars:
        argv += ["--scalar", name]
    for name in row.symmetric:
        argv += ["--symmetric", name]
    return argv


def _run_in_process(argv, capsys):
    status = run_commands("python -m derive", "", COMMANDS, argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _run(*args, seed="0"):
    env = dict(os.environ, PYTHONHASHSEED=seed)
    return subprocess.run([sys.executable, "-m", "derive", "jacobian", *args],
                          capture_output=True, text=True, env=env, timeout=120)


def _bind(env):
    return {identifier(name): value for name, value in env.items()}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("row", IDENTITIES, ids=[row.name for row in IDENTITIES])
def test_every_identity_through_the_command(row, layout, capsys):
    status, out, _ = _run_in_process(_argv(row, layout), capsys)
    assert status == 0
    code = out.strip()
    assert "\n" not in code                                   # one NumPy expression
    env = _environment(row)
    got = eval(code, {"np": np}, _bind(env))  # noqa: S307 - the command's own output
    expected = _expected_numeric(row, env, layout)
    assert np.shape(got) == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7, err_msg=code)


@pytest.mark.parametrize("row", IDENTITIES, ids=[row.name for row in IDENTITIES])
def test_json_is_one_document_with_the_layout_shape(row, capsys):
    status, out, err = _run_in_process(_argv(row, "numerator", "json"), capsys)
    assert status == 0 and err == ""
    document = json.loads(out)
    assert document["layout"] == "numerator" and document["wrt"] == row.wrt
    assert document["expr"] == str(row.numerator)
    assert [str(s) for s in document["shape"]] == [str(s) for s in row.numerator.shape]
    assert isinstance(document["steps"], list) and set(document["numpy_names"]) >= {row.wrt}


def test_sympy_and_latex_formats(capsys):
    row = IDENTITIES_BY_NAME["d v^T A v / dv, A = A^T"]
    assert _run_in_process(_argv(row, "denominator", "sympy"), capsys)[1] == "2*A*v\n"
    assert _run_in_process(_argv(row, "denominator", "latex"), capsys)[1] == "2 A v\n"
    assert _run_in_process(_argv(row, "numerator", "latex"), capsys)[1] == "2 v^{T} A\n"


def test_renamed_variables_are_noted(capsys):
    row = IDENTITIES_BY_NAME["ridge by w"]
    status, out, err = _run_in_process(_argv(row, "denominator"), capsys)
    assert status == 0 and "lambda_*w" in out and "lambda → lambda_" in err


# --- real processes -----------------------------------------------------------------------------

LOSS = r"\frac{1}{2}\|\sigma(W a + b) - y\|^2"
LOSS_SHAPES = ["--shape", "W=m,n", "--shape", "a=n", "--shape", "b=m", "--shape", "y=m"]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_numpy_output_has_the_layout_shape(layout, capsys):
    argv = [LOSS, "--wrt", "W", *LOSS_SHAPES, "--layout", layout, "--format", "numpy"]
    if layout == "denominator":                   # one real process, the other in process
        done = _run(*argv)
        status, out, err = done.returncode, done.stdout, done.stderr
    else:
        status, out, err = _run_in_process(["jacobian", *argv], capsys)
    assert status == 0 and err == "", err
    rng = np.random.default_rng(5)
    env = {"W": rng.normal(size=(2, 3)), "a": rng.normal(size=(3, 1)),
           "b": rng.normal(size=(2, 1)), "y": rng.normal(size=(2, 1))}
    got = eval(out, {"np": np}, env)  # noqa: S307 - the command's own output
    s = 1 / (1 + np.exp(-(env["W"] @ env["a"] + env["b"])))
    expected = (s * (1 - s) * (s - env["y"])) @ env["a"].T      # (σ'(z) ⊙ (σ(z) − y)) aᵀ
    np.testing.assert_allclose(got, expected if layout == "denominator" else expected.T,
                               rtol=1e-12)


def test_output_is_identical_under_different_hash_seeds():
    args = (r"-y^T \log(\operatorname{softmax}(W \tanh(V x))) + \operatorname{tr}(V^T V)",
            "--wrt", "V", "--shape", "W=m,p", "--shape", "V=p,n", "--shape", "x=n",
            "--shape", "y=m", "--json")
    first, second = _run(*args, seed="1"), _run(*args, seed="12345")
    assert first.returncode == 0 and first.stdout == second.stdout
    assert json.loads(first.stdout)["shape"] == ["n", "p"]        # numerator: V is p×n


@pytest.mark.parametrize("trace", ["tr", r"\tr", r"\operatorname{tr}", r"\mathrm{tr}",
                                   r"\operatorname{Tr}", "trace"])
def test_trace_spellings(trace, capsys):
    status, out, _ = _run_in_process(["jacobian", f"{trace}(A^T A)", "--wrt", "A", "--shape",
                                      "A=2x3", "--layout", "denominator", "--format", "sympy"],
                                     capsys)
    assert status == 0 and out == "2*A\n"


def test_variable_not_in_expression_exit_0_with_a_note():
    done = _run("v^T A v", "--wrt", "W", "--shape", "W=m,n", "--shape", "v=n", "--shape",
                "A=n,n", "--format", "numpy")
    assert done.returncode == 0 and done.stdout.startswith("np.zeros((")
    assert "does not depend on W" in done.stderr
    env = {"W": np.ones((2, 3)), "v": np.ones((3, 1)), "A": np.ones((3, 3))}
    assert eval(done.stdout, {"np": np}, env).shape == (3, 2)  # noqa: S307


def test_vec(capsys):
    status, out, err = _run_in_process(["jacobian", "A X B", "--wrt", "X", "--vec", "--shape",
                                        "A=2x3", "--shape", "X=3x4", "--shape", "B=4x2",
                                        "--format", "numpy"], capsys)
    assert status == 0 and out == "np.kron(B.T, A)\n" and "vec convention" in err


BAD_INPUT = [
    (("W x + b", "--wrt", "x", "--shape", "W=2x3", "--shape", "x=3", "--shape", "b=3"),
     "cannot add 'W x' (2×1) and 'b' (3×1): shapes differ at column 5"),
    ((r"\frac{1}{2}\|x - \|^2", "--wrt", "x"), "missing operand before '\\|' at column 18"),
    (("A X B", "--wrt", "X"), "is a 4-tensor; ask for d vec(EXPR)/d vec(X) with --vec"),
    ((r"\operatorname{swish}(x)", "--wrt", "x"), "unknown function \\operatorname{swish}; known"),
    (("v^T A v", "--wrt", "v", "--shape", "v=n", "--shape", "v=m"), "v is given two shapes"),
    (("v^T A v", "--wrt", "v", "--shape", "v=n x m x p"), "cannot read shape"),
    (("v^T A v", "--wrt", "v", "--symmetric", "v"), "v is declared symmetric but is not"),
    (("x^T x", "--wrt", "2 x"), "cannot read the variable"),
    (("Order(A, x)", "--wrt", "x"), "cannot differentiate 'Order(A, x)' by x: SymPy says"),
    (("prod(x.T*x)", "--wrt", "x"), "cannot differentiate 'prod(x.T*x)' by x: SymPy says"),
]


def _check_bad_input(status, out, err, message):
    assert status == 2 and out == ""
    assert "Traceback" not in err
    assert err.startswith("python -m derive jacobian: error: ")
    assert message in err, err
    assert ("SymPy says" in err) == ("SymPy says" in message), err   # our own errors unwrapped
    if "column" in message:
        lines = err.splitlines()
        column = int(message.rsplit("column ", 1)[1])
        assert lines[-1].index("^") - 2 == column - 1      # the caret under the column


@pytest.mark.parametrize("args, message", BAD_INPUT[:2])
def test_bad_input_exit_2_without_traceback(args, message):
    done = _run(*args)
    _check_bad_input(done.returncode, done.stdout, done.stderr, message)


@pytest.mark.parametrize("args, message", BAD_INPUT)
def test_bad_input_messages(args, message, capsys):
    _check_bad_input(*_run_in_process(["jacobian", *args], capsys), message)


def test_help(capsys):
    with pytest.raises(SystemExit) as stop:
        run_commands("python -m derive", "", COMMANDS, ["jacobian", "--help"])
    out = capsys.readouterr().out
    assert stop.value.code == 0 and "--vec" in out and "--symmetric" in out


def test_sizes_table_matches_identity_tests():
    assert SIZES["n"] != SIZES["m"] != SIZES["p"]
    assert sp.Symbol("n") in IDENTITIES[0].numerator.free_symbols
