r"""Differentiate a matrix expression in closed form, with symbolic or concrete sizes.

EXPR is LaTeX (v^T A v, \sigma(W x + b), \frac{1}{2}\|X w - y\|^2, \log\det X,
\operatorname{tr}(A^T B)) or SymPy syntax (v.T*A*v, (A*x + b).applyfunc(tanh), log(det(X)),
Rational(1, 2)*x.T*Identity(n)*x): names of `from sympy import *`, read without eval (dunders,
lambdas and functions that print, plot, open files or evaluate text are refused).

Shapes: --shape NAME=RxC with integers or size names: A=3x3, W=m,n (a comma when a size name
contains an x), v=n (a column n×1), r=1xn (a row).  An undeclared name starting with a lowercase
letter is a column n×1, any other an n×n matrix (a note says so).  --scalar t declares a real
scalar.  --symmetric A declares A = Aᵀ.

Layout (SPEC §3.1): numerator ∂y/∂x is m×n, ∂f/∂x is 1×n, ∂f/∂X is q×p for X p×q; denominator
transposes each (∇f has the shape of the variable).  --format numpy prints one NumPy expression
in the variable names whose value has exactly that shape.

--vec gives d vec(EXPR)/d vec(VAR) (columns stacked; A X B by X is B^T ⊗ A): the only form of
the derivative of a matrix, or of a vector by a matrix (tensors of order 3 or 4).

Examples:
  python -m derive jacobian 'v^T A v' --wrt v --layout denominator
  python -m derive jacobian 'v^T A v' --wrt v --symmetric A
  python -m derive jacobian '\frac{1}{2}\|\sigma(W a + b) - y\|^2' --wrt W \
      --shape W=m,n --shape a=n --shape b=m --shape y=m --format numpy
"""

from __future__ import annotations

import json
import sys

from . import (EXIT_OK, add_output_arguments, add_variable_arguments, name_arguments,
               shape_arguments, write_output)
from ..calculus.matrix_printing import latex_matrix
from ..calculus.result import LAYOUTS
from ..errors import BadInput
from ..jacobians import jacobian

HELP = "closed-form Jacobian / gradient of a matrix expression (LaTeX or SymPy syntax)"
FORMATS = ("latex", "numpy", "sympy", "json")


def add_arguments(parser) -> None:
    parser.add_argument("expr", metavar="EXPR", help="the expression, in LaTeX or SymPy syntax")
    parser.add_argument("--wrt", required=True, metavar="VAR", help="the variable")
    add_variable_arguments(parser)
    parser.add_argument("--layout", choices=LAYOUTS, default="numerator")
    parser.add_argument("--format", choices=FORMATS, default="latex")
    parser.add_argument("--vec", action="store_true",
                        help="the vec convention: d vec(EXPR)/d vec(VAR) (columns stacked, "
                             "Kronecker products); needed when EXPR is a matrix, or a vector "
                             "differentiated by a matrix")
    parser.add_argument("--json", action="store_true", help="same as --format json")
    add_output_arguments(parser)


def _renamed(result) -> list[str]:
    return [f"{name} → {code}" for name, code in result.numpy_names.items() if name != code]


RENDERINGS = {
    "latex": lambda result: result.latex,
    "numpy": lambda result: result.numpy,
    "sympy": lambda result: result.sympy,
    "json": lambda result: json.dumps(as_json(result), indent=2, ensure_ascii=False),
}


def run(args) -> int:
    try:
        result = jacobian(args.expr, args.wrt, layout=args.layout, shapes=shape_arguments(args.shape),
                          scalars=name_arguments(args.scalar),
                          symmetric=name_arguments(args.symmetric), vec=args.vec)
    except BadInput:
        raise
    except (TypeError, ValueError, NotImplementedError, AttributeError) as exc:
        # SymPy's own error on a function it cannot take a matrix in (Order, prod, …): the
        # expression is the cause, so it is bad input, not a crash.
        raise BadInput(f"cannot differentiate {args.expr!r} by {args.wrt}: SymPy says "
                       f"{type(exc).__name__}: {exc}", "EXPR") from None
    fmt = "json" if args.json else args.format
    text = RENDERINGS[fmt](result)
    if fmt != "json":
        notes = list(result.notes)
        if fmt == "numpy" and _renamed(result):
            notes.append("NumPy names: " + ", ".join(_renamed(result)))
        for note in notes:
            print(f"note: {note}", file=sys.stderr)
    write_output(text, args.output, args.force)
    return EXIT_OK


def as_json(result) -> dict:
    """The JSON document of ``--format json``."""
    return {
        "generated_by": "symbackprop",
        "expr": str(result.expr),
        "latex": result.latex,
        "numpy": result.numpy,
        "numpy_names": result.numpy_names,
        "shape": [s if isinstance(s, int) else str(s) for s in result.shape],
        "layout": result.layout,
        "of": str(result.of),
        "wrt": str(result.wrt),
        "steps": [{"rule": step.rule, "before": latex_matrix(step.before),
                   "after": latex_matrix(step.after)} for step in result.steps],
        "notes": list(result.notes),
    }


__all__ = ["HELP", "add_arguments", "run", "as_json"]
