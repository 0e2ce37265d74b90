"""Regenerate the gallery: the reference reports of each course's network (reports/gallery/).

For each entry of the gallery's table (reports/gallery.py: Ensimag, CS229, Mines, CMU 10-315,
Durham, a 3-layer softmax network, a user-defined activation) the LaTeX article NAME.tex, the
Beamer slides NAME_slides.tex, the Markdown NAME.md and the HTML page NAME.html are written
into DIR (default reports/gallery/), with an index README.md linking them; no PDF.  The paths
written are printed, one per line.  A file in DIR that symbackprop did not write is never
replaced; a document symbackprop wrote there that no entry writes any more is removed.

  --check    write nothing: regenerate into a temporary folder and compare; exit 0 when DIR
             is up to date, else list the stale files (differs, missing, written by no
             entry) and exit 1
  --compile  write nothing: compile every .tex of DIR with pdflatex and list each LaTeX
             error, undefined control sequence and overfull box as FILE: fail|note: line N:
             what (a Beamer frame's box is reported at the frame's last line); exit 1 on a
             "fail": an error, an undefined control sequence or an overfull \\hbox more
             than 10pt too wide

Bad input (a missing spec, a foreign file in the way, no pdflatex for --compile) exits 2.

examples:
  python -m reports gallery
  python -m reports gallery --check
  python -m reports gallery -o /tmp/gallery --compile
"""

from __future__ import annotations

import sys

from derive.cli import EXIT_FAILED, EXIT_OK

from ..gallery import DEFAULT_DIRECTORY, check_gallery, compile_gallery, write_gallery
from ..latex_log import TOLERANCE, is_failure

HELP = "regenerate reports/gallery/ (the reference reports), or check that it is up to date"
PROG = "python -m reports gallery"


def add_arguments(parser) -> None:
    parser.add_argument("-o", "--output", metavar="DIR", default=None,
                        help="the gallery folder (default: reports/gallery/)")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--check", action="store_true",
                      help="write nothing; exit 1 listing the stale files if DIR differs from "
                      "what would be written")
    what.add_argument("--compile", action="store_true",
                      help="write nothing; compile every .tex of DIR and list LaTeX problems")


def _progress(name: str) -> None:
    print(f"  render: {name}", file=sys.stderr, flush=True)


def _compile(directory: str) -> int:
    failed = 0
    for name, problems in compile_gallery(directory).items():
        for problem in problems:
            print(f"{name}: {'fail' if is_failure(problem) else 'note'}: {problem}")
        failed += any(map(is_failure, problems))
    if failed:
        print(f"{PROG}: {failed} file(s) with a LaTeX error, an undefined control sequence or "
              f"an overfull \\hbox more than {TOLERANCE:g}pt too wide", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def run(args) -> int:
    directory = args.output or str(DEFAULT_DIRECTORY)
    if args.compile:
        return _compile(directory)
    if args.check:
        stale = check_gallery(directory)
        for item in stale:
            print(item)
        if stale:
            print(f"{PROG}: {len(stale)} stale file(s) in {directory}; regenerate them with "
                  f"{PROG}" + (f" -o {args.output}" if args.output else ""), file=sys.stderr)
            return EXIT_FAILED
        return EXIT_OK
    progress = _progress if sys.stderr.isatty() else None
    for path in write_gallery(directory, progress=progress):
        print(path)
    return EXIT_OK
