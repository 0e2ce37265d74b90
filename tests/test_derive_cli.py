"""``python -m derive mlp`` and spec files end to end: outputs, symbolic sizes, bad input.

Real subprocesses where the exit code and stderr matter; in-process calls otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import pytest
import sympy as sp

import derive
from derive.__main__ import COMMANDS
from derive.api import FORMS
from derive.calculus.result import LAYOUTS
from derive.cli import graph as graph_command, mlp as mlp_command, run_commands
from derive.codegen import DTYPES
from derive.network import CONVENTIONS, REDUCTIONS
from derive.render import formats


def run(*argv, env=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "derive", *argv], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=300)


def call(argv, capsys):
    code = run_commands("python -m derive", "", COMMANDS, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- the main job ---------------------------------------------------------------------------

def test_default_network_prints_the_ensimag_derivation_and_every_gradient(capsys):
    code, out, _ = call(["mlp"], capsys)
    assert code == 0
    assert "2-3-1 network, activation sigmoid, loss bce" in out
    assert "P^3 = dC/da^2" in out and "B^2" in out
    for name in ("W1", "b1", "W2", "b2"):
        assert f"grad_{name} = " in out
    assert "Recognised simplification: dC/dz^2 = yhat - y" in out


def test_json_has_steps_with_rules_and_gradients_as_sympy_strings(capsys):
    code, out, _ = call(["mlp", "--sizes", "2,2,1", "--activation", "tanh", "--loss", "mse",
                         "--json"], capsys)
    document = json.loads(out)
    assert code == 0 and document["network"]["sizes"] == [2, 2, 1]
    assert all(step["rule"] and step["justification"] for step in document["steps"])
    gradient = document["gradients"]["W2"]
    assert len(gradient) == 1 and len(gradient[0]) == 2
    assert sp.sympify(gradient[0][0]) == sp.Symbol("B2_1") * sp.Symbol("a1_1")


def test_matrix_form_with_symbolic_sizes(capsys):
    code, out, _ = call(["mlp", "--sizes", "n_0,n_1,n_2", "--convention", "columns",
                         "--activation", "tanh", "--loss", "mse"], capsys)
    assert code == 0
    assert "grad_W1 = x B1^T" in out                  # ∇_{W^j} E = α^{j-1} [B^j]ᵀ
    assert "B^1 = tanh'(z1) (.) (W2 B2)" in out
    assert "Checked: central differences" in out


def test_symbolic_depth_from_a_spec_file(tmp_path, capsys):
    spec = tmp_path / "deep.toml"
    spec.write_text('[network]\ndepth = "L"\nactivations = ["relu", "softmax"]\n'
                    'loss = "cross_entropy"\nconvention = "rows"\n[output]\nbatch = true\n')
    code, out, _ = call(["mlp", str(spec), "--json"], capsys)
    document = json.loads(out)
    assert code == 0 and document["batch"] is True and document["network"]["depth"] == "L"
    assert document["gradients"]["Wj"] == "1/N*D[j]*A[j-1].T"     # (1/N) Δ^j A^{j-1 T}
    assert document["simplification"] == "B^L = a^L - y"


def test_batch_form_of_an_integer_network(capsys):
    code, out, _ = call(["mlp", "--form", "matrix", "--batch", "--reduction", "sum"], capsys)
    assert code == 0 and "grad_W2 = D2 A1^T" in out and "grad_b2 = D2 1" in out


def test_text_prints_the_general_form_of_each_step(capsys):
    code, out, _ = call(["mlp", "--sizes", "2,3,2,1", "--activation", "tanh", "--loss", "mse",
                         "--layout", "denominator"], capsys)
    assert code == 0
    assert "  (1) z^1 = W^1 a^0 + b^1" in out
    assert "dE/dw_k^2 = df^2/dw_k^2 . P^3" in out                  # reversed: denominator layout
    assert "grad_W2 E = B^2 [a^1]^T" in out
    code, out, _ = call(["mlp", "--depth", "L", "--activations", "relu,softmax",
                         "--loss", "cross_entropy", "--json"], capsys)
    forms = [step["form"] for step in json.loads(out)["steps"]]
    assert "z^j = W^j a^j-1 + b^j" in forms and "C = sum_k l(a^L_k, y_k) = 1^T l(a^L, y)" in forms
    assert any(form.startswith("P^j+1 = dC/da^j") for form in forms)


def test_format_and_its_older_name_emit_agree_and_both_are_documented(capsys):
    argv = ["mlp", "--sizes", "2,2,1", "--activation", "tanh", "--loss", "mse"]
    outputs = [call([*argv, flag, fmt], capsys) for flag in ("--format", "--emit")
               for fmt in ("json", "latex")]
    assert outputs[0] == outputs[2] and outputs[1] == outputs[3]
    assert all(code == 0 for code, _, _ in outputs)
    shown = " ".join(run("mlp", "--help").stdout.split())
    assert "--format {text,latex,numpy,json}, --emit {text,latex,numpy,json}" in shown
    assert "--emit is its older name" in shown
    for argv in (["graph", "--help"], ["jacobian", "--help"]):
        assert "--format {" in run(*argv).stdout


def test_choices_are_the_constants():
    choices = {}
    for name, module in (("mlp", mlp_command), ("graph", graph_command)):
        parser = argparse.ArgumentParser()
        module.add_arguments(parser)
        choices[name] = {action.dest: tuple(action.choices) for action in parser._actions
                         if action.choices}
    assert choices["mlp"] == {"form": FORMS, "convention": CONVENTIONS, "reduction": REDUCTIONS,
                              "layout": LAYOUTS, "format": formats("PerNeuronDerivation"),
                              "dtype": DTYPES}
    assert choices["graph"] == {"layout": LAYOUTS, "format": formats("GraphDerivation")}


def test_output_is_byte_identical_across_hash_seeds():
    outputs = set()
    for seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        for argv in (["--json"], ["--emit", "latex"], ["--emit", "numpy"]):
            result = run("mlp", "--sizes", "3,2,2", "--activations", "relu,softmax",
                         "--loss", "cross_entropy", *argv, env=env)
            assert result.returncode == 0 and result.stdout.strip(), result.stderr
            outputs.add((tuple(argv), result.stdout))
    assert len(outputs) == 3


def test_spec_notation_table_overrides_a_profile():
    net = derive.load_spec({"network": {"sizes": [2, 2, 1]},
                            "output": {"notation": "cs229"},
                            "notation": {"W": "\\Theta{l}"}})
    assert net.notation.symbol("W", 2) == "\\Theta^{[2]}"
    assert net.notation.symbol("a", 1) == "a^{[1]}"


# --- bad input: exit 2, a message that says what and where, no traceback ---------------------

BAD = [
    ("unknown activation", ["mlp", "--activation", "swsh"], "no activation named 'swsh'"),
    ("unknown loss", ["mlp", "--loss", "hnge"], "no loss named 'hnge'"),
    ("size zero", ["mlp", "--sizes", "2,0,1"], "size 0 is < 1"),
    ("bad sizes", ["mlp", "--sizes", "2,,1"], "--sizes"),
    ("stray variable", ["mlp", "--activation", "x*w"], "may use only x"),
    ("loss variable", ["mlp", "--loss", "(yhat - t)**2"], "may use only yhat, y"),
    ("softmax one unit", ["mlp", "--activations", "tanh,softmax", "--loss", "cross_entropy"],
     "softmax over a single output"),
    ("softmax hinge", ["mlp", "--sizes", "2,3,3", "--activations", "tanh,softmax",
                       "--loss", "hinge"], "margin loss"),
    ("relu with bce", ["mlp", "--activation", "relu", "--loss", "bce"],
     "relu(-4) = 0 gives bce(yhat = 0, y = 1) = ∞"),
    ("tanh with cross_entropy", ["mlp", "--sizes", "2,3,3", "--activation", "tanh",
                                 "--loss", "cross_entropy"], "not defined at the outputs of tanh"),
    ("user output with bce", ["mlp", "--activation", "x*tanh(log(1 + exp(x)))", "--loss", "bce",
                              "--emit", "numpy"], "a non-real number"),
    ("user loss of a negative output", ["mlp", "--activations", "tanh,identity",
                                        "--loss", "log(yhat)*y"], "not defined at the outputs"),
    ("depth and sizes", ["mlp", "--sizes", "2,3", "--depth", "L"], "not both"),
    ("concrete symbolic", ["mlp", "--sizes", "n_0,n_1", "--form", "concrete"],
     "only the matrix form"),
    ("missing spec", ["mlp", "/nonexistent/net.toml"], "No such file"),
    ("huber delta names its flag", ["mlp", "--loss", "huber(-1)", "--activation", "tanh"],
     "--loss: huber needs delta > 0, got -1"),
    ("parse error names its flag", ["mlp", "--activation", "x*(y"],
     "error: --activation: activation 'x*(y' does not parse"),
    ("float size", ["mlp", "--sizes", "2,3.0,1"], "--sizes: size '3.0' is neither"),
]


@pytest.mark.parametrize("case, argv, fragment", BAD, ids=[b[0] for b in BAD])
def test_bad_input_exits_2_with_a_message(case, argv, fragment, capsys):
    code, out, err = call(argv, capsys)
    assert code == 2, (out, err)
    assert fragment in err and "Traceback" not in err
    assert err.count("\n") == 1


def test_malformed_toml_names_line_and_nothing_is_written(tmp_path):
    spec = tmp_path / "bad.toml"
    spec.write_text('[network]\nsizes = [2, 3, 1\nactivation = "tanh"\n')
    target = tmp_path / "out.txt"
    target.write_text("keep me")
    result = run("mlp", str(spec), "-o", str(target))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "malformed TOML: Unclosed array" in result.stderr
    assert f"{spec}:3:1:" in result.stderr            # where the parser noticed it
    assert target.read_text() == "keep me"


def test_unknown_key_names_file_line_and_key(tmp_path):
    spec = tmp_path / "typo.toml"
    spec.write_text('[network]\nsizes = [2, 3, 1]\nactivaton = "tanh"\n')
    result = run("mlp", str(spec))
    assert result.returncode == 2
    assert f"{spec}:3: [network] activaton" in result.stderr
    assert "unknown key 'activaton'" in result.stderr


def test_help_of_every_command():
    for argv in (["--help"], ["mlp", "--help"], ["graph", "--help"], ["jacobian", "--help"]):
        result = run(*argv)
        assert result.returncode == 0 and "usage" in result.stdout


def test_a_failed_engine_check_exits_1_and_writes_nothing(tmp_path, capsys, monkeypatch):
    import derive.codegen

    def failing(*args, **kwargs):
        raise derive.errors.CheckFailed("gradient of W1 disagrees with central differences")

    monkeypatch.setattr(derive.codegen, "check_module", failing)
    target = tmp_path / "net.py"
    code, out, err = call(["mlp", "--emit", "numpy", "-o", str(target)], capsys)
    assert code == 1 and "check failed (nothing written)" in err and "W1" in err
    assert not target.exists() and not (tmp_path / "test_net.py").exists()


@pytest.mark.parametrize("argv", [
    ["mlp"], ["mlp", "--emit", "json"], ["mlp", "--emit", "latex"],
    ["jacobian", "v^T A v", "--wrt", "v"], ["graph", "examples/graph_cmu.toml"],
])
def test_output_never_replaces_a_file_symbackprop_did_not_write(argv, tmp_path, capsys):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    argv = [os.path.join(root, a) if a.startswith("examples/") else a for a in argv]
    target = tmp_path / "notes.txt"
    target.write_text("my own notes")
    code, _, err = call([*argv, "-o", str(target)], capsys)
    assert code == 2 and "not generated by symbackprop" in err and "--force" in err
    assert target.read_text() == "my own notes"
    code, _, _ = call([*argv, "-o", str(target), "--force"], capsys)
    assert code == 0 and target.read_text() != "my own notes"


@pytest.mark.parametrize("argv", [
    ["mlp"], ["mlp", "--emit", "json"], ["mlp", "--emit", "latex"], ["mlp", "--sizes", "n_0,n_1"],
    ["jacobian", "v^T A v", "--wrt", "v", "--format", "json"],
    ["graph", "examples/graph_cmu.toml"], ["graph", "examples/graph_cmu.toml", "--json"],
])
def test_marked_output_can_be_regenerated_in_place(argv, tmp_path, capsys):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    argv = [os.path.join(root, a) if a.startswith("examples/") else a for a in argv]
    target = tmp_path / "out"
    assert call([*argv, "-o", str(target)], capsys)[0] == 0
    first = target.read_text()
    assert "generated by symbackprop" in first[:200] or '"generated_by": "symbackprop"' in first
    assert call([*argv, "-o", str(target)], capsys)[0] == 0
    assert target.read_text() == first
