r"""Read a LaTeX log: the errors, undefined control sequences and overfull boxes it reports.

:func:`read_log` turns the text of a ``.log`` written by ``pdflatex`` into a list of
:class:`LogProblem`, in the order of the log, each once (Beamer typesets a frame once per
overlay, so the same box is reported several times); :func:`failures` keeps those a document
must not have: any error, any undefined control sequence, any overfull ``\hbox`` wider than a
tolerance (10pt by default).  :func:`run_pdflatex` compiles a .tex where it lies and returns its
log, for the gallery's test and for :mod:`reports.build`.

Kinds of problem (:data:`KINDS`):

=============================  ===========================================================
``error``                      a ``!`` line of the log (``! LaTeX Error: …``, ``! Missing $
                               inserted.``); LaTeX stops there under ``-halt-on-error``
``undefined control sequence``  ``! Undefined control sequence.``, with the macro's name
``overfull hbox``              ``Overfull \hbox (Xpt too wide)``: a line wider than the text
``overfull vbox``              ``Overfull \vbox (Xpt too high)``: a slide or page too full
=============================  ===========================================================

>>> log = '''(./report.tex
... Overfull \\hbox (14.187pt too wide) in paragraph at lines 12--13
... []\\OT1/cmr/m/n/10.95 Backpropagation
... ! Undefined control sequence.
... l.40 \\Diag
...             (x)
... )'''
>>> [str(problem) for problem in read_log(log)]
['lines 12-13: overfull hbox, 14.187pt too wide', 'line 40: undefined control sequence \\Diag']
>>> [problem.kind for problem in failures(log, tolerance=20.0)]
['undefined control sequence']
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass

__all__ = ["KINDS", "TOLERANCE", "LogProblem", "failures", "is_failure", "read_log",
           "run_pdflatex"]

KINDS = ("error", "undefined control sequence", "overfull hbox", "overfull vbox")
#: Points an ``\hbox`` may stick out before it counts as a failure.
TOLERANCE = 10.0
#: Lines of context kept after a ``!`` line, looking for its ``l.N``.
_CONTEXT = 12
_OVERFULL = re.compile(r"^Overfull \\([hv])box \((\d+(?:\.\d+)?)pt too (?:wide|high)\) "
                       r"(?:in paragraph at lines (\d+)--(\d+)|in alignment at lines "
                       r"(\d+)--(\d+)|detected at line (\d+)|has occurred while \\output "
                       r"is active)")
_LINE = re.compile(r"^l\.(\d+) ?(.*)$")
#: ``./report.tex:40: Undefined control sequence.`` (pdflatex -file-line-error).
_FILE_LINE = re.compile(r"^(?:\./)?[^:\s]+\.tex:(\d+): (.*)$")
#: The last line of a run that stopped on an error: a consequence, not a problem of its own.
_FATAL = "!  ==> Fatal error occurred"
_MACRO = re.compile(r"(\\(?:[A-Za-z@]+|.))\s*$")


@dataclass(frozen=True)
class LogProblem:
    """One problem of a LaTeX log.

    ``kind`` is one of :data:`KINDS`; ``line`` and ``last_line`` the lines of the .tex it
    was found at (``None`` where the log names none); ``points`` how many points an overfull
    box sticks out; ``message`` the log's own words (for an error: its ``!`` line, the
    context up to its ``l.N`` line and the line after).
    """

    kind: str
    line: int | None
    last_line: int | None = None
    points: float | None = None
    message: str = ""
    macro: str | None = None

    def __str__(self) -> str:
        where = "" if self.line is None else (
            f"line {self.line}: " if self.last_line in (None, self.line)
            else f"lines {self.line}-{self.last_line}: ")
        if self.kind.startswith("overfull"):
            sense = "wide" if self.kind == "overfull hbox" else "high"
            return f"{where}{self.kind}, {self.points:g}pt too {sense}"
        if self.kind == "undefined control sequence":
            return f"{where}undefined control sequence {self.macro or '(unknown)'}"
        return f"{where}{self.message.splitlines()[0].lstrip('! ')}"


def _overfull(match: re.Match, text: str) -> LogProblem:
    axis, points = match.group(1), float(match.group(2))
    numbers = [int(n) for n in match.groups()[2:] if n is not None]
    first, last = (numbers[0], numbers[-1]) if numbers else (None, None)
    return LogProblem(f"overfull {axis}box", first, last, points, text)


def _error(lines: list[str], start: int, head: str, line: int | None) -> LogProblem:
    """The error whose ``!`` line (or ``file:N:`` line) is ``lines[start]``."""
    context = [lines[start]]
    for index in range(start + 1, min(start + 1 + _CONTEXT, len(lines))):
        context.append(lines[index])
        found = _LINE.match(lines[index])
        if found:
            line = int(found.group(1)) if line is None else line
            if index + 1 < len(lines):
                context.append(lines[index + 1])
            break
        if lines[index].startswith("!"):
            context.pop()
            break
    if head.startswith("Undefined control sequence"):
        # LaTeX breaks the first context line right after the token it could not expand:
        # the ``l.N`` line itself, or a macro's expansion (``\foo ->\bar``) or ``<argument>``.
        macro = _MACRO.search(context[1]) if len(context) > 1 else None
        return LogProblem("undefined control sequence", line, line, None, "\n".join(context),
                          macro.group(1) if macro else None)
    return LogProblem("error", line, line, None, "\n".join(context))


def read_log(text: str) -> list[LogProblem]:
    """Every problem of a LaTeX log, in the log's order, each (kind, lines, size, macro) once.

    Parameters
    ----------
    text : str
        The content of the ``.log`` file (or pdflatex's terminal output), with or without
        ``-file-line-error``.

    Returns
    -------
    list of LogProblem

    Examples
    --------
    >>> read_log("! LaTeX Error: File `algorithm2e.sty' not found.\\n\\nl.7 \\\\begin")[0].line
    7
    >>> read_log("Overfull \\\\vbox (19.8pt too high) detected at line 104")[0].points
    19.8
    """
    lines = text.splitlines()
    seen, problems = set(), []
    for index, line in enumerate(lines):
        found = _OVERFULL.match(line)
        if found:
            problem = _overfull(found, line)
        elif line.startswith("! ") and not line.startswith(_FATAL):
            problem = _error(lines, index, line[2:], None)
        elif _FILE_LINE.match(line):
            at = _FILE_LINE.match(line)
            problem = _error(lines, index, at.group(2), int(at.group(1)))
        else:
            continue
        key = (problem.kind, problem.line, problem.last_line, problem.points, problem.macro,
               problem.message.splitlines()[0])
        if key not in seen:
            seen.add(key)
            problems.append(problem)
    return problems


def failures(text: str, tolerance: float = TOLERANCE) -> list[LogProblem]:
    r"""The problems of a log a document must not have: errors, undefined control sequences
    and overfull ``\hbox``\ es more than ``tolerance`` points too wide (overfull ``\vbox``\ es
    are left out: :func:`read_log` lists them).

    >>> failures("Overfull \\hbox (0.5pt too wide) detected at line 3")
    []
    """
    return [problem for problem in read_log(text) if is_failure(problem, tolerance)]


def is_failure(problem: LogProblem, tolerance: float = TOLERANCE) -> bool:
    """Whether ``problem`` is one of :func:`failures`."""
    return problem.kind in ("error", "undefined control sequence") or (
        problem.kind == "overfull hbox" and problem.points > tolerance)


def run_pdflatex(tex_path: str, runs: int = 2, timeout: float = 300) -> str:
    """Compile ``tex_path`` with ``pdflatex -interaction=nonstopmode -halt-on-error`` in its
    own folder (where the .aux, .log and .pdf go) and return the text of its log.

    LaTeX runs again, up to ``runs`` times in all, only while the log asks for it ("Rerun
    to get …") and no error stopped it; the log is that of the last run.  Dates in the PDF
    are fixed (``SOURCE_DATE_EPOCH=0``).

    Raises
    ------
    FileNotFoundError
        pdflatex is not installed.
    subprocess.TimeoutExpired
        A run took more than ``timeout`` seconds.
    """
    folder, name = os.path.split(os.path.abspath(tex_path))
    stem = os.path.splitext(name)[0]
    env = {**os.environ, "SOURCE_DATE_EPOCH": "0", "FORCE_SOURCE_DATE": "1"}
    log = ""
    for _ in range(max(1, runs)):
        done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", name],
                              cwd=folder, env=env, stdin=subprocess.DEVNULL, check=False,
                              capture_output=True, timeout=timeout)
        path = os.path.join(folder, stem + ".log")
        if os.path.exists(path):
            with open(path, encoding="utf-8", errors="replace") as handle:
                log = handle.read()
        else:
            log = done.stdout.decode(errors="replace")
        if done.returncode != 0 or "Rerun to get" not in log:
            break
    return log
