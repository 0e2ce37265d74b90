r"""How a step was checked, in words: one wording of a :class:`~derive.derivation.Check` per
format.

A check is data (a method, what it compared with, points, digits, sizes, a target domain, the
checks it rests on); each format words it here, once: :func:`check_text` for plain text,
:func:`check_latex` for LaTeX text mode (no Unicode), :func:`check_data` for JSON.

>>> from derive.derivation import Check
>>> check_text(Check("rational_points", points=12, digits=50))
'12 random rational points, 50 digits'
>>> numeric = Check("central_differences", "cost", points=2, max_error=2.4e-10,
...                 sizes=(3, 4, 2), batch=3)
>>> check_text(numeric)
'central differences along 2 random directions at n = (3, 4, 2), N = 3: max rel err 2.4e-10'
>>> check_latex(Check("exact", "residual", condition="simplex"))
'equal to $a - y$ on the simplex $\\sum_k y_k = 1$ (exact simplification)'
"""

from __future__ import annotations

from ..derivation import Check
from .latex_escape import latex_text

__all__ = ["check_data", "check_latex", "check_text"]

#: Sizes shown before an ellipsis.
_SHOWN_SIZES = 6


def _sizes(check: Check, ellipsis: str) -> str:
    shown = ", ".join(str(n) for n in check.sizes[:_SHOWN_SIZES])
    return shown + (f", {ellipsis}" if len(check.sizes) > _SHOWN_SIZES else "")


def _central_differences(check: Check, ellipsis: str, word) -> str:
    if check.max_error is None:
        return "not checked numerically: the cost is not finite at the drawn point"
    batch = f", N = {check.batch}" if check.batch else ""
    return (f"central differences along {check.points} random directions at "
            f"n = ({_sizes(check, ellipsis)}){batch}: max rel err {check.max_error:.1e}")


def _instantiation(check: Check, ellipsis: str, word) -> str:
    depth = check.sizes[0] if check.sizes else "L"
    text = f"instantiated at L = {depth}, j = 1 {ellipsis} {depth}: equal to the depth-{depth} " \
           "derivation"
    return text + "".join(f", itself {word(part)}" for part in check.parts)


#: Each method of :data:`derive.derivation.CHECK_METHODS`: ``(check, ellipsis, word) → words``.
_METHODS = {
    "sympy_diff": lambda check, ellipsis, word: "sympy.diff",
    "structural": lambda check, ellipsis, word: "structurally identical",
    "exact": lambda check, ellipsis, word: "exact simplification",
    "rational_points": lambda check, ellipsis, word:
        f"{check.points} random rational points, {check.digits} digits",
    "central_differences": _central_differences,
    "instantiation": _instantiation,
}
#: Methods that name what they compared with (instantiation's parts are worded with it).
_SELF_DESCRIBING = {("central_differences", "cost"), ("instantiation", "explicit_depth"),
                    ("sympy_diff", "sympy_diff")}
#: Each comparand of :data:`derive.derivation.COMPARANDS`, per format: (text, LaTeX).
COMPARAND_WORDS = {
    "": ("", ""),
    "sympy_diff": ("equal to sympy.diff of the formula", "equal to sympy.diff of the formula"),
    "p_form": ("equal to the P recursion", "equal to the $P$ recursion"),
    "unfused": ("equal to Phi'(z) l'(Phi(z), y) with a = Phi(z) written out",
                r"equal to $\Phi'(z)\, \ell'(\Phi(z), y)$ with $a = \Phi(z)$ written out"),
    "residual": ("equal to a - y", "equal to $a - y$"),
    "cost": ("equal to central differences of the cost",
             "equal to central differences of the cost"),
    "engine": ("equal to the matrix-form derivation at these sizes",
               "equal to the matrix-form derivation at these sizes"),
    "explicit_depth": ("equal to the derivation of an explicit depth",
                       "equal to the derivation of an explicit depth"),
}
#: Target domains a check may assume, per format: (text, LaTeX).
CONDITION_WORDS = {
    "simplex": ("on the simplex sum_k y_k = 1", r"on the simplex $\sum_k y_k = 1$"),
}


def _word(check: Check, latex: bool) -> str:
    ellipsis = r"\ldots{}" if latex else "…"
    word = check_latex if latex else check_text
    method = _METHODS[check.method](check, ellipsis, word)
    comparand = "" if (check.method, check.against) in _SELF_DESCRIBING else \
        COMPARAND_WORDS[check.against][latex]
    condition = ""
    if check.condition:
        default = (f"for {check.condition} targets", f"for {latex_text(check.condition)} targets")
        condition = CONDITION_WORDS.get(check.condition, default)[latex]
    if comparand:
        text = f"{comparand}{' ' + condition if condition else ''} ({method})"
    else:
        text = method + (f", {condition}" if condition else "")
    if check.method != "instantiation":
        text += "".join(f"; {word(part)}" for part in check.parts)
    return text


def check_text(check: Check | None) -> str:
    """How a step (or a derivation) was checked, as plain text ("" when it was not)."""
    if check is None:
        return ""
    return _word(check, latex=False)


def check_latex(check: Check | None) -> str:
    """The same in LaTeX text mode, ASCII only."""
    if check is None:
        return ""
    return _word(check, latex=True)


def check_data(check: Check | None):
    """The check in a JSON document: :meth:`Check.as_dict` (``None`` when there is none)."""
    return None if check is None else check.as_dict()
