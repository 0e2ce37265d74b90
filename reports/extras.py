r"""The optional sections of a report: the generated NumPy code, the finite-difference table,
and the plots (each activation and its derivative; the gradient check's relative error against
the step h, the V-shaped curve).

:data:`EXTRAS` names each (``code``, ``table``, ``plots``); :func:`extra_sections` gives their
:class:`~reports.lectures.document.Section` s for a network's derivation, each figure a
:class:`~reports.lectures.document.Figure` whose file stem starts with the report's, so that
reports written into one folder keep their own figures.

>>> import derive
>>> sections = extra_sections(derive.backprop(derive.mlp([2, 3, 1]), form="matrix"),
...                           ("table",), "net")
>>> [section.title for section in sections]
['Finite-difference check']
"""

from __future__ import annotations

import re

from derive.errors import BadInput

from .figures import figures
from .lectures.document import Code, Figure, Section, Table, Text
from .listing import code_listing
from .tables import fd_table

__all__ = ["EXTRAS", "extra_sections", "figure_stem"]

#: Optional section → what it shows.
EXTRAS = {
    "code": "the generated NumPy module, checked against central differences when written",
    "table": "the finite-difference table: analytic and central-difference values per entry",
    "plots": "plots of each activation and its derivative, and of the gradient check's error "
             "against the step h",
}


def figure_stem(stem: str) -> str:
    """A file stem safe in LaTeX's ``\\includegraphics`` (no spaces or specials)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", stem)


def _code(derivation, notation) -> Section:
    code = code_listing(derivation, notation)
    return Section("Generated NumPy code", [
        Text("The module printed from the batch derivation, vectorised over the samples; it "
             "was checked against central differences before it was written.  Its comments "
             "cite the steps of the batch derivation as \\texttt{python -m derive mlp "
             "--form matrix --batch} numbers them."),
        Code("", code)])


def _table(derivation, notation) -> Section:
    table = fd_table(derivation, notation)
    return Section("Finite-difference check", [
        Table(table.caption, tuple(table.columns), tuple(tuple(row) for row in table.rows))])


def _plots(derivation, notation, stem: str) -> Section:
    blocks = [Figure(f"{figure_stem(stem)}_{figure.name}", figure.caption, figure.render)
              for figure in figures(derivation, notation)]
    return Section("Plots", blocks)


def extra_sections(derivation, include, stem: str, notation=None) -> list:
    """The sections ``include`` asks for (keys of :data:`EXTRAS`), in the table's order.

    Raises
    ------
    BadInput
        An unknown section, or one the derivation has none of (a computation graph has no
        generated module).
    """
    unknown = [name for name in include if name not in EXTRAS]
    if unknown:
        raise BadInput(f"unknown optional section {unknown[0]!r}; known: {', '.join(EXTRAS)}",
                       "--include")
    if include and getattr(derivation, "network", None) is None:
        raise BadInput("the optional sections (code, table, plots) are those of a network; "
                       "a computation graph has none", "--include")
    makers = {"code": lambda: _code(derivation, notation),
              "table": lambda: _table(derivation, notation),
              "plots": lambda: _plots(derivation, notation, stem)}
    return [makers[name]() for name in EXTRAS if name in include]
