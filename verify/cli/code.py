"""Check a gradient module against central finite differences of its own loss (SPEC §7).

MODULE.py must define loss(params, X, Y) and gradients(params, X, Y) (same keys and shapes as
params; X is n_0 x N with samples as columns).  The point is drawn, seeded: params by the
module's init_params(rng) or from PARAM_SHAPES (or the spec's shapes), X standard normal, Y in
the target domain of the spec's loss (else the module's TARGETS, else inferred from forward()).

A tensor whose gradient entries and differences are all exactly 0 at the point (a dead relu,
a flat loss) proves nothing: it is checked again at up to 5 fresh points (seeded: new params
with the zero entries drawn nonzero, a new batch).  One that stays 0 everywhere (an unused
parameter) is listed as "uninformative" in the table and the headline, not as a failure.

float32 code is compared against float64 central differences (rtol 1e-4): of its own loss when
that resolves float64 inputs, else of its float64 twin, the module with DTYPE = np.float64
(module-level DTYPE read by its functions, as generated modules have).  Without one it is
differenced in float32 (rtol 1e-3), and the report says the check is weaker.

Prints a per-tensor table, then the thresholds used in one line.  Exit status: 0 verified
(also when some tensors are uninformative, which the report says); 1 mismatch (the tensor, the
entries, analytic vs numeric values, the point); 2 unusable module (missing file, syntax error,
missing function, wrong keys or shapes, NaN/inf, an exception) with a one-line message on
stderr.

examples:
  python -m verify code mlp.py
  python -m verify code mlp.py --spec net.toml --mode directional --seed 3
  python -m verify code mlp.py --json
"""

from __future__ import annotations

import contextlib
import json
import sys

from derive.cli import EXIT_FAILED, EXIT_OK, write_output
from derive.errors import BadInput
from derive.spec import load_spec

from ..modules import Unusable
from ..numeric import FULL_LIMIT, MODES, check_gradients

HELP = "finite-difference check of a gradient module (loss + gradients)"


def add_arguments(parser) -> None:
    parser.add_argument("module", metavar="MODULE.py",
                        help="Python file defining loss(params, X, Y) and gradients(params, X, Y)")
    parser.add_argument("--spec", metavar="SPEC.toml",
                        help="network spec the module implements: sizes, parameter shapes, "
                        "target domain")
    parser.add_argument("--mode", choices=MODES, default="auto",
                        help="every coordinate (full), random directions per tensor "
                        f"(directional), or full up to {FULL_LIMIT} parameters (auto, default)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the drawn point, directions and re-draws (default 0)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON document instead of text")


def run(args) -> int:
    if args.seed < 0:
        raise BadInput(f"the seed must be a non-negative integer, got {args.seed}", "--seed")
    try:
        spec = load_spec(args.spec) if args.spec else None
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        raise BadInput(f"{exc.strerror}: {exc.filename}", "--spec") from None
    # Whatever the module prints goes to stderr: stdout carries the report (or the JSON).
    with contextlib.redirect_stdout(sys.stderr):
        report = check_gradients(args.module, spec=spec, mode=args.mode, seed=args.seed)
    if args.json:
        write_output(json.dumps(report.as_dict(), indent=2), None)
    elif report.status != "unusable":
        write_output(report.to_text(), None)
    if report.status == "unusable":
        raise Unusable(report.message)
    return EXIT_OK if report.ok else EXIT_FAILED
