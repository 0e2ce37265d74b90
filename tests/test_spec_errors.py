"""Bad specs and flags: every error names what is wrong and where (file:line: [table] key, or
the flag), exits 2 with one line on stderr, and writes nothing.

In-process calls through :func:`derive.cli.run_commands`, as in test_derive_cli.py.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import derive
from derive.__main__ import COMMANDS
from derive.cli import run_commands
from derive.errors import BadInput
from derive.network import MAX_CONCRETE_PARAMETERS


def call(argv, capsys):
    code = run_commands("python -m derive", "", COMMANDS, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def refused(argv, capsys) -> str:
    """stderr of a command that must be refused as bad input."""
    code, out, err = call(argv, capsys)
    assert code == 2, (out, err)
    assert "Traceback" not in err and err.count("\n") == 1, err
    return err


HEADER = '[network]\nsizes = [2, 3, 1]\nactivation = "tanh"\nloss = "mse"\n'

# (case, TOML text, line of the key, key, fragment of the message)
SPECS = [
    ("network not a table", "network = 3\n", 1, None,
     "network must be a table ([network]), got an integer"),
    ("size zero", '[network]\nactivation = "tanh"\nloss = "mse"\nsizes = [2, 0, 1]\n', 4,
     "[network] sizes", "size 0 is < 1"),
    ("float size", '[network]\nactivation = "tanh"\nsizes = [2, 3.5, 1]\n', 3,
     "[network] sizes", "size 3.5 is not an integer"),
    ("bool size", '[network]\nactivation = "tanh"\nsizes = [2, true, 1]\n', 3,
     "[network] sizes", "size true is not an integer"),
    ("empty sizes", '[network]\nactivation = "tanh"\nsizes = []\n', 3,
     "[network] sizes", "sizes needs at least an input and an output size"),
    ("size not a name", '[network]\nactivation = "tanh"\nsizes = [2, "n 1", 1]\n', 3,
     "[network] sizes", "size 'n 1' is neither an integer nor a name"),
    ("sizes a string", '[network]\nactivation = "tanh"\nsizes = "2,3,1"\n', 3,
     "[network] sizes", "sizes must be an array"),
    ("loss a number", '[network]\nsizes = [2, 3, 1]\nactivation = "tanh"\n\nloss = 3\n', 5,
     "[network] loss", "loss must be a name or an expression"),
    ("huber(0)", '[network]\nsizes = [2, 3, 1]\nactivation = "tanh"\nloss = "huber(0)"\n', 4,
     "[network] loss", "huber needs delta > 0, got 0"),
    ("convention", HEADER + 'convention = "diagonal"\n', 5, "[network] convention",
     "unknown convention 'diagonal'"),
    ("reduction", HEADER + 'reduction = "max"\n', 5, "[network] reduction",
     "unknown reduction 'max'"),
    ("unknown activation", '[network]\nsizes = [2, 3, 1]\nloss = "mse"\nactivation = "swsh"\n',
     4, "[network] activation", "no activation named 'swsh'"),
    ("activations a string", '[network]\nsizes = [2, 3, 1]\nloss = "mse"\n'
     'activations = "tanh"\n', 4, "[network] activations",
     'activations must be a list of names, got a string; use activation = "tanh" for every '
     'layer'),
    ("activations count", '[network]\nsizes = [2, 3, 1]\nloss = "mse"\n'
     'activations = ["tanh"]\n', 4, "[network] activations", "1 activations given for 2 layers"),
    ("activation does not parse", '[network]\nsizes = [2, 3, 1]\nloss = "mse"\n'
     'activations = ["tanh", "x*(y"]\n', 4, "[network] activations",
     "activation 'x*(y' does not parse"),
    ("pairing at the loss", '[network]\nsizes = [2, 3, 1]\nactivation = "relu"\nloss = "bce"\n',
     4, "[network] loss", "loss bce is not defined at the outputs of relu"),
    ("symbolic size zero", '[network]\nsizes = ["n_0", "n_1", 0]\nactivation = "tanh"\n'
     'loss = "mse"\n', 2, "[network] sizes", "size 0 is < 1"),
]


@pytest.mark.parametrize("case, text, line, key, fragment", SPECS, ids=[s[0] for s in SPECS])
def test_a_bad_spec_names_the_key_and_its_line(case, text, line, key, fragment, tmp_path,
                                               capsys):
    spec = tmp_path / "net.toml"
    spec.write_text(text)
    err = refused(["mlp", str(spec)], capsys)
    where = f"{spec}:{line}: {key}: " if key else f"{spec}:{line}: "
    assert where + fragment in err, err


@pytest.mark.parametrize("table", ["output", "activations", "losses", "notation"])
def test_a_top_level_value_where_a_table_belongs(table, tmp_path, capsys):
    spec = tmp_path / "net.toml"
    spec.write_text(f'{table} = "x"\n[network]\nsizes = [2, 1]\n')
    err = refused(["mlp", str(spec)], capsys)
    assert f"{spec}:1: {table} must be a table ([{table}]), got a string" in err


# (case, flags, where, fragment): each error names the one flag that was wrong.
FLAGS = [
    ("huber(-1)", ["--loss", "huber(-1)", "--activation", "tanh"], "--loss",
     "huber needs delta > 0, got -1"),
    ("leaky_relu(2)", ["--activation", "leaky_relu(2)", "--loss", "mse"], "--activation",
     "leaky_relu needs 0 <= alpha < 1, got 2"),
    ("parse error", ["--activation", "x*(y", "--sizes", "2,3,1"], "--activation",
     "'x*(y' does not parse"),
    ("size zero", ["--sizes", "2,0,1", "--activation", "tanh"], "--sizes", "size 0 is < 1"),
    ("empty activation", ["--activations", "tanh,,sigmoid"], "--activations",
     "must be names or expressions of x separated by commas"),
    ("too large", ["--sizes", "100000000000,1"], "--sizes",
     f"limited to {MAX_CONCRETE_PARAMETERS:,}: use the matrix form (--form matrix"),
    ("too large to check", ["--sizes", "100000000000,1", "--form", "matrix"], "--sizes",
     "give names (n_0,n_1,…)"),
    ("too large for code", ["--sizes", "100000000000,1", "--emit", "numpy"], "--sizes",
     "checked numerically"),
]


@pytest.mark.parametrize("case, flags, where, fragment", FLAGS, ids=[f[0] for f in FLAGS])
def test_a_bad_flag_is_named_alone(case, flags, where, fragment, capsys):
    err = refused(["mlp", *flags], capsys)
    assert f"error: {where}: " in err and fragment in err, err
    assert "/--" not in err.split(": ")[1]


def test_a_flag_error_with_a_spec_names_the_flag(tmp_path, capsys):
    spec = tmp_path / "net.toml"
    spec.write_text(HEADER)
    err = refused(["mlp", str(spec), "--loss", "huber(0)"], capsys)
    assert "error: --loss: huber needs delta > 0, got 0" in err


def test_activations_split_only_at_top_level_commas(capsys):
    code, out, err = call(["mlp", "--activations", "Max(x/10,x),sigmoid", "--json"], capsys)
    assert code == 0, err
    network = json.loads(out)["network"]
    assert network["activations"] == ["phi", "sigmoid"]
    assert network["activation_expressions"][0] == "Max(x/10, x)"


def test_distinct_inline_activations_get_distinct_names_and_their_expressions(capsys):
    code, out, err = call(["mlp", "--activations", "x**3,x**2", "--loss", "log(cosh(yhat-y))",
                           "--emit", "json"], capsys)
    assert code == 0, err
    network = json.loads(out)["network"]
    assert network["activations"] == ["phi1", "phi2"]
    assert network["activation_expressions"] == ["x**3", "x**2"]
    assert network["loss"] == "loss" and network["loss_expression"] == "log(cosh(y - yhat))"


def test_one_inline_activation_for_every_layer_stays_phi():
    net = derive.mlp([2, 3, 2, 1], activation="x**3", loss="mse")
    assert [layer.activation.name for layer in net.layers] == ["phi"] * 3
    assert len({id(layer.activation) for layer in net.layers}) == 1   # one entry, not three


def test_matrix_form_json_has_the_expressions_too(capsys):
    code, out, err = call(["mlp", "--sizes", "n_0,n_1,n_2", "--activations", "x**3,identity",
                           "--loss", "mse", "--json"], capsys)
    assert code == 0, err
    network = json.loads(out)["network"]
    assert network["activation_expressions"] == ["x**3", "x"]
    assert network["loss_expression"] == "(y - yhat)**2/2"


def test_any_integral_size_type_is_accepted_and_floats_are_not():
    assert derive.mlp([2, np.int64(3), 1], activation="tanh", loss="mse").sizes == (2, 3, 1)
    with pytest.raises(BadInput, match=r"size 3.0 is not an integer \(sizes \[2, 3.0, 1\]\)"):
        derive.mlp([2, 3.0, 1])
    with pytest.raises(BadInput, match="size True is not an integer"):
        derive.mlp([2, True, 1])


def test_the_concrete_limit_points_to_the_matrix_form():
    net = derive.mlp([1000, 1000, 1])            # one Network type: building it is cheap
    with pytest.raises(BadInput, match="use the matrix form"):
        derive.backprop(net)                     # the per-entry form is what is limited
    assert derive.backprop(net, form="matrix").gradient("W1").shape == (1000, 1000)


def test_large_integer_sizes_still_work_in_the_matrix_form(capsys):
    code, out, err = call(["mlp", "--sizes", "784,1024,10", "--activations", "relu,softmax",
                           "--loss", "cross_entropy", "--form", "matrix"], capsys)
    assert code == 0, err
    assert "grad_W1" in out


def test_nothing_is_overwritten_on_bad_input(tmp_path, capsys):
    spec = tmp_path / "net.toml"
    spec.write_text('[network]\nsizes = [2, 3, 1]\nloss = "huber(0)"\n')
    target = tmp_path / "out.txt"
    target.write_text("generated by symbackprop\nkeep me")
    refused(["mlp", str(spec), "-o", str(target)], capsys)
    assert target.read_text() == "generated by symbackprop\nkeep me"
