"""symbackprop's documents: a derivation as a LaTeX article, PDF, Beamer slides, Markdown and
HTML (SPEC §5: ``python -m reports build``).

The mathematics is the LaTeX fragment of :func:`derive.render.render` (format ``latex``), in a
course's notation; each module here assembles one kind of document around it:
:mod:`~reports.article`, :mod:`~reports.beamer`, :mod:`~reports.markdown`, :mod:`~reports.html`
(through :mod:`~derive.printing.fragment`, which reads the fragment back as sections and lines), and
:mod:`~reports.build` derives, renders, compiles and writes the files.

>>> import derive, reports
>>> page = reports.render(derive.backprop(derive.mlp([2, 3, 1])), "html", notation="cs229")
>>> page.startswith("<!DOCTYPE html>")
True
"""

from .build import FORMATS, Build, CompileFailed, build_report, derive_report
from .render import DOCUMENTS, formats, render

__all__ = ["DOCUMENTS", "FORMATS", "Build", "CompileFailed", "build_report", "derive_report",
           "formats", "render"]
