"""Derive every gradient of a multilayer perceptron, step by step (seed 003's recursion).

The network comes from a TOML spec (SPEC §4), from flags, or, with neither, is the built-in
default: 2-3-1, sigmoid, binary cross-entropy, rows convention.  Flags override the spec.

examples:
  python -m derive mlp
  python -m derive mlp --sizes 3,4,2 --activation tanh --loss mse --convention columns
  python -m derive mlp --sizes 4,5,3 --activations relu,softmax --loss cross_entropy --emit json
  python -m derive mlp net.toml --layout denominator -o derivation.txt

Activations: identity, sigmoid, tanh, relu, leaky_relu(alpha), step, softplus, softmax, or any
SymPy expression of x.  Losses: mse, squared, l1, huber(delta), logistic, hinge, bce,
cross_entropy, or any SymPy expression of yhat and y.
"""

from __future__ import annotations

from ..backprop import backprop
from ..errors import BadInput
from ..printing.text import render_json, render_text
from ..spec import DEFAULT_SPEC, load_spec
from . import write_output

HELP = "derive all gradients of an MLP from a spec file or flags"
EMITTERS = {"text": render_text, "json": render_json}


def add_arguments(parser) -> None:
    parser.add_argument("spec", nargs="?", help="network spec (TOML); default: the built-in "
                        "2-3-1 sigmoid/bce network")
    parser.add_argument("--sizes", help="layer sizes n_0,...,n_L, e.g. 2,3,1")
    parser.add_argument("--activation", help="activation of every layer")
    parser.add_argument("--activations", help="one activation per layer, comma-separated")
    parser.add_argument("--loss", help="loss name or expression of yhat and y")
    parser.add_argument("--convention", choices=["rows", "columns", "augmented"])
    parser.add_argument("--reduction", choices=["mean", "sum"])
    parser.add_argument("--layout", choices=["numerator", "denominator"])
    parser.add_argument("--notation", help="notation profile (used by LaTeX reports)")
    parser.add_argument("--emit", choices=sorted(EMITTERS), default="text",
                        help="output format (default: text)")
    parser.add_argument("--json", action="store_true", help="same as --emit json")
    parser.add_argument("-o", "--output", help="write to this file instead of stdout")


def _parse_sizes(text: str | None):
    if text is None:
        return None
    parts = [p.strip() for p in text.split(",")]
    try:
        return [int(p) for p in parts]
    except ValueError:
        raise BadInput(f"sizes {text!r} must be integers separated by commas, e.g. 2,3,1",
                       "--sizes") from None


def run(args) -> int:
    overrides = {"sizes": _parse_sizes(args.sizes), "activation": args.activation, "loss": args.loss,
                 "convention": args.convention, "reduction": args.reduction,
                 "layout": args.layout, "notation": args.notation,
                 "activations": args.activations.split(",") if args.activations else None}
    if args.activation and args.activations:
        raise BadInput("give either --activation or --activations, not both")
    if args.activations:
        overrides["activation"] = None
    source = args.spec if args.spec else DEFAULT_SPEC
    if args.spec is None and args.sizes is None and (args.activation or args.activations
                                                     or args.loss):
        source = {"network": {k: v for k, v in DEFAULT_SPEC["network"].items()
                              if k not in ("activation", "loss")}}
    if isinstance(source, dict) and args.activations:
        source = {"network": {k: v for k, v in source["network"].items() if k != "activation"}}
    network = load_spec(source, **overrides)
    derivation = backprop(network, layout=network.layout)
    emit = "json" if args.json else args.emit
    write_output(EMITTERS[emit](derivation), args.output)
    return 0
