r"""A lecture document as data: sections of blocks, each equality carrying how it was checked.

The course structures (:mod:`reports.lectures`) build a :class:`Document`; the printers
(:mod:`reports.article`, :mod:`reports.beamer`, :mod:`reports.markdown`, :mod:`reports.html`)
print one.  Text is LaTeX text mode with inline math in ``$…$`` (what the notes write); each
display is a :class:`Group`: one justification for the lines that follow it, as lecture notes
group their steps, and per line its left side, its right side from the relation on, its step
number and the :class:`~derive.derivation.Check` the engine made of it.

>>> from derive.derivation import Check
>>> group = Group("Chain rule.", (Eq("z", "= W x", check=Check("exact", "engine")),
...                               Eq("", "= y", check=Check("exact", "engine"))))
>>> [line.math for line in group.lines]
['z = W x', '= y']
>>> MARKS["exact"], mark_of(group.lines[0])
('e', 'e')
"""

from __future__ import annotations

from dataclasses import dataclass, field

from derive.derivation import Check

__all__ = ["Algorithm", "Code", "Document", "Eq", "Figure", "Group", "MARKS", "MARK_WORDS",
           "Section", "Table", "Text", "mark_of"]

#: The mark printed beside a checked line, by the method of its check (definitions: none).
MARKS = {"exact": "e", "structural": "e", "sympy_diff": "d", "rational_points": "q",
         "central_differences": "n", "instantiation": "i"}
#: What each mark means, for the closing section.
MARK_WORDS = {"e": "exact simplification", "d": "differentiated by sympy.diff",
              "q": "random rational points, 50 digits", "n": "central differences in float64",
              "i": "a generic rule instantiated at an explicit depth"}


@dataclass(frozen=True)
class Eq:
    r"""One display line: ``lhs`` (``""``: the left side of the line above), ``rhs`` from
    the relation on (``"= …"``, ``"\in …"``), its step number ``tag`` (``""``: untagged), the
    engine's ``check`` of it and whether it is a ``definition`` (nothing to check)."""

    lhs: str
    rhs: str
    tag: str = ""
    check: Check | None = None
    definition: bool = False

    @property
    def math(self) -> str:
        """The line as one formula, without its tag."""
        return f"{self.lhs} {self.rhs}".strip()


def mark_of(line: Eq) -> str:
    """The small mark of how ``line`` was checked (:data:`MARKS`), ``""`` for a definition."""
    return MARKS.get(line.check.method, "") if line.check else ""


@dataclass(frozen=True)
class Group:
    """Lines justified together: the ``note`` (text-mode LaTeX, ``""`` for none) before them."""

    note: str
    lines: tuple


@dataclass(frozen=True)
class Text:
    """A paragraph of text-mode LaTeX."""

    text: str


@dataclass(frozen=True)
class Algorithm:
    r"""Pseudo-code: a caption and ``(depth, text)`` lines (text mode, ``$…$`` math; a word
    in ``\textbf`` is a keyword)."""

    caption: str
    lines: tuple


@dataclass(frozen=True)
class Table:
    """A table: caption, column heads and rows of cells (text mode)."""

    caption: str
    columns: tuple
    rows: tuple


@dataclass(frozen=True)
class Code:
    """A code listing (printed verbatim)."""

    caption: str
    code: str
    language: str = "python"


@dataclass(frozen=True)
class Figure:
    """A figure: its file ``name``, caption, and ``render(fmt)`` → bytes (svg, pdf, png)."""

    name: str
    caption: str
    render: object


@dataclass
class Section:
    """A titled part of the document and its blocks, in order."""

    title: str
    blocks: list = field(default_factory=list)


@dataclass
class Document:
    """A whole document: its title and subtitle, the course whose notes it follows, the
    one-line summary of the generated-by mark, the profile's name, the sections, and the
    check of the derivation as a whole (``None`` when it was not checked)."""

    title: str
    subtitle: str
    course: str
    summary: str
    profile: str
    sections: list = field(default_factory=list)
    overall: Check | None = None

    def equations(self):
        """Every display line, in order."""
        for section in self.sections:
            for block in section.blocks:
                if isinstance(block, Group):
                    yield from block.lines
