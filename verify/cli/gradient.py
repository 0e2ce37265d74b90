r"""Check a hand-derived gradient of a network, typed in LaTeX, against the engine (SPEC §7).

The claim uses the notation profile's names for the network's own quantities (cs229: x,
a^{[l]}, z^{[l]}, W^{[l]}, b^{[l]}, \hat{y}, y, g, g', \sigma, \delta^{[l]} = ∂L/∂z^{[l]};
ensimag: \alpha^j, \zeta^j, \Omega^j, \beta^j, \mathcal{B}^j or B^j, \Phi), may carry its left
side and auxiliary definitions after commas or "where":

  \nabla_{W^{[2]}} \mathcal{L} = \delta^{[2]} a^{[1]T},\ \delta^{[2]} = a^{[2]} - y

A left side \nabla_{W} L is the gradient (W's shape) whatever the layout; \frac{\partial
L}{\partial W}, or no left side, the derivative in the layout asked for (numerator: the shape
of W^T).  Targets are drawn from the loss's target domain, so a fused a - y is exactly right.

Prints one line first ("correct", "incorrect: missing transpose", "invalid: ..."), then each
diagnosis, the counterexample (every input's value, the claimed and the true value) and how it
was decided (exact symbolic equivalence, or random rational points with 50-digit arithmetic).
Exit status: 0 correct, 1 incorrect, 2 invalid claim or bad input (message on stderr).

examples:
  python -m verify gradient --spec net.toml --wrt W2 --notation cs229 \
      --claimed '\nabla_{W^{[2]}} \mathcal{L} = (a^{[2]} - y) a^{[1]T}'
  python -m verify gradient --spec net.toml --wrt b1 --claimed '...' --layout denominator --json
"""

from __future__ import annotations

from derive.calculus.claim_nodes import LAYOUTS
from derive.errors import BadInput
from derive.notation import PROFILES
from derive.spec import load_spec

from ..claims import check_claim
from .claim_output import report_verdict

HELP = "check a hand-derived gradient of a network (LaTeX) against the engine"


def add_arguments(parser) -> None:
    parser.add_argument("--spec", required=True, metavar="SPEC.toml", help="the network spec")
    parser.add_argument("--wrt", required=True, metavar="PARAM",
                        help="the parameter: W1, b1, W2, …")
    parser.add_argument("--claimed", required=True, metavar="LATEX", help="the claimed gradient")
    parser.add_argument("--layout", choices=LAYOUTS, default=None,
                        help="layout of a derivative ∂L/∂W (default: the spec's, else numerator)")
    parser.add_argument("--notation", choices=sorted(PROFILES), default=None,
                        help="the profile whose names the claim uses (default: the spec's)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON document (SPEC §7) instead of text")


def run(args) -> int:
    try:
        net = load_spec(args.spec)
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        raise BadInput(f"{exc.strerror}: {exc.filename}", "--spec") from None
    layout = args.layout or getattr(net, "layout", None) or "numerator"
    verdict = check_claim(args.claimed, net, wrt=args.wrt, layout=layout,
                          notation=args.notation)
    return report_verdict(verdict, args.json, "python -m verify gradient")
