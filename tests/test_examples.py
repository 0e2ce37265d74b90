"""Every spec file in examples/ works through the commands a user would run on it."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

import derive
from derive.cli import run_commands
from derive.__main__ import COMMANDS

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.toml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_derives(path, capsys):
    command = "graph" if "graph" in tomllib.loads(path.read_text()) else "mlp"
    assert run_commands("python -m derive", "", COMMANDS, [command, str(path)]) == 0
    out = capsys.readouterr().out
    assert "grad" in out


@pytest.mark.parametrize("path", [p for p in EXAMPLES if "graph" not in p.stem],
                         ids=lambda p: p.stem)
def test_example_networks_derive_checked_gradients(path):
    net = derive.load_spec(path)
    d = derive.backprop(net, form="matrix")
    assert d.gradients and "central_differences" in d.check.methods()
