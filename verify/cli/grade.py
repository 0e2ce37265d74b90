r"""Grade a whole class: every student's hand-derived gradient of one parameter, from a CSV.

SUBMISSIONS.csv has a header line; one row per student, the id in column `id` and the claim
(LaTeX, as for `verify gradient`) in column `claim` (other names: --id-column,
--claim-column); other columns are kept.  Each claim is decided exactly as
`verify gradient --claimed` decides it; identical claims (same text up to whitespace and
surrounding $…$) are decided once, distinct ones over the machine's cores (--jobs).

RESULTS.csv (-o; standard output without it) keeps the input's columns in their order and
adds `verdict` (correct, incorrect, invalid), `diagnosis` (the mistake classes of SPEC §7,
joined by ';'), `message` (each diagnosis in words; for an invalid row, why it cannot be
read) and `counterexample` (one line: every input's value, the claimed and the true value).
A row that cannot be read is `invalid` with its message; nothing stops the run.

At the end a summary (stdout with -o, else stderr): how many correct, incorrect and invalid,
the most common mistake classes with one example claim each, and a bar chart of them (PNG,
beside RESULTS.csv as RESULTS.mistakes.png, or at --chart).  A progress bar is drawn on
stderr when it is a terminal.  --json prints one JSON document (the summary and every row's
verdict) on stdout instead of the CSV and the summary.

An existing RESULTS.csv is replaced only if it is a results file of verify grade (its header
ends with the added columns), an existing chart only if symbackprop wrote it; otherwise, or
for other files, --force.  The submissions file is never overwritten.

Exit status: 0 when the run completed, whatever the verdicts; 2 on bad input (a missing file
or column, a bad spec, an unknown --wrt, an output that may not be replaced), with a one-line
message on stderr.

examples:
  python -m verify grade examples/grading/submissions.csv \
      --spec examples/grading/cs229_two_layers.toml --wrt W1 -o results.csv
  python -m verify grade answers.csv --spec net.toml --wrt b2 --claim-column answer \
      --id-column student --jobs 2 --chart mistakes.png --json
"""

from __future__ import annotations

import json
import sys

from derive.calculus.claim_nodes import LAYOUTS
from derive.cli import EXIT_OK, write_output
from derive.errors import BadInput
from derive.notation import PROFILES
from derive.spec import load_spec

from ..grade import grade
from ..grade_output import (ProgressBar, chart_png, check_outputs, default_chart_path,
                            summary_text, write_atomically)

HELP = "grade a class's hand-derived gradients (a CSV of claims): verdicts, mistakes, chart"


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise BadInput(f"not a whole number: {text!r}", "--jobs") from None
    if value < 1:
        raise BadInput(f"at least 1 process, got {value}", "--jobs")
    return value


def add_arguments(parser) -> None:
    parser.add_argument("submissions", metavar="SUBMISSIONS.csv",
                        help="one row per student: a header line, then an id and a claim")
    parser.add_argument("--spec", required=True, metavar="SPEC.toml", help="the network spec")
    parser.add_argument("--wrt", required=True, metavar="PARAM",
                        help="the parameter every claim is about: W1, b1, W2, …")
    parser.add_argument("--layout", choices=LAYOUTS, default=None,
                        help="layout of a derivative ∂L/∂W (default: the spec's, else numerator)")
    parser.add_argument("--notation", choices=sorted(PROFILES), default=None,
                        help="the profile whose names the claims use (default: the spec's)")
    parser.add_argument("-o", "--output", metavar="RESULTS.csv", default=None,
                        help="write the results here (default: standard output); an existing "
                             "file is replaced only if it is a results file of verify grade")
    parser.add_argument("--force", action="store_true",
                        help="replace an existing -o or --chart file whatever it is (never the "
                             "submissions file)")
    parser.add_argument("--id-column", default="id", metavar="C",
                        help="the column of the student's id (default: id)")
    parser.add_argument("--claim-column", default="claim", metavar="C",
                        help="the column of the claim (default: claim)")
    parser.add_argument("--jobs", type=str, default=None, metavar="N",
                        help="processes deciding claims (default: every core)")
    parser.add_argument("--chart", metavar="PNG", default=None,
                        help="the bar chart of the mistakes (default: beside -o as "
                             "RESULTS.mistakes.png; none without -o)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON document (summary and verdicts) instead of the "
                             "CSV and the summary text")


def run(args) -> int:
    jobs = _jobs(args.jobs) if args.jobs is not None else None
    chart = args.chart or (default_chart_path(args.output) if args.output else None)
    check_outputs(args.submissions, args.output, chart, args.force)
    try:
        net = load_spec(args.spec)
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        raise BadInput(f"{exc.strerror}: {exc.filename}", "--spec") from None
    bar = ProgressBar.for_terminal()
    try:
        result = grade(args.submissions, net, wrt=args.wrt, layout=args.layout,
                       notation=args.notation, id_column=args.id_column,
                       claim_column=args.claim_column, jobs=jobs, progress=bar)
    finally:
        if bar is not None:
            bar.close()
    if args.output:
        write_atomically(result.to_csv().encode("utf-8"), args.output)
    if chart:
        write_atomically(chart_png(result), chart)
    if args.json:
        write_output(json.dumps(result.as_dict(), indent=2, ensure_ascii=False), None)
    elif args.output:
        write_output(summary_text(result, chart), None)
    else:
        sys.stdout.write(result.to_csv())
        print(summary_text(result, chart), file=sys.stderr)
    return EXIT_OK
