"""Derive every gradient of a general computation graph (seed 001) from a TOML spec.

Prints one line per step, ``lhs = rhs    [rule]`` (node definitions, local Jacobians, adjoints
in reverse topological order), then the gradient of every parameter and input in the shape of
that name, over inputs, parameters and node values (``--explicit``: inputs and parameters
only).  ``--json`` prints one JSON document instead.
The spec format is described in docs/graph.md:

    [graph]
    output = "J"
    inputs = ["x"]
    parameters = ["w"]
    [graph.nodes]
    z = "w*x"
    J = "sin(z)"
"""

from __future__ import annotations

import json

import sympy as sp

from ..calculus.result import LAYOUTS
from ..derivation import RULES
from ..graph import GraphDerivation, derive_graph, load_graph
from . import EXIT_OK, add_output_arguments, write_output

HELP = "gradients of a general computation graph (seed 001): python -m derive graph SPEC.toml"


def add_arguments(parser) -> None:
    parser.add_argument("spec", metavar="SPEC.toml", help="a TOML file with a [graph] table")
    parser.add_argument("--layout", choices=LAYOUTS, default="numerator",
                        help="layout of every derivative step (default: numerator)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON document (steps with rules, gradients)")
    parser.add_argument("--explicit", action="store_true",
                        help="write gradients in inputs and parameters only (default: over the "
                             "node values too, as backprop code computes them)")
    add_output_arguments(parser)


def run(args) -> int:
    derivation = derive_graph(load_graph(args.spec), layout=args.layout)
    text = (render_json(derivation) if args.json
            else render_text(derivation, explicit=args.explicit))
    write_output(text, args.output, args.force)
    return EXIT_OK


def one_line(value: sp.Basic) -> str:
    """SymPy's string form on one line (a Matrix as ``Matrix([[...], [...]])``)."""
    if isinstance(value, sp.MatrixBase):
        return f"Matrix({sp.sstr(value.tolist())})"
    return sp.sstr(value)


def render_text(d: GraphDerivation, explicit: bool = False) -> str:
    """Steps, one per line, then every parameter's and input's gradient."""
    lines = [f"# graph {d.graph.source or ''}: output {d.output}, layout {d.layout}".replace(
        "graph :", "graph:")]
    lines += [f"{step.lhs} = {one_line(step.rhs)}    [{step.rule}]" for step in d.steps]
    lines.append("")
    over = "inputs and parameters" if explicit else "inputs, parameters and node values"
    lines.append(f"# gradients of {d.output} in {over}, each in the shape of its variable")
    for name in d.leaves():
        shape = "x".join(map(str, d.variables[name].shape))
        value = d.gradient(name, explicit=True) if explicit else d.over_nodes(d.gradient(name))
        lines.append(f"grad_{name} {d.output} = {one_line(value)}    [{shape}]")
    return "\n".join(lines) + "\n"


def render_json(d: GraphDerivation) -> str:
    """One JSON document: steps (with rules), gradients explicit and over node values."""
    steps = []
    for step in d.steps:
        steps.append({"lhs": str(step.lhs), "kind": step.lhs.kind, "of": step.lhs.of,
                      "wrt": step.lhs.wrt, "rhs": one_line(step.rhs), "rule": step.rule,
                      "justification": RULES[step.rule], "form": step.form,
                      "check": step.check})
    document = {
        "source": d.graph.source,
        "output": d.output,
        "layout": d.layout,
        "order": list(d.order),
        "shapes": {name: list(v.shape) for name, v in d.variables.items()},
        "steps": steps,
        "gradients": {name: one_line(d.gradient(name, explicit=True)) for name in d.leaves()},
        "gradients_over_nodes": {name: one_line(d.over_nodes(d.gradient(name)))
                                 for name in d.leaves()},
    }
    return json.dumps(document, indent=2, ensure_ascii=False)
