"""Build a report of a network's derivation: LaTeX article, PDF, Beamer slides, Markdown, HTML.

With no SPEC, the built-in default network: 2-3-1, sigmoid, binary cross-entropy, rows
convention.  With no --format, the HTML page and, where TeX Live is installed, the PDF are
written; the paths written are printed, one per line.  Files go into DIR (default report/),
named after the spec (net.toml -> net.html); a file there that symbackprop did not write is
never replaced without --force.

  tex     a standalone LaTeX article (amsmath)
  pdf     that article compiled with latexmk (or pdflatex); the .tex is kept beside it
  beamer  Beamer slides, one frame per section of the derivation
  md      Markdown with $$ blocks (GitHub, Jupyter)
  html    one self-contained page, the mathematics as MathML (no network access)

Without TeX Live, --format pdf still writes the .tex, .md and .html, says how to install it
(Debian: apt-get install texlive-latex-base texlive-latex-recommended
texlive-fonts-recommended texlive-pictures latexmk) and exits 1.  A LaTeX error prints the
relevant lines of the log and exits 1.  Bad input (spec, profile, format, a foreign file in the
way) exits 2.

examples:
  python -m reports build
  python -m reports build examples/cs229_sigmoid_bce.toml --format pdf -o cs229/
  python -m reports build examples/ensimag_columns.toml --format md --notation ensimag
  python -m reports build examples/cs229_sigmoid_bce.toml --include code,table,plots
"""

from __future__ import annotations

import sys

from derive.calculus.result import LAYOUTS
from derive.cli import EXIT_FAILED, EXIT_OK
from derive.notation import PROFILES

from ..extras import EXTRAS
from ..build import FORMATS, TEXLIVE_PACKAGES, CompileFailed, build_report, find_latex

HELP = "build a report (PDF, LaTeX, Beamer, Markdown, HTML) of a derivation"
PROG = "python -m reports build"


def add_arguments(parser) -> None:
    parser.add_argument("spec", nargs="?", metavar="SPEC.toml",
                        help="network (or computation-graph) spec; default: the built-in 2-3-1 "
                        "sigmoid/bce network")
    parser.add_argument("--format", choices=FORMATS, default=None,
                        help="what to write (default: html, and pdf where TeX Live is "
                        "installed)")
    parser.add_argument("-o", "--output", metavar="DIR", default="report",
                        help="folder to write into (default: report/)")
    parser.add_argument("--notation", metavar="P",
                        help=f"notation profile ({', '.join(PROFILES)}); default: the spec's")
    parser.add_argument("--layout", choices=LAYOUTS, help="layout of the derivatives")
    parser.add_argument("--include", metavar="SECTIONS", default="",
                        help="optional sections, comma-separated: " + "; ".join(
                            f"{name} ({what})" for name, what in EXTRAS.items()))
    parser.add_argument("--force", action="store_true",
                        help="replace files in DIR that symbackprop did not write")


def _progress(stage: str, detail: str) -> None:
    print(f"{stage:>8}: {detail}", file=sys.stderr, flush=True)


def run(args) -> int:
    formats = [args.format] if args.format else ["html"] + (["pdf"] if find_latex() else [])
    progress = _progress if sys.stderr.isatty() else None
    try:
        include = [part.strip() for part in args.include.split(",") if part.strip()]
        build = build_report(args.spec, formats, args.output, notation=args.notation,
                             layout=args.layout, force=args.force, progress=progress,
                             include=include)
    except CompileFailed as exc:
        print(f"{PROG}: {exc}; from its log:", file=sys.stderr)
        for line in exc.lines:
            print(f"  {line}", file=sys.stderr)
        return EXIT_FAILED
    for path in build.written:
        print(path)
    for advice in build.missing:
        print(f"{PROG}: {advice}", file=sys.stderr)
    if not args.format and "pdf" not in formats:
        print(f"{PROG}: no PDF, LaTeX is not installed here; for one, install TeX Live "
              f"(Debian: apt-get install {' '.join(TEXLIVE_PACKAGES)})", file=sys.stderr)
    return EXIT_FAILED if build.missing else EXIT_OK
