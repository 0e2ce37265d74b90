"""Derive every gradient of a multilayer perceptron, step by step (the Ensimag recursion).

The network comes from a TOML spec (SPEC §4), from flags, or, with neither, is the built-in
default: 2-3-1, sigmoid, binary cross-entropy, rows convention.  Flags override the spec.

Sizes may be names (``--sizes n_0,n_1,n_2``) or the depth a name (``--depth L``): then the
rules are derived in closed matrix form (the B^j recursion for every convention, with
``--batch`` the batch form ∇W = (1/N) Δ Aᵀ).  ``--form matrix`` asks for the matrix form at
integer sizes too.  The concrete form builds one SymPy symbol per weight and is limited to
50,000 weights and biases (derive.network.MAX_CONCRETE_PARAMETERS); the matrix form, and
--format numpy, which is printed from it, take integer sizes up to 10,000,000 parameters (they are
checked numerically at those sizes) and names at any size.

examples:
  python -m derive mlp
  python -m derive mlp --sizes 3,4,2 --activation tanh --loss mse --convention columns
  python -m derive mlp --sizes 4,5,3 --activations relu,softmax --loss cross_entropy --format json
  python -m derive mlp --sizes n_0,n_1,n_2 --convention augmented --batch
  python -m derive mlp --depth L --activations relu,softmax --loss cross_entropy
  python -m derive mlp net.toml --layout denominator -o derivation.txt
  python -m derive mlp net.toml --format numpy -o mlp.py      # also writes test_mlp.py
  python -m derive mlp --sizes 784,256,10 --activations relu,softmax --loss cross_entropy \
      --format numpy --dtype float32 -o mnist_mlp.py

--format numpy (--emit numpy, its older name) writes a self-contained NumPy module (SPEC §6:
PARAM_SHAPES, init_params, forward, loss, gradients, sgd_step, momentum_step, adam_step),
printed from the batch derivation in the notation's names, checked against central differences
before it is written; with -o it also writes test_<name>.py beside it, which re-runs the check
under pytest.  A file that symbackprop did not generate is never overwritten (use another path).

Activations: identity, sigmoid, tanh, relu, leaky_relu(alpha), step, softplus, softmax, or any
SymPy expression of x.  Losses: mse, squared, l1, huber(delta), logistic, hinge, bce,
cross_entropy, or any SymPy expression of yhat and y.
"""

from __future__ import annotations

import os
import sys

from ..api import FORMS, backprop
from ..codegen import DTYPES, generate_numpy
from ..calculus.result import LAYOUTS
from ..errors import BadInput
from ..network import CONVENTIONS, REDUCTIONS
from ..notation import PROFILES
from ..render import formats, render
from ..spec import DEFAULT_SPEC, read_spec
from . import (EXIT_OK, GENERATED_MARK, add_output_arguments, refuse_foreign, split_top_level,
               write_output)

HELP = "derive all gradients of an MLP from a spec file or flags"
#: What ``--format`` can print: every format of both derivation forms (numpy: the module).
FORMATS = formats("PerNeuronDerivation", "MatrixDerivation")


def add_arguments(parser) -> None:
    parser.add_argument("spec", nargs="?", help="network spec (TOML); default: the built-in "
                        "2-3-1 sigmoid/bce network")
    parser.add_argument("--sizes", help="layer sizes n_0,...,n_L: integers (2,3,1) or names "
                        "(n_0,n_1,n_2)")
    parser.add_argument("--depth", help="a symbolic depth such as L (matrix form; with "
                        "--activations hidden,output)")
    parser.add_argument("--form", choices=FORMS,
                        help="explicit entries (concrete, default for integer sizes) or closed "
                        "matrix form")
    parser.add_argument("--batch", action="store_true",
                        help="matrix form over a batch X (n_0 x N), mean or sum reduction")
    parser.add_argument("--activation", help="activation of every layer")
    parser.add_argument("--activations", help="one activation per layer, comma-separated")
    parser.add_argument("--loss", help="loss name or expression of yhat and y")
    parser.add_argument("--convention", choices=CONVENTIONS)
    parser.add_argument("--reduction", choices=REDUCTIONS)
    parser.add_argument("--layout", choices=LAYOUTS)
    parser.add_argument("--notation", help="notation profile: names in LaTeX and in generated "
                        f"code ({', '.join(PROFILES)})")
    parser.add_argument("--format", "--emit", dest="format", choices=FORMATS, default="text",
                        help="output format (default: text); --emit is its older name")
    parser.add_argument("--json", action="store_true", help="same as --format json")
    parser.add_argument("--dtype", choices=DTYPES, default="float64",
                        help="precision of the generated NumPy module (default float64)")
    add_output_arguments(parser, "the derivation or module")


def _parse_sizes(text: str | None):
    if text is None:
        return None
    parts = [p.strip() for p in text.split(",")]
    if not all(parts):
        raise BadInput(f"sizes {text!r} must be integers or names separated by commas, e.g. "
                       "2,3,1 or n_0,n_1,n_2", "--sizes")
    return [int(p) if p.lstrip("-").isdigit() else p for p in parts]


def _parse_activations(text: str | None) -> list[str] | None:
    """``--activations`` split at its top-level commas: ``Max(x/10,x),sigmoid`` is two.

    >>> _parse_activations("Max(x/10, x),sigmoid")
    ['Max(x/10, x)', 'sigmoid']
    """
    if text is None:
        return None
    parts = split_top_level(text)
    if not all(parts):
        raise BadInput(f"activations {text!r} must be names or expressions of x separated by "
                       "commas, e.g. relu,softmax", "--activations")
    return parts


def run(args) -> int:
    overrides = {"sizes": _parse_sizes(args.sizes), "depth": args.depth,
                 "activation": args.activation, "loss": args.loss,
                 "convention": args.convention, "reduction": args.reduction,
                 "layout": args.layout, "notation": args.notation, "form": args.form,
                 "batch": True if args.batch else None,
                 "activations": _parse_activations(args.activations)}
    if args.activation and args.activations:
        raise BadInput("give either --activation or --activations, not both")
    if args.sizes and args.depth:
        raise BadInput("give either --sizes or --depth, not both")
    source = args.spec if args.spec else DEFAULT_SPEC
    if isinstance(source, dict):
        network = dict(source["network"])
        if args.sizes is None and args.depth is None and (args.activation or args.activations
                                                           or args.loss):
            network = {k: v for k, v in network.items() if k not in ("activation", "loss")}
        if args.activations:
            network.pop("activation", None)
        if args.depth:
            network.pop("sizes", None)
        source = {"network": network}
    elif args.activations:
        overrides["activation"] = None
    fmt = "json" if args.json else args.format
    if fmt == "numpy":
        overrides["form"] = "matrix"          # code is printed from the batch matrix form
    spec = read_spec(source, **overrides)
    network = spec.network
    if fmt == "numpy":
        return _write_numpy(network, args)
    derivation = backprop(network, layout=network.layout, form=spec.form, batch=spec.batch)
    write_output(render(derivation, fmt), args.output, args.force)
    return EXIT_OK


def _write_numpy(network, args) -> int:
    """The generated module (and, with -o, its test file beside it), with how it was checked
    on stderr: more than :func:`~derive.render.render` gives, so it is generated here."""
    name = "mlp"
    if args.output:
        stem = os.path.splitext(os.path.basename(args.output))[0]
        if not args.output.endswith(".py") or not stem.isidentifier():
            raise BadInput(f"{args.output!r} is not a Python module path such as mlp.py", "-o")
        name = stem
    derivation = backprop(network, layout="denominator", form="matrix", batch=True)
    module = generate_numpy(derivation, notation=args.notation, dtype=args.dtype, name=name)
    if args.output is None:
        write_output(module.source, None)
        print(f"verified: {module.check}", file=sys.stderr)
        return EXIT_OK
    test_path = os.path.join(os.path.dirname(os.path.abspath(args.output)), f"test_{name}.py")
    for path in (args.output, test_path):
        refuse_foreign(path, args.force)
    write_output(module.source, args.output, force=True)
    write_output(f"# {GENERATED_MARK}\n" + module.test_source, test_path, force=True)
    print(f"wrote {args.output} and {test_path}; verified: {module.check}", file=sys.stderr)
    return EXIT_OK
