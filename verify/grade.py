r"""A whole class at once (issue 10, item 6): :func:`grade` decides every student's claimed
gradient of one parameter and sums the class up.

Input: rows with an id and a claim (a CSV file whose header names the columns, or dicts);
each claim is decided by :func:`verify.check_claim` — its verdict, diagnosis and
counterexample unchanged — and identical claims (after normalising whitespace and removing
math delimiters ``$…$``, ``$$…$$``, ``\(…\)``, ``\[…\]`` around the whole claim) are decided
once.  Distinct claims are spread over the machine's cores (forked worker processes; one
process for a few claims, or where the platform cannot fork); the result is in input order
whatever the order the workers finish in, so the output is the same for any number of jobs.

A row that cannot be read (a CSV error, more fields than the header, no claim) is ``invalid``
with its message; nothing stops the run.  A bad argument (a missing file or column, an unknown
parameter, layout or profile) is :class:`~derive.errors.BadInput` before anything is decided.

What comes back is a :class:`GradeResult`: ``.rows`` (one :class:`GradedRow` per input row),
``.summary`` (a :class:`Summary`: how many correct, incorrect, invalid, and the mistake classes
by frequency with one example each), ``.to_csv()`` and ``.as_dict()``; the text of the summary
and the bar chart are in :mod:`verify.grade_output`.

>>> import derive
>>> net = derive.mlp([2, 3, 1], activation="sigmoid", loss="bce")
>>> result = grade([{"id": "ada", "claim": r"(a^{[2]} - y) a^{[1]T}"},
...                 {"id": "bob", "claim": r"a^{[1]} (a^{[2]} - y)"}],
...                net, wrt="W2", layout="denominator", notation="cs229", jobs=1)
>>> [(row.id, row.verdict.verdict, row.output()["diagnosis"]) for row in result.rows]
[('ada', 'correct', ''), ('bob', 'incorrect', 'layout_swap')]
>>> result.summary.counts
{'correct': 1, 'incorrect': 1, 'invalid': 0}
"""

from __future__ import annotations

import csv
import io
import multiprocessing
import os
import re
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from derive.api import backprop
from derive.calculus.claim_nodes import LAYOUTS
from derive.errors import BadInput
from derive.notation import get_profile

from .claims import check_claim
from .verdict import CLASSES, VERDICTS, Diagnosis, Verdict

#: The columns :func:`grade` adds to the input's, in this order.
ADDED_COLUMNS = ("verdict", "diagnosis", "message", "counterexample")
#: Fewer distinct claims than this are decided in this process (forking costs more).
MIN_PARALLEL = 6
#: Math delimiters a claim may be wrapped in, as pasted from a LaTeX source.
_DELIMITED = re.compile(r"^(?:\$\$(.*)\$\$|\$(.*)\$|\\\((.*)\\\)|\\\[(.*)\\\])$", re.S)
#: Delimiters of a CSV file the header line may show, besides the comma.
_OTHER_DELIMITERS = (";", "\t")


def normalise_claim(claim: str) -> str:
    r"""The claim with runs of whitespace made one space, its ends stripped, and math
    delimiters around the whole of it removed: the key under which identical claims are
    decided once.

    >>> normalise_claim("  $(a^{[2]} - y)\n  a^{[1]T}$ ")
    '(a^{[2]} - y) a^{[1]T}'
    """
    text = " ".join((claim or "").split())
    match = _DELIMITED.match(text)
    if match:
        inner = next(g for g in match.groups() if g is not None)
        if not any(mark in inner for mark in ("$", r"\(", r"\)", r"\[", r"\]")):
            text = " ".join(inner.split())     # one formula, not two: $a$ + $b$ is kept
    return text


@dataclass(frozen=True)
class GradedRow:
    """One student's row and its verdict.

    Attributes
    ----------
    number : int
        1-based position among the data rows.
    line : int or None
        Line of the input file the row starts on (None for rows given as dicts).
    values : dict
        column → the input's value (every input column; "" where the row had none).
    verdict : Verdict
    """

    number: int
    line: int | None
    values: dict
    verdict: Verdict
    id_column: str = "id"
    claim_column: str = "claim"

    @property
    def id(self) -> str:
        return self.values.get(self.id_column, "")

    @property
    def claim(self) -> str:
        return self.values.get(self.claim_column, "")

    @property
    def classes(self) -> list:
        """The diagnosis classes, each once, in the verdict's order."""
        return list(dict.fromkeys(d.cls for d in self.verdict.diagnosis))

    def output(self) -> dict:
        """The input's values and the added columns: ``verdict``, ``diagnosis`` (the classes
        joined by ``;``), ``message`` (the first line of each detail, joined by ``; ``) and
        ``counterexample`` (one line, see :func:`compact_counterexample`)."""
        details = [(d.detail.splitlines() or [""])[0] for d in self.verdict.diagnosis]
        return {**self.values, "verdict": self.verdict.verdict,
                "diagnosis": ";".join(self.classes), "message": "; ".join(details),
                "counterexample": compact_counterexample(self.verdict.counterexample)}


def compact_counterexample(counterexample: dict | None) -> str:
    """A verdict's counterexample on one line: ``name = value`` for every input, then the
    claimed and the true value, joined by ``; `` (matrices as nested lists by rows).

    >>> compact_counterexample({"point": {"x": [["1/2"], ["3"]]}, "claimed": [["1.5"]],
    ...                         "true": [["-1.5"]]})
    'x = [[1/2], [3]]; claimed = [[1.5]]; true = [[-1.5]]'
    """
    if not counterexample:
        return ""
    items = list(counterexample["point"].items())
    items += [("claimed", counterexample["claimed"]), ("true", counterexample["true"])]
    return "; ".join(f"{name} = {_flat(value)}" for name, value in items)


def _flat(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_flat(v) for v in value) + "]"
    return str(value)


@dataclass(frozen=True)
class MistakeCount:
    """One mistake class: how many rows it names, and the first such row (its example)."""

    cls: str
    count: int
    example: GradedRow


@dataclass(frozen=True)
class Summary:
    """The class at a glance.

    Attributes
    ----------
    total, distinct : int
        Rows, and distinct claims decided.
    counts : dict
        verdict → rows, for each of ``correct``, ``incorrect``, ``invalid``.
    mistakes : list of MistakeCount
        By count, most common first (ties in the order of SPEC §7's classes), over the
        incorrect rows and the invalid ones of the wrong shape (``shape_mismatch``); a row
        naming two classes counts for both.  Unreadable rows are in ``counts`` only.
    """

    total: int
    distinct: int
    counts: dict
    mistakes: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"rows": self.total, "distinct_claims": self.distinct, "counts": self.counts,
                "mistakes": [{"class": m.cls, "count": m.count, "example": {
                    "row": m.example.number, "id": m.example.id, "claim": m.example.claim}}
                    for m in self.mistakes]}


def summarise(rows: list, distinct: int) -> Summary:
    """The :class:`Summary` of graded rows."""
    counts = {verdict: 0 for verdict in VERDICTS}
    tally: Counter = Counter()
    examples = {}
    for row in rows:
        counts[row.verdict.verdict] += 1
        if row.verdict.verdict == "correct" or (row.verdict.verdict == "invalid"
                                                and row.verdict.method != "shape"):
            continue
        for cls in row.classes:
            tally[cls] += 1
            examples.setdefault(cls, row)
    order = sorted(tally, key=lambda cls: (-tally[cls], CLASSES.index(cls)))
    return Summary(len(rows), distinct, counts,
                   [MistakeCount(cls, tally[cls], examples[cls]) for cls in order])


@dataclass(frozen=True)
class GradeResult:
    """The verdicts on a class's claims.

    Attributes
    ----------
    rows : list of GradedRow
        In input order.
    columns : tuple of str
        The input's columns, in order (the output adds :data:`ADDED_COLUMNS`).
    summary : Summary
    wrt, layout, notation : str
        What was graded: the parameter, the layout of a derivative, the profile.
    delimiter : str
        The input file's field delimiter (the output uses the same).
    """

    rows: list
    columns: tuple
    summary: Summary
    wrt: str
    layout: str
    notation: str
    delimiter: str = ","

    @property
    def output_columns(self) -> tuple:
        return tuple(self.columns) + ADDED_COLUMNS

    def to_csv(self) -> str:
        """RESULTS.csv: the input's columns and values, then :data:`ADDED_COLUMNS`."""
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, self.output_columns, delimiter=self.delimiter,
                                lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        for row in self.rows:
            writer.writerow(row.output())
        return buffer.getvalue()

    def as_dict(self) -> dict:
        """The JSON document of ``verify grade --json``: what was graded, the summary, and
        per row its values and the verdict of SPEC §7."""
        return {"generated_by": "symbackprop", "wrt": self.wrt, "layout": self.layout,
                "notation": self.notation, "summary": self.summary.as_dict(),
                "rows": [{"row": row.number, "values": row.values,
                          **row.verdict.as_dict()} for row in self.rows]}


# --- reading ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Row:
    number: int
    line: int | None
    values: dict
    problem: str | None = None            # why the row cannot be read


def _delimiter(header_line: str) -> str:
    if "," in header_line:
        return ","
    return next((d for d in _OTHER_DELIMITERS if d in header_line), ",")


def read_submissions(path) -> tuple:
    """(columns, rows, delimiter) of a submissions CSV file (UTF-8, an optional BOM; the
    delimiter — comma, semicolon or tab — read from the header line)."""
    name = os.fspath(path)
    try:
        with open(name, encoding="utf-8-sig", newline="") as handle:
            text = handle.read()
    except UnicodeDecodeError as exc:
        raise BadInput(f"{name} is not UTF-8 text (byte {exc.start})", "SUBMISSIONS") from None
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        raise BadInput(f"{exc.strerror}: {name}", "SUBMISSIONS") from None
    header = text.split("\n", 1)[0]
    if not header.strip():
        raise BadInput(f"{name} has no header line (the column names)", "SUBMISSIONS")
    delimiter = _delimiter(header)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    columns = [c.strip() for c in next(reader)]
    _check_columns(columns, name)
    rows = []
    while True:
        start = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            rows.append(_Row(len(rows) + 1, start, dict.fromkeys(columns, ""),
                             f"line {start}: the CSV cannot be read: {exc}"))
            if reader.line_num < start:
                break
            continue
        if not any(f.strip() for f in fields):
            continue                                   # a blank line
        values = dict(zip(columns, fields))
        values.update({c: "" for c in columns[len(fields):]})
        problem = None
        if len(fields) > len(columns):
            problem = (f"line {start}: {len(fields)} fields, the header has {len(columns)} "
                       "(an unquoted comma in the claim? quote it)")
        rows.append(_Row(len(rows) + 1, start, values, problem))
    return tuple(columns), rows, delimiter


def _check_columns(columns, where: str) -> None:
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise BadInput(f"{where}: the header names {', '.join(repeated)} more than once",
                       "SUBMISSIONS")
    clashing = [c for c in ADDED_COLUMNS if c in columns]
    if clashing:
        raise BadInput(f"{where} already has the column{'s' if len(clashing) > 1 else ''} "
                       f"{', '.join(clashing)} that grading adds (a results file?): grade "
                       "the submissions themselves", "SUBMISSIONS")


def _rows_of(rows_or_path) -> tuple:
    if isinstance(rows_or_path, (str, os.PathLike)):
        return read_submissions(rows_or_path)
    columns: dict = {}
    given = []
    for number, row in enumerate(rows_or_path, 1):
        if not hasattr(row, "items"):
            raise BadInput(f"row {number} is a {type(row).__name__}, not a mapping of column "
                           "to value", "rows")
        columns.update(dict.fromkeys(str(k) for k in row))
        given.append(row)
    columns = list(columns)
    _check_columns(columns, "the rows")
    rows = [_Row(number, None, {c: "" if row.get(c) is None else str(row.get(c))
                                for c in columns})
            for number, row in enumerate(given, 1)]
    return tuple(columns), rows, ","


# --- deciding ---------------------------------------------------------------------------------

#: (net, wrt, layout, notation) in a worker process (set by the pool's initializer).
_WORK: tuple = ()


def _set_work(*work) -> None:
    global _WORK
    _WORK = work


def decide_claim(claim: str, net, wrt: str, layout: str, notation: str) -> Verdict:
    """:func:`verify.check_claim` on one normalised claim; an error it raises becomes an
    ``invalid`` verdict with its message, so that one claim never stops a class's run."""
    if not claim:
        return Verdict("invalid", "unread", [Diagnosis("other", "the claim is empty")])
    try:
        return check_claim(claim, net, wrt=wrt, layout=layout, notation=notation)
    except BadInput as exc:
        return Verdict("invalid", "unread", [Diagnosis("other", str(exc))])
    except Exception as exc:            # noqa: BLE001 - an engine bug must not stop the class
        return Verdict("invalid", "unread", [Diagnosis(
            "other", f"the claim could not be decided: {type(exc).__name__}: {exc}")])


def _decide_in_worker(index: int, claim: str) -> tuple:
    return index, decide_claim(claim, *_WORK)


def default_jobs() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:                         # not on Linux
        return os.cpu_count() or 1


def decide_all(claims: list, net, wrt: str, layout: str, notation: str,
               jobs: int | None = None, progress=None) -> list:
    """The verdicts on distinct ``claims``, in their order: over ``jobs`` forked processes
    (default: every core), or in this process for fewer than :data:`MIN_PARALLEL` claims, one
    job, or a platform that cannot fork.  ``progress(done, total)`` is called as they come."""
    jobs = default_jobs() if jobs is None else jobs
    if jobs < 1:
        raise BadInput(f"at least 1 process, got {jobs}", "jobs")
    verdicts: list = [None] * len(claims)
    parallel = (jobs > 1 and len(claims) >= MIN_PARALLEL
                and "fork" in multiprocessing.get_all_start_methods())
    done = 0
    if claims:
        # The first claim in this process: the workers fork with the derivations cached.
        verdicts[0] = decide_claim(claims[0], net, wrt, layout, notation)
        done = 1
        if progress:
            progress(done, len(claims))
    if not parallel:
        for index in range(1, len(claims)):
            verdicts[index] = decide_claim(claims[index], net, wrt, layout, notation)
            if progress:
                progress(index + 1, len(claims))
        return verdicts
    # The network is not picklable (its activations are SymPy functions made at run time):
    # forked workers inherit it through the initializer's arguments instead.
    context = multiprocessing.get_context("fork")
    try:
        with ProcessPoolExecutor(max_workers=min(jobs, len(claims) - 1), mp_context=context,
                                 initializer=_set_work,
                                 initargs=(net, wrt, layout, notation)) as pool:
            futures = [pool.submit(_decide_in_worker, index, claims[index])
                       for index in range(1, len(claims))]
            for future in as_completed(futures):
                index, verdict = future.result()
                verdicts[index] = verdict
                done += 1
                if progress:
                    progress(done, len(claims))
    except BrokenProcessPool:
        # A worker died (killed, out of memory): the claims it left are decided here.
        for index, verdict in enumerate(verdicts):
            if verdict is None:
                verdicts[index] = decide_claim(claims[index], net, wrt, layout, notation)
                done += 1
                if progress:
                    progress(done, len(claims))
    return verdicts


def _unread(problem: str) -> Verdict:
    return Verdict("invalid", "unread", [Diagnosis("other", problem)])


def grade(rows_or_path, net, wrt: str, layout: str | None = None, notation: str | None = None,
          id_column: str = "id", claim_column: str = "claim", jobs: int | None = None,
          progress=None) -> GradeResult:
    r"""Decide every student's claimed gradient of ``wrt`` (issue 10, item 6).

    Parameters
    ----------
    rows_or_path : str or os.PathLike or iterable of dict
        A submissions CSV file (a header line naming the columns), or rows column → value.
    net : Network
        From :func:`derive.mlp` or :func:`derive.load_spec`.
    wrt : str
        The parameter every claim is about (``W1``, ``b2``).
    layout : {"numerator", "denominator"}, optional
        Layout of a derivative ∂L/∂W or of a claim without a left side (default: the
        network's, else numerator).
    notation : str, optional
        The profile the claims write (default: the network's, else cs229).
    id_column, claim_column : str
        The columns holding the student's id and the claim.
    jobs : int, optional
        Processes to decide distinct claims in (default: the cores of the machine).
    progress : callable, optional
        ``progress(done, total)`` after each distinct claim.

    Returns
    -------
    GradeResult

    Raises
    ------
    BadInput
        A missing file or column, an unknown parameter, layout or profile.
    """
    layout = layout or getattr(net, "layout", None) or "numerator"
    if layout not in LAYOUTS:
        raise BadInput(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}", "layout")
    notation = notation or getattr(net, "notation", None) or "cs229"
    notation = getattr(notation, "name", notation)
    get_profile(notation, where="notation")
    columns, rows, delimiter = _rows_of(rows_or_path)
    for flag, column in (("--id-column", id_column), ("--claim-column", claim_column)):
        if column not in columns:
            raise BadInput(f"no column {column!r}; the columns are {', '.join(columns)}", flag)
    gradients = backprop(net, layout=layout, form="matrix").gradients
    if wrt not in gradients:
        raise BadInput(f"no parameter named {wrt!r}; known: {', '.join(gradients)}", "wrt")
    keys = [None if row.problem else normalise_claim(row.values[claim_column]) for row in rows]
    distinct = list(dict.fromkeys(k for k in keys if k is not None))
    verdicts = dict(zip(distinct, decide_all(distinct, net, wrt, layout, notation, jobs,
                                             progress)))
    graded = [GradedRow(row.number, row.line, row.values,
                        _unread(row.problem) if key is None else verdicts[key],
                        id_column, claim_column)
              for row, key in zip(rows, keys)]
    return GradeResult(graded, columns, summarise(graded, len(distinct)), wrt, layout,
                       notation, delimiter)


__all__ = ["ADDED_COLUMNS", "GradeResult", "GradedRow", "MIN_PARALLEL", "MistakeCount",
           "Summary", "compact_counterexample", "decide_all", "decide_claim", "default_jobs",
           "grade", "normalise_claim", "read_submissions", "summarise"]
