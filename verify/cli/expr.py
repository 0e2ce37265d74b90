r"""Check a claimed derivative of a matrix expression, typed in LaTeX (SPEC §7).

EXPR is what derive jacobian reads (LaTeX or SymPy syntax: v^T A v, \sigma(W x + b)); the
truth is its closed-form derivative by VAR.  The claim may carry a left side (\nabla_{v} f:
the gradient, v's shape; \frac{\partial f}{\partial v}, or none: the derivative in --layout)
and definitions after commas.  Shapes: --shape NAME=RxC (integers or size names: A=n,n, v=n),
--scalar NAME, --symmetric NAME, as for derive jacobian; symbolic sizes are instantiated small
to evaluate.

Prints one line first ("correct", "incorrect: layout swap"), then the diagnosis, the
counterexample and how it was decided.  Exit status: 0 correct, 1 incorrect, 2 invalid claim
or bad input (message on stderr).

examples:
  python -m verify expr 'v^T A v' --wrt v --claimed '(A + A^T) v' --layout denominator
  python -m verify expr 'v^T A v' --wrt v --claimed '2 A v' --symmetric A --layout denominator
"""

from __future__ import annotations

from derive.calculus.claim_nodes import LAYOUTS
from derive.cli import add_variable_arguments, name_arguments, shape_arguments

from ..claims import check_claim
from .claim_output import report_verdict

HELP = "check a claimed derivative of a matrix expression (LaTeX)"


def add_arguments(parser) -> None:
    parser.add_argument("expr", metavar="EXPR", help="the expression, in LaTeX or SymPy syntax")
    parser.add_argument("--wrt", required=True, metavar="VAR", help="the variable")
    parser.add_argument("--claimed", required=True, metavar="LATEX",
                        help="the claimed derivative or gradient")
    add_variable_arguments(parser)
    parser.add_argument("--layout", choices=LAYOUTS, default="numerator")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON document (SPEC §7) instead of text")


def run(args) -> int:
    verdict = check_claim(args.claimed, args.expr, wrt=args.wrt, layout=args.layout,
                          shapes=shape_arguments(args.shape), scalars=name_arguments(args.scalar),
                          symmetric=name_arguments(args.symmetric))
    return report_verdict(verdict, args.json, "python -m verify expr")
