"""A verdict on a claimed gradient or identity (SPEC §7): what was decided, how, and why.

:class:`Verdict` is what :func:`verify.check_claim` returns; :meth:`Verdict.as_dict` is exactly
the JSON of SPEC §7 and :meth:`Verdict.to_text` the command's text (one line first, then the
counterexample, then how it was decided).

>>> v = Verdict("incorrect", "rational_points", [Diagnosis("wrong_sign", "the opposite sign")])
>>> v.as_dict()["diagnosis"]
[{'class': 'wrong_sign', 'detail': 'the opposite sign'}]
>>> v.headline
'incorrect: wrong sign'
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: The verdicts, and the diagnosis classes of SPEC §7 in its order.
VERDICTS = ("correct", "incorrect", "invalid")
CLASSES = ("layout_swap", "missing_transpose", "wrong_order", "missing_factor", "extra_factor",
           "wrong_sign", "missing_activation_derivative", "wrong_activation_derivative",
           "hadamard_vs_matmul", "wrong_layer", "missing_term", "shape_mismatch", "other")
#: What each method of decision means, for the text.
METHODS = {
    "exact": "exact symbolic equivalence (the difference tidies to zero)",
    "rational_points": "evaluation at random rational points with 50-digit arithmetic "
                       "(non-commutative matrices, entry by entry)",
    "shape": "the shapes alone",
    "unread": "the claim could not be read",
}


@dataclass(frozen=True)
class Diagnosis:
    """One named mistake: ``cls`` a class of :data:`CLASSES`, ``detail`` in words."""

    cls: str
    detail: str

    def __post_init__(self):
        if self.cls not in CLASSES:
            raise ValueError(f"unknown diagnosis class {self.cls!r}")

    def as_dict(self) -> dict:
        return {"class": self.cls, "detail": self.detail}


@dataclass(frozen=True)
class Verdict:
    """The verdict on one claim.

    Attributes
    ----------
    verdict : {"correct", "incorrect", "invalid"}
    method : str
        A key of :data:`METHODS`: how it was decided.
    diagnosis : list of Diagnosis
        Empty for a correct claim; at least one entry otherwise.
    counterexample : dict or None
        For an incorrect claim: ``{"point": {name: value}, "claimed": value, "true": value}``,
        values as nested lists of strings (exact rationals for inputs, 15 digits for results).
    notes : tuple of str
        What the reading assumed (names taken as scalars, defaults), for the text.
    points : int
        How many points agreed (``rational_points``).
    """

    verdict: str
    method: str
    diagnosis: list = field(default_factory=list)
    counterexample: dict | None = None
    notes: tuple = ()
    points: int = 0

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"unknown verdict {self.verdict!r}")

    @property
    def ok(self) -> bool:
        return self.verdict == "correct"

    @property
    def headline(self) -> str:
        """The first line: ``correct``, ``incorrect: missing transpose``, ``invalid: …``."""
        if not self.diagnosis:
            return self.verdict
        return f"{self.verdict}: {self.diagnosis[0].cls.replace('_', ' ')}"

    def as_dict(self) -> dict:
        """Exactly the JSON of SPEC §7."""
        return {"verdict": self.verdict, "method": self.method,
                "diagnosis": [d.as_dict() for d in self.diagnosis],
                "counterexample": self.counterexample}

    def to_text(self) -> str:
        """The headline, each diagnosis, the counterexample, then how it was decided."""
        lines = [self.headline]
        lines += [f"  {d.cls}: {d.detail}" for d in self.diagnosis]
        if self.counterexample:
            lines.append("counterexample:")
            for name, value in self.counterexample["point"].items():
                lines.append(f"  {name} = {flat(value)}")
            lines.append(f"  claimed: {flat(self.counterexample['claimed'])}")
            lines.append(f"  true:    {flat(self.counterexample['true'])}")
        if self.method == "unread":
            lines += [f"note: {note}" for note in self.notes]
            return "\n".join(lines)
        how = METHODS.get(self.method, self.method)
        if self.method == "rational_points" and self.verdict == "correct":
            how += f": equal at {self.points} points"
        elif self.method == "rational_points":
            how += ": the counterexample is one such point"
        lines.append(f"decided by {how}")
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)


def flat(value) -> str:
    """A nested list of strings as [[a, b], [c, d]]."""
    if isinstance(value, list):
        return "[" + ", ".join(flat(v) for v in value) + "]"
    return str(value)


__all__ = ["CLASSES", "METHODS", "VERDICTS", "Diagnosis", "Verdict", "flat"]
