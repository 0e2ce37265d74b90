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

Glossary: ``a`` analytic value, ``n`` numeric (finite-difference) value, ``h`` the step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

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
                "uninformative": self.uninformative, "status": self.status}


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
        out["point"] = {k: _json_value(v) for k, v in self.point.items()}
        return out


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
