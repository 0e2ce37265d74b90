r"""The closing section of every document: how each step was checked, from the derivation's data.

Each step of a derivation records its rule and, when the engine checked it, a
:class:`~derive.derivation.Check`; the section groups the steps (by their numbers, as the
displays tag them) under one wording each — the check's method and result, "a definition", or
"derived from the lines above" — and ends with the check of the derivation as a whole.  The
wordings are LaTeX text mode (:func:`derive.printing.checks.check_latex`), which the
non-LaTeX printers read with :func:`reports.fragment.inline_tokens`.

>>> import derive
>>> summary = check_summary(derive.backprop(derive.mlp([2, 3, 1])))
>>> summary.title
'How each step was checked'
>>> summary.items[0]
'Steps (1)--(5), (35): a definition, nothing to check.'
>>> summary.items[-1]
'The whole derivation: equal to the matrix-form derivation at these sizes (exact simplification).'
"""

from __future__ import annotations

from dataclasses import dataclass

from derive.derivation import RULES
from derive.printing.checks import check_latex

__all__ = ["CheckSummary", "check_summary", "step_ranges"]

TITLE = "How each step was checked"


@dataclass(frozen=True)
class CheckSummary:
    """The section's title, its opening sentence and one item per wording (text-mode LaTeX)."""

    title: str
    intro: str
    items: tuple


def step_ranges(numbers: list[int]) -> str:
    """``[1, 2, 3, 5]`` → ``"(1)--(3), (5)"``.

    >>> step_ranges([1, 2, 3, 5, 7, 8])
    '(1)--(3), (5), (7)--(8)'
    """
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ", ".join(f"({run[0]})" if len(run) == 1 else f"({run[0]})--({run[-1]})"
                     for run in runs)


def _wording(step, overall: bool) -> str:
    if step.check:
        return "checked by the engine: " + check_latex(step.check)
    rule = RULES.get(step.rule)
    if rule is not None and rule.definition:
        return "a definition, nothing to check"
    if overall:
        return "derived from the lines above; covered by the check of the whole derivation below"
    return "derived from the lines above"


def check_summary(derivation) -> CheckSummary:
    """How each step of ``derivation`` was checked (module docstring)."""
    overall = getattr(derivation, "check", None)
    groups: dict[str, list[int]] = {}
    for number, step in enumerate(getattr(derivation, "steps", []), start=1):
        groups.setdefault(_wording(step, overall is not None), []).append(number)
    items = [f"{'Step' if len(numbers) == 1 else 'Steps'} {step_ranges(numbers)}: {wording}."
             for wording, numbers in groups.items()]
    if overall is not None:
        items.append(f"The whole derivation: {check_latex(overall)}.")
    return CheckSummary(TITLE, "Every displayed equality was recorded by the engine with how "
                        "it was obtained; the step numbers are those of the displays.",
                        tuple(items))
