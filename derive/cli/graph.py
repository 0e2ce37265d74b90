"""Derive every gradient of a general computation graph (CMU 10-315) from a TOML spec.

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

from ..calculus.result import LAYOUTS
from ..graphs import derive_graph, load_graph
from ..render import formats, render
from . import EXIT_OK, add_output_arguments, write_output

HELP = "gradients of a general computation graph (CMU 10-315): python -m derive graph SPEC.toml"
#: What ``--format`` can print.
FORMATS = formats("GraphDerivation")


def add_arguments(parser) -> None:
    parser.add_argument("spec", metavar="SPEC.toml", help="a TOML file with a [graph] table")
    parser.add_argument("--layout", choices=LAYOUTS, default="numerator",
                        help="layout of every derivative step (default: numerator)")
    parser.add_argument("--format", choices=FORMATS, default="text",
                        help="text: the steps and gradients (default); latex: the derivation "
                             "as LaTeX; sympy: each gradient as a SymPy expression; numpy: "
                             "each gradient as one NumPy expression of the inputs and "
                             "parameters (arrays indexed W[i, j], in the variable's shape); "
                             "json: one JSON document")
    parser.add_argument("--json", action="store_true", help="the same as --format json")
    parser.add_argument("--explicit", action="store_true",
                        help="write gradients in inputs and parameters only (default: over the "
                             "node values too, as backprop code computes them)")
    add_output_arguments(parser)


def run(args) -> int:
    derivation = derive_graph(load_graph(args.spec), layout=args.layout)
    fmt = "json" if args.json else args.format
    write_output(render(derivation, fmt, explicit=args.explicit), args.output, args.force)
    return EXIT_OK
