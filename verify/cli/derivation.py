r"""Check every '=' line of a derivation typed in LaTeX against the network's true values
(SPEC §5, §7).

FILE holds the derivation: its align / align* / equation / equation* / $$…$$ / \[…\] blocks
are read, split into lines at \\ (a line starting with '=' or '&=' continues the left side of
the line above; \tag, \label, \nonumber, & and "\quad \text{…}" remarks are ignored;
\underbrace{X}_{2 \times 1} is read as X and its shape checked).  Every side uses the notation
profile's names for the network's own quantities (cs229: a^{[l]}, z^{[l]}, W^{[l]}, \delta^{[l]},
g'; ensimag: \alpha^j, \zeta^j, \Omega^j, \mathcal{B}^j, \Phi; mines: v^{(l)}, s^{(l)},
\tilde{W}^{(l)}, W^{(l)}, E^{(l)}, h_{(l)}) and derivatives of them: ∂L/∂z^{[3]}, ∂L/∂a^{[2]},
∂a^{[2]}/∂z^{[2]} (a diagonal Jacobian), ∂z^{[2]}/∂a^{[1]} = W^{[2]}, in the layout asked for.
Each right side is checked against the true value of its left side (or, where the left side
names an entry such as ∂L/∂W_{ij}, against the side before it).

Prints one line first ("correct: 6 lines", "incorrect: line 3 (missing transpose)",
"invalid: line 2 (…)"), then one line per step with its diagnosis, the first wrong line's
counterexample, and how each line was decided.  --json prints
{"verdict", "first_wrong", "steps": [{"line", "verdict", "diagnosis", …}]}.
Exit status: 0 every line correct, 1 a line incorrect, 2 a line unreadable or bad input
(message on stderr).

examples:
  python -m verify derivation notes.tex --spec net.toml --notation cs229
  python -m verify derivation notes.tex --spec net.toml --layout denominator --json
"""

from __future__ import annotations

import json
import sys

from derive.calculus.claim_nodes import LAYOUTS
from derive.cli import write_output
from derive.errors import BadInput
from derive.notation import PROFILES
from derive.spec import load_spec

from ..derivation import check_derivation
from .claim_output import EXIT_STATUS

HELP = "check every '=' line of a derivation (LaTeX) against the network's true values"


def add_arguments(parser) -> None:
    parser.add_argument("file", metavar="FILE.tex", help="the derivation (LaTeX)")
    parser.add_argument("--spec", required=True, metavar="SPEC.toml", help="the network spec")
    parser.add_argument("--layout", choices=LAYOUTS, default=None,
                        help="layout of the derivatives ∂…/∂… (default: the spec's, else "
                             "numerator)")
    parser.add_argument("--notation", choices=sorted(PROFILES), default=None,
                        help="the profile whose names the derivation uses (default: the spec's)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON document instead of text")


def run(args) -> int:
    try:
        net = load_spec(args.spec)
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        raise BadInput(f"{exc.strerror}: {exc.filename}", "--spec") from None
    try:
        with open(args.file, encoding="utf-8") as handle:
            text = handle.read()
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        raise BadInput(f"{exc.strerror}: {exc.filename}", "FILE") from None
    except UnicodeDecodeError:
        raise BadInput(f"{args.file} is not UTF-8 text", "FILE") from None
    layout = args.layout or getattr(net, "layout", None) or "numerator"
    result = check_derivation(text, net, notation=args.notation, layout=layout)
    if args.json:
        write_output(json.dumps(result.as_dict(), indent=2, ensure_ascii=False), None)
    else:
        write_output(result.to_text(), None)
    if result.verdict == "invalid":
        step = result.steps[result.first_wrong - 1]
        print(f"python -m verify derivation: error: {step.verdict.diagnosis[0].detail}",
              file=sys.stderr)
    return EXIT_STATUS[result.verdict]
