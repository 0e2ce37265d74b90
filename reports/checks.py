r"""The closing section of every document: how each step was checked, from the document's lines.

Every display line of a :class:`~reports.lectures.document.Document` carries the engine's
:class:`~derive.derivation.Check` of it, or is a definition.  The section groups the lines (by
their numbers, as the displays tag them) under one wording each — the method and what it
compared with, or "a definition" — explains the small mark set beside each line, and ends with
the check of the derivation as a whole, on which the comparisons with the engine's values rest.
The wordings are LaTeX text mode (:func:`derive.printing.checks.check_latex`), which the
non-LaTeX printers read with :func:`derive.printing.fragment.inline_tokens`.

>>> import derive
>>> from reports.lectures import lecture
>>> summary = check_summary(lecture(derive.backprop(derive.mlp([2, 3, 1]), form="matrix"),
...                                 "cs229"))
>>> summary.title
'How each step was checked'
>>> summary.items[0]
'Steps (1)--(5), (21)--(25): a definition, nothing to check.'
"""

from __future__ import annotations

from dataclasses import dataclass

from derive.printing.checks import check_latex

from .lectures.document import MARK_WORDS, mark_of

__all__ = ["CheckSummary", "check_summary", "step_ranges", "tag_text"]

TITLE = "How each step was checked"


@dataclass(frozen=True)
class CheckSummary:
    """The section's title, its opening sentence and one item per wording (text-mode LaTeX)."""

    title: str
    intro: str
    items: tuple


def tag_text(line) -> str:
    """A line's tag with its mark: ``"12 q"`` (``""`` for an untagged line)."""
    if not line.tag:
        return ""
    mark = mark_of(line)
    return f"{line.tag} {mark}" if mark else line.tag


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


def _wording(line) -> str:
    if line.check:
        mark = mark_of(line)
        return f"marked {mark}, checked by the engine: {check_latex(line.check)}"
    if line.definition:
        return "a definition, nothing to check"
    return "derived from the lines above"


def check_summary(document) -> CheckSummary:
    """How each line of ``document`` was checked (module docstring)."""
    groups: dict[str, list[int]] = {}
    for line in document.equations():
        if line.tag.isdigit():
            groups.setdefault(_wording(line), []).append(int(line.tag))
    items = [f"{'Step' if len(numbers) == 1 else 'Steps'} {step_ranges(numbers)}: {wording}."
             for wording, numbers in groups.items()]
    if document.overall is not None:
        items.append("The whole derivation, whose values the lines above are compared with: "
                     f"{check_latex(document.overall)}.")
    used = sorted({mark_of(line) for line in document.equations() if mark_of(line)})
    legend = "; ".join(f"{mark}: {MARK_WORDS[mark]}" for mark in used)
    intro = ("Every displayed equality was checked by the engine or is a definition; the "
             "mark beside a step's number says how" + (f" ({legend})" if legend else "")
             + ".")
    return CheckSummary(TITLE, intro, tuple(items))
