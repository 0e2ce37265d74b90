"""The result of a finite-difference gradient check: a per-tensor table, failures, thresholds.

:class:`GradientReport` is data; :meth:`GradientReport.to_text` and
:meth:`GradientReport.as_dict` render it.  A report is one of

* ``"verified"`` — every checked entry agrees (entries whose difference step straddles a kink
  that could not be avoided are listed as *non-differentiable here*, never as failures; a
  tensor whose gradient and differences were exactly 0 at every point drawn is listed as
  *uninformative*, and the headline says so);
* ``"mismatch"`` — at least one entry disagrees; :attr:`GradientReport.failures` says which
  tensor, which entries, the analytic and numeric values and the input point;
* ``"unusable"`` — the module could not be checked at all (missing function, wrong keys or
  shapes, NaN/inf, an exception); :attr:`GradientReport.message` says why in one line.

A failing tensor is named by the near relative of the numeric gradient its analytic one
equals (:func:`diagnose_tensor`, classes of SPEC §7): a constant ratio (N: "not averaged over
the batch", ½ or 2: a factor, −1: the sign), the transpose, zero (missing).

Glossary: ``a`` analytic value, ``n`` numeric (finite-difference) value, ``h`` the step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

STATUSES = ("verified", "mismatch", "unusable")

#: Largest array (entries) printed in full in a report's input point.
_PRINT_LIMIT = 60
#: Largest array (entries) stored in full in ``as_dict()``.
_JSON_LIMIT = 2000


@dataclass
class Failure:
    """One entry (a coordinate or a random direction) whose analytic and numeric values differ.

    ``entry`` is the index tuple of a coordinate, or ``"direction k"``; ``direction`` holds the
    unit direction u for a directional entry (``None`` for a coordinate).  ``redraw`` is 0 at
    the input point, r > 0 at the r-th perturbed point (after a kink inside the step).
    ``localised_by`` says how a coordinate was found from a disagreeing direction
    (``"bisection of direction k"``).  ``fresh`` is 0 when the entry was checked around the
    input point, k > 0 at fresh point #k (drawn because every gradient entry and difference of
    the tensor was exactly 0 at the points before; ``GradientReport.point["fresh"][k - 1]``).
    """

    tensor: str
    entry: tuple | str
    analytic: float
    numeric: float
    rel_error: float
    abs_error: float
    step: float
    value: float | None = None
    redraw: int = 0
    point_shift: float = 0.0
    direction: np.ndarray | None = field(default=None, repr=False)
    localised_by: str | None = None
    fresh: int = 0

    def label(self) -> str:
        if isinstance(self.entry, tuple):
            return f"{self.tensor}[{', '.join(map(str, self.entry))}]"
        return f"{self.tensor} along {self.entry}"

    def to_text(self) -> str:
        where = ""
        if self.value is not None:
            where = f" at {self.label()} = {self.value:.6g}"
        text = (f"{self.label()}: analytic {self.analytic:.10g}, numeric {self.numeric:.10g} "
                f"(rel err {self.rel_error:.2e}, abs err {self.abs_error:.2e}){where}, "
                f"step h = {self.step:.3g}")
        if self.localised_by:
            text += f" (found by {self.localised_by})"
        around = "the input point" if not self.fresh else f"fresh point #{self.fresh}"
        if self.redraw:
            text += (f"; at perturbed point #{self.redraw} (params shifted by at most "
                     f"{self.point_shift:.2g}, after a kink inside the step at {around})")
        elif self.fresh:
            text += f"; at fresh point #{self.fresh}"
        return text

    def as_dict(self) -> dict:
        out = {"tensor": self.tensor,
               "entry": list(self.entry) if isinstance(self.entry, tuple) else self.entry,
               "analytic": _json_float(self.analytic), "numeric": _json_float(self.numeric),
               "rel_error": _json_float(self.rel_error), "abs_error": _json_float(self.abs_error),
               "step": _json_float(self.step), "redraw": self.redraw}
        if self.value is not None:
            out["value"] = _json_float(self.value)
        if self.redraw:
            out["point_shift"] = _json_float(self.point_shift)
        if self.fresh:
            out["fresh"] = self.fresh
        if self.localised_by:
            out["localised_by"] = self.localised_by
        if self.direction is not None and self.direction.size <= _JSON_LIMIT:
            out["direction"] = self.direction.tolist()
        return out


@dataclass
class TensorRow:
    """One line of the per-tensor table.

    ``checked`` counts coordinates (mode ``full``) or random directions (``directional``);
    ``redrawn`` those that passed only after a re-draw because a kink lay inside the step;
    ``nondiff`` those that stayed at a kink after every re-draw (*non-differentiable here*).
    ``atol`` is the absolute noise floor of the comparison (see the report's thresholds).
    ``zero_points`` counts the points at which every analytic entry and every difference of
    the tensor was exactly 0 (nothing compared); the numbers of the row are those of point
    ``fresh`` (0 the input point, k fresh point #k).  ``uninformative``: 0 at every point
    drawn — the row's ``ok`` proves nothing.
    """

    name: str
    shape: tuple
    mode: str
    checked: int
    size: int
    max_rel_error: float = 0.0
    max_abs_error: float = 0.0
    atol: float = 0.0
    failed: int = 0
    redrawn: int = 0
    nondiff: int = 0
    zero_points: int = 0
    fresh: int = 0
    uninformative: bool = False
    diagnosis: list = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.failed:
            return "mismatch"
        if self.uninformative:
            return "uninformative"
        if self.nondiff and self.nondiff == self.checked:
            return "non-differentiable here"
        return "ok"

    def status_text(self) -> str:
        where = f" at fresh point #{self.fresh}" if self.fresh else ""
        if self.failed:
            return f"MISMATCH ({self.failed} of {self.checked}{where})"
        if self.uninformative:
            return "ok (zero gradient at every drawn point: uninformative)"
        notes = [f"at fresh point #{self.fresh}: all 0 before"] if self.fresh else []
        if self.redrawn:
            notes.append(f"{self.redrawn} re-drawn past a kink")
        if self.nondiff:
            notes.append(f"{self.nondiff} non-differentiable here")
        if self.nondiff and self.nondiff == self.checked:
            return "non-differentiable here"
        return "ok" + (f" ({'; '.join(notes)})" if notes else "")

    def as_dict(self) -> dict:
        return {"name": self.name, "shape": list(self.shape), "mode": self.mode,
                "checked": self.checked, "size": self.size,
                "max_rel_error": _json_float(self.max_rel_error),
                "max_abs_error": _json_float(self.max_abs_error),
                "atol": _json_float(self.atol), "failed": self.failed,
                "redrawn": self.redrawn, "nondiff": self.nondiff,
                "zero_points": self.zero_points, "fresh": self.fresh,
                "uninformative": self.uninformative, "status": self.status,
                **({"diagnosis": list(self.diagnosis)} if self.failed else {})}


@dataclass
class GradientReport:
    """The verdict of :func:`verify.check_gradients`.

    Attributes
    ----------
    status : {"verified", "mismatch", "unusable"}
    rows : list of TensorRow
        One per parameter tensor, in the order of the parameters.
    failures : list of Failure
        For a mismatch: the disagreeing entries (at most ``max_failures`` per tensor are kept;
        ``TensorRow.failed`` holds the full count).
    thresholds : dict
        The step rule, rtol, the noise model and the precision the check ran at.
    notes : list of str
        What was inferred or drawn (targets, seed, kinks met, float32 handling).
    message : str
        For an unusable module: one line naming the problem.
    point : dict
        The input point: ``params``, ``X``, ``Y`` (arrays) and how they were obtained
        (``origin``); under ``fresh``, the fresh points drawn where tensors saw only zeros, in
        order (``Failure.fresh`` = k is the k-th), each with ``origin``, ``params``, ``X``,
        ``Y`` and the ``tensors`` checked there (only ``origin`` and ``tensors`` for one the
        module could not be evaluated at).
    threshold_summary : str
        The facts of ``thresholds`` in one line (rtol and atol for the precision, the step
        rule, the mode), printed after the table; the JSON carries ``thresholds`` in full.
    """

    status: str
    rows: list = field(default_factory=list)
    failures: list = field(default_factory=list)
    thresholds: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    message: str = ""
    point: dict = field(default_factory=dict)
    name: str = "module"
    threshold_summary: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "verified"

    @property
    def uninformative(self) -> list:
        """Names of the tensors whose gradient and differences were 0 at every point drawn."""
        return [row.name for row in self.rows if row.uninformative]

    @property
    def nondifferentiable(self) -> int:
        """How many checked entries stayed at a kink after every re-draw."""
        return sum(row.nondiff for row in self.rows)

    def __bool__(self) -> bool:
        return self.ok

    # --- rendering --------------------------------------------------------------------------

    def to_text(self) -> str:
        if self.status == "unusable":
            return f"gradient check: UNUSABLE: {self.message}"
        n_params = sum(row.size for row in self.rows)
        zero = self.uninformative
        caveat = ""
        if zero and len(zero) == len(self.rows) and self.status == "verified":
            caveat = ("; UNINFORMATIVE: every gradient entry and every difference was exactly "
                      "0 at every drawn point, nothing was compared")
        elif zero:
            caveat = (f"; {len(zero)} {'tensor' if len(zero) == 1 else 'tensors'} "
                      f"uninformative ({', '.join(zero)}: zero gradient at every drawn point)")
        lines = [f"gradient check of {self.name}: {self.status.upper()} "
                 f"({len(self.rows)} tensors, {n_params} parameters; "
                 f"{self.thresholds.get('code_precision', 'float64')} code{caveat})"]
        header = ("tensor", "shape", "mode", "checked", "max rel err", "max abs err", "atol",
                  "status")
        table = [header]
        for row in self.rows:
            unit = "coords" if row.mode == "full" else "dirs"
            table.append((row.name, "x".join(map(str, row.shape)) or "scalar", row.mode,
                          f"{row.checked} {unit}", f"{row.max_rel_error:.1e}",
                          f"{row.max_abs_error:.1e}", f"{row.atol:.1e}", row.status_text()))
        widths = [max(len(r[i]) for r in table) for i in range(len(header))]
        for k, r in enumerate(table):
            lines.append("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())
            if k == 0:
                lines.append("  ".join("-" * w for w in widths))
        if self.threshold_summary:
            lines.append(self.threshold_line())
        if self.failures:
            lines.append("")
            lines.append("mismatches (analytic = the module's gradients, numeric = central "
                         f"differences of {self.thresholds.get('numeric_of', 'its loss')}):")
            for row in self.rows:
                listed = [f for f in self.failures if f.tensor == row.name]
                lines += [f"  {failure.to_text()}" for failure in listed]
                unlisted = row.failed - sum(f.localised_by is None for f in listed)
                if unlisted > 0:
                    lines.append(f"  ... and {unlisted} more disagreeing entries of {row.name}")
                lines += [f"  likely bug in {row.name}: {d['class']}: {d['detail']}"
                          for d in (row.diagnosis if row.failed else ())]
            lines.append("")
            lines += self.point_lines()
        if self.nondifferentiable:
            lines.append("")
            lines.append(f"{self.nondifferentiable} entries are non-differentiable here: a kink "
                         "stayed inside the difference step after every re-draw (not a failure).")
        if self.notes:
            lines.append("")
            lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)

    def threshold_line(self) -> str:
        """The thresholds in one line, ``thresholds: …`` ("" when the report has none)."""
        return f"thresholds: {self.threshold_summary}" if self.threshold_summary else ""

    def point_lines(self) -> list[str]:
        """The points the failures were found at: the input point (always), and each fresh
        point that has failures; X, Y and the failing tensors' params."""
        if not self.point:
            return []
        points = [("input point", self.point)] + [
            (f"fresh point #{k}", fresh) for k, fresh in enumerate(self.point.get("fresh", ()),
                                                                  start=1)]
        lines = []
        with np.printoptions(precision=6, suppress=False, threshold=_PRINT_LIMIT, edgeitems=3,
                             linewidth=100):
            for k, (title, point) in enumerate(points):
                failing = dict.fromkeys(f.tensor for f in self.failures if f.fresh == k)
                if k and (not failing or "X" not in point):
                    continue
                origin = point.get("origin", "")
                if k:
                    origin = origin.split(": ", 1)[-1]
                lines.append(f"{title}: {origin}".rstrip())
                arrays = [(key, point[key]) for key in ("X", "Y") if key in point]
                arrays += [(name, point.get("params", {}).get(name)) for name in failing]
                for key, value in arrays:
                    value = np.asarray(value)
                    if key not in ("X", "Y") and not (value.ndim and value.size <= _PRINT_LIMIT):
                        continue
                    lines.append(f"  {key} ({'x'.join(map(str, value.shape))}) =")
                    lines += [f"    {line}" for line in np.array2string(value).splitlines()]
        return lines

    def as_dict(self) -> dict:
        out = {"status": self.status, "ok": self.ok, "module": self.name}
        if self.status == "unusable":
            out["message"] = self.message
            return out
        out["thresholds"] = {k: _json_value(v) for k, v in self.thresholds.items()}
        out["rows"] = [row.as_dict() for row in self.rows]
        out["failures"] = [failure.as_dict() for failure in self.failures]
        out["nondifferentiable"] = self.nondifferentiable
        out["uninformative"] = self.uninformative
        out["notes"] = list(self.notes)
        out["diagnosis"] = {row.name: list(row.diagnosis) for row in self.rows if row.failed}
        out["point"] = {k: _json_value(v) for k, v in self.point.items()}
        return out


#: Relative agreement of analytic and numeric values (beyond the check's own rtol) for a
#: relation between them to name a bug; the largest numerator and denominator of a ratio.
RELATION_RTOL = 1e-4
RATIO_HEIGHT = 12


def _close(first: np.ndarray, second: np.ndarray, rtol: float) -> bool:
    scale = max(float(np.max(np.abs(first), initial=0.0)),
                float(np.max(np.abs(second), initial=0.0)), 1e-300)
    return float(np.max(np.abs(first - second), initial=0.0)) <= rtol * scale


def _simple_ratio(value: float, rtol: float):
    """``value`` as a Fraction of small height (2, 1/2, -1, 5), or ``None``."""
    if not math.isfinite(value) or value == 0:
        return None
    fraction = Fraction(value).limit_denominator(RATIO_HEIGHT)
    if abs(fraction.numerator) > RATIO_HEIGHT * RATIO_HEIGHT or \
            abs(float(fraction) - value) > rtol * abs(value):
        return None
    return fraction


def _ratio_diagnosis(c: Fraction, batch_size: int | None) -> list:
    """The classes of an analytic gradient ``c`` times the numeric one."""
    found = []
    if c < 0:
        found.append({"class": "wrong_sign", "detail": "the analytic gradient has the opposite "
                      "sign" + ("" if c == -1 else f" (it is {c} times the numeric one)")})
        c = -c
    if c == 1:
        return found
    if batch_size and batch_size > 1 and c == batch_size:
        found.append({"class": "missing_factor", "detail": f"not averaged over the batch (×N, "
                      f"N = {batch_size}): the analytic gradient is N times the numeric one"})
    elif batch_size and batch_size > 1 and c == Fraction(1, batch_size):
        found.append({"class": "extra_factor", "detail": f"divided by the batch size once too "
                      f"often (×1/N, N = {batch_size})"})
    elif c > 1:
        found.append({"class": "extra_factor", "detail": f"the analytic gradient is {c} times "
                      f"the numeric one (an extra factor {c})"})
    else:
        found.append({"class": "missing_factor", "detail": f"the analytic gradient is {c} "
                      f"times the numeric one (a factor {1 / c} is missing)"})
    return found


def diagnose_tensor(analytic, numeric, batch_size: int | None = None,
                    rtol: float = RELATION_RTOL) -> list:
    """The likely bug of a tensor whose analytic and numeric gradients disagree: a list of
    ``{"class", "detail"}`` (classes of SPEC §7; ``other`` when no relation holds).

    Parameters
    ----------
    analytic, numeric : array_like
        The module's gradient and the finite differences, entry by entry (full mode), or the
        two sides along each checked direction (directional mode: only a ratio or zero can
        be seen there; pass the transposition test's values as a full pair).
    batch_size : int, optional
        N, the number of samples of the batch the check ran on.

    >>> import numpy as np
    >>> n = np.array([[0.5, -1.0], [2.0, 0.25]])
    >>> [d["class"] for d in diagnose_tensor(4 * n, n, batch_size=4)]
    ['missing_factor']
    >>> diagnose_tensor(n.T, n)[0]["class"], diagnose_tensor(0 * n, n)[0]["class"]
    ('missing_transpose', 'missing_term')
    >>> [d["class"] for d in diagnose_tensor(-0.5 * n, n)]
    ['wrong_sign', 'missing_factor']
    """
    a = np.asarray(analytic, dtype=float)
    n = np.asarray(numeric, dtype=float)
    if a.shape != n.shape or not n.size or not np.any(n != 0):
        return [{"class": "other", "detail": "the analytic and numeric gradients disagree"}]
    if not np.any(a != 0):
        return [{"class": "missing_term", "detail": "the analytic gradient is zero where the "
                 "numeric one is not (the gradient, or the term it should hold, is missing)"}]
    big = np.abs(n) > 1e-3 * float(np.max(np.abs(n)))
    c = _simple_ratio(float(np.median(a[big] / n[big])), rtol)
    if c is not None and _close(a, float(c) * n, rtol):
        found = _ratio_diagnosis(c, batch_size)
        if found:
            return found
    if a.ndim == 2 and a.shape[0] == a.shape[1] and a.shape[0] > 1 and _close(a, n.T, rtol):
        return [{"class": "missing_transpose", "detail": "transposed: the analytic gradient "
                 "is the transpose of the numeric one"}]
    differ = ~np.isclose(a, n, rtol=rtol, atol=rtol * float(np.max(np.abs(n))))
    if a.ndim == 2 and differ.any():
        rows, cols = np.nonzero(differ)
        where = f"row {rows[0]}" if len(set(rows)) == 1 and a.shape[0] > 1 else \
            f"column {cols[0]}" if len(set(cols)) == 1 and a.shape[1] > 1 else ""
        if where:
            return [{"class": "other", "detail": f"only {where} disagrees"}]
    return [{"class": "other", "detail": "no simple relation between the analytic and numeric "
             "gradients (not a constant factor, not the transpose)"}]


def diagnose_checked(grads, seen: list, mode: str, batch_size: int | None = None) -> list:
    """:func:`diagnose_tensor` from the entries a check compared, ``seen`` (key, direction,
    outcome): the module's gradient ``grads`` against the numeric array (mode ``full``), or
    the two sides along each direction, and the numeric side against the transposed gradient
    (``directional``)."""
    grads = np.asarray(grads, dtype=float)
    if mode == "full":
        numeric = np.zeros(grads.shape)
        for key, _, outcome in seen:
            numeric[key] = outcome.numeric
        return diagnose_tensor(grads, numeric, batch_size)
    analytic = np.array([outcome.analytic for _, _, outcome in seen])
    numeric = np.array([outcome.numeric for _, _, outcome in seen])
    found = diagnose_tensor(analytic, numeric, batch_size)
    if found[0]["class"] == "other" and grads.ndim == 2 and grads.shape[0] == grads.shape[1] > 1:
        transposed = np.array([float(np.sum(grads.T * u)) for _, u, _ in seen])
        if _close(transposed, numeric, RELATION_RTOL):
            return [{"class": "missing_transpose", "detail": "transposed: the analytic gradient "
                     "is the transpose of the numeric one"}]
    return found


def _json_float(value):
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _json_value(value):
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        if value.size > _JSON_LIMIT:
            return {"shape": list(value.shape), "omitted": "more than "
                    f"{_JSON_LIMIT} entries"}
        return [[_json_float(v) for v in row] for row in value.reshape(value.shape[0], -1)] \
            if value.ndim == 2 else [_json_float(v) for v in value.ravel()]
    if isinstance(value, (np.floating, float)):
        return _json_float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    return value
