r"""The gallery: reference reports of each course's network, committed in ``reports/gallery/``.

:data:`ENTRIES` is the one table of what the gallery holds: per entry a name (the files'
stem), its spec (a path from the repository's root), the notation profile and layout it is
printed in, and a line saying what it shows.  :func:`write_gallery` (``python -m reports
gallery``) writes, for each entry, the article (``NAME.tex``), the Beamer slides
(``NAME_slides.tex``), the Markdown (``NAME.md``) and the HTML page (``NAME.html``) through
:func:`reports.build.build_report`, and an index ``README.md`` linking them; no PDF.
:func:`check_gallery` (``--check``) writes the same into a temporary folder and names every
file of the folder that differs, is missing, or is a document no entry writes any more.
:func:`compile_gallery` (``--compile``) compiles every .tex of the folder with pdflatex and
reads the logs (:mod:`reports.latex_log`).

The index links the specs relative to ``reports/gallery/`` wherever the gallery is written,
so that a gallery written elsewhere (``-o``) is byte for byte the committed one.

>>> [entry.name for entry in ENTRIES][:3]
['ensimag_columns', 'cs229_sigmoid_bce', 'mines_augmented_batch']
>>> gallery_files(ENTRIES[0])
['ensimag_columns.tex', 'ensimag_columns_slides.tex', 'ensimag_columns.md', 'ensimag_columns.html']
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from derive.cli import GENERATED_MARK, refuse_foreign, write_output
from derive.errors import BadInput

from .build import DOCUMENTS, build_report
from .latex_log import LogProblem, read_log, run_pdflatex

__all__ = ["DEFAULT_DIRECTORY", "ENTRIES", "FORMATS", "INDEX", "Entry", "Stale", "check_gallery",
           "compile_gallery", "gallery_files", "render_index", "write_gallery"]

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DIRECTORY = Path(__file__).resolve().parent / "gallery"
#: The documents written per entry (formats of :data:`reports.build.DOCUMENTS`).
FORMATS = ("tex", "beamer", "md", "html")
INDEX = "README.md"
#: Suffixes of the files the gallery writes: another file of the folder (a PDF compiled
#: there, the specs/ folder) is neither compared nor removed.
_SUFFIXES = (".tex", ".md", ".html")


@dataclass(frozen=True)
class Entry:
    """One report of the gallery: ``name`` (the files' stem), ``spec`` (a network or
    computation-graph spec, from the repository's root), ``notation`` and ``layout``
    (passed to :func:`reports.build.build_report`) and a one-line ``description``
    (Markdown)."""

    name: str
    spec: str
    notation: str | None
    layout: str | None
    description: str


ENTRIES: tuple[Entry, ...] = (
    Entry("ensimag_columns", "examples/ensimag_columns.toml", "ensimag", "numerator",
          "Ensimag: a 3-4-2 sigmoid network with mean squared error, neurons as the columns "
          "of W, the signals P^j and B^j."),
    Entry("cs229_sigmoid_bce", "examples/cs229_sigmoid_bce.toml", "cs229", "numerator",
          "CS229: the 2-3-2-1 sigmoid network of the notes with binary cross-entropy, "
          "∂L/∂z^[3] = a^[3] − y and the backward chain."),
    Entry("mines_augmented_batch", "examples/mines_augmented_batch.toml", "mines", "denominator",
          "Mines: a tanh/softmax network with cross-entropy, augmented bias column, the batch "
          "recursion E^(l)."),
    Entry("cmu_graph", "examples/graph_cmu.toml", "cmu", "numerator",
          "CMU 10-315: the computation graph z4 = f4(wD, wE, z2, z3), z1 feeding two nodes, "
          "reverse accumulation."),
    Entry("durham_dense_layer", "reports/gallery/specs/durham_dense_layer.toml", "durham",
          "numerator",
          "Durham: one dense layer Wx + b from R^n to R^m, its Jacobian and the chain rule."),
    Entry("softmax_cross_entropy_3_layers",
          "reports/gallery/specs/softmax_cross_entropy_3_layers.toml", "cs229", "numerator",
          "Three layers (relu, tanh, softmax) with cross-entropy, symbolic sizes "
          "n_0-n_1-n_2-n_3."),
    Entry("swish_logcosh", "examples/swish_logcosh.toml", "ensimag", "numerator",
          "A user-defined activation (swish) and loss (log cosh), through the machinery of "
          "the built-in ones."),
    # A batch-normalisation network joins here once the layers issue lands (derive/layers/).
)


@dataclass(frozen=True)
class Stale:
    """A file of the gallery folder that is not what :func:`write_gallery` writes:
    ``reason`` is ``differs``, ``missing`` or ``written by no entry``."""

    name: str
    reason: str

    def __str__(self) -> str:
        return f"{self.name}: {self.reason}"


def gallery_files(entry: Entry) -> list[str]:
    """The names of the files written for ``entry``, in the order of :data:`FORMATS`."""
    return [entry.name + DOCUMENTS[fmt][1] for fmt in FORMATS]


def _spec_link(entry: Entry) -> str:
    """The spec's path relative to ``reports/gallery/``, with forward slashes."""
    return PurePosixPath(os.path.relpath(ROOT / entry.spec, DEFAULT_DIRECTORY)).as_posix()


def _cell(text: str) -> str:
    return text.replace("|", r"\|")


def render_index(entries=ENTRIES) -> str:
    """The gallery's ``README.md``: a table with one row per entry and relative links to its
    spec and files.

    >>> text = render_index()
    >>> "[article](cmu_graph.tex)" in text, "(../../examples/graph_cmu.toml)" in text
    (True, True)
    """
    labels = {"tex": "article", "beamer": "slides", "md": "Markdown", "html": "HTML"}
    lines = [
        (f"<!-- {GENERATED_MARK}: the gallery's index; regenerate with "
         "python -m reports gallery -->"),
        "",
        "# Gallery",
        "",
        ("Reference reports written by `python -m reports gallery`: one per course whose "
         "notes symbackprop imitates, in that course's notation and layout, and a few "
         "networks beyond them. Each comes as a LaTeX article, Beamer slides, Markdown and a "
         "self-contained HTML page; no PDF is committed (compile a .tex with `pdflatex`, or "
         "run `python -m reports build SPEC --format pdf`)."),
        "",
        ("`python -m reports gallery --check` says whether these files are what the current "
         "code writes; `python -m reports gallery --compile` compiles every .tex and lists "
         "LaTeX errors and overfull boxes."),
        "",
        "| report | what it shows | notation | layout | spec | files |",
        "|---|---|---|---|---|---|",
    ]
    for entry in entries:
        files = " · ".join(f"[{labels[fmt]}]({name})"
                           for fmt, name in zip(FORMATS, gallery_files(entry)))
        spec = _spec_link(entry)
        lines.append(f"| {entry.name} | {_cell(entry.description)} | "
                     f"{entry.notation or 'the spec’s'} | {entry.layout or 'the spec’s'} | "
                     f"[{PurePosixPath(spec).name}]({spec}) | {files} |")
    return "\n".join(lines) + "\n"


def _is_ours(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8") as handle:
            return GENERATED_MARK in handle.read(400)
    except (OSError, UnicodeDecodeError):
        return False


def _documents(directory: Path) -> list[str]:
    """The names of the files of ``directory`` (not of its subfolders) the gallery could
    have written."""
    if not directory.is_dir():
        return []
    return sorted(p.name for p in directory.iterdir() if p.is_file()
                  and p.name.endswith(_SUFFIXES) and not p.name.startswith("."))


def write_gallery(directory=DEFAULT_DIRECTORY, entries=ENTRIES,
                  progress: Callable[[str], None] | None = None) -> list[Path]:
    """Write every entry's documents and the index into ``directory`` (created if absent).

    A document of the folder that symbackprop wrote but no entry writes any more (an entry
    renamed or removed) is deleted; a file symbackprop did not write is never replaced.  An
    entry that cannot be written (bad input) leaves its old files as they are and the other
    entries are written; the error, raised at the end, names each such entry.

    Parameters
    ----------
    directory : str or Path
        Default: ``reports/gallery/``.
    entries : sequence of Entry
        Default: :data:`ENTRIES`.
    progress : callable, optional
        Called with each entry's name before it is built.

    Returns
    -------
    list of Path
        The files written, entry by entry in the order of :data:`FORMATS`, then the index.

    Raises
    ------
    BadInput
        An entry's spec is bad or missing, its profile unknown, a formula of it cannot be
        printed; a file in the way that symbackprop did not write.
    """
    directory = Path(directory)
    names = [entry.name for entry in entries]
    if len(set(names)) != len(names):
        raise BadInput(f"two gallery entries share a name: {sorted(names)}")
    index = directory / INDEX
    refuse_foreign(str(index))                     # before the reports, not after them
    written, failed = [], []
    for entry in entries:
        if progress:
            progress(entry.name)
        try:
            written.extend(_write_entry(entry, directory))
        except BadInput as exc:       # the other entries are still written
            failed.append(f"gallery entry {entry.name}: {exc}")
    write_output(render_index(entries), str(index))
    written.append(index)
    keep = {INDEX, *(name for entry in entries for name in gallery_files(entry))}
    for name in _documents(directory):
        if name not in keep and _is_ours(directory / name):
            (directory / name).unlink()
    if failed:
        raise BadInput(f"{len(failed)} of {len(entries)} entries not written (the others "
                       "are): " + "; ".join(failed))
    return written


def _write_entry(entry: Entry, directory: Path) -> list[Path]:
    spec = ROOT / entry.spec
    if not spec.is_file():
        raise BadInput(f"no spec file {entry.spec}")
    build = build_report(str(spec), FORMATS, str(directory), notation=entry.notation,
                         layout=entry.layout, name=entry.name)
    return [Path(path) for path in build.written]


def check_gallery(directory=DEFAULT_DIRECTORY, entries=ENTRIES) -> list[Stale]:
    """The files of ``directory`` that are not what :func:`write_gallery` would write now
    (an empty list: the gallery is up to date), sorted by name.

    The gallery is written into a temporary folder and compared byte for byte; a document
    (``.tex``, ``.md``, ``.html``) of ``directory`` that no entry writes is stale too.
    """
    directory = Path(directory)
    with tempfile.TemporaryDirectory(prefix="symbackprop-gallery-") as work:
        fresh = Path(work)
        expected = {path.name: path.read_bytes() for path in write_gallery(fresh, entries)}
    stale = []
    for name in sorted(set(expected) | set(_documents(directory))):
        path = directory / name
        if name not in expected:
            stale.append(Stale(name, "written by no entry"))
        elif not path.is_file():
            stale.append(Stale(name, "missing"))
        elif path.read_bytes() != expected[name]:
            stale.append(Stale(name, "differs"))
    return stale


def _compile_one(tex: Path) -> list[LogProblem]:
    with tempfile.TemporaryDirectory(prefix="symbackprop-latex-") as work:
        copy = Path(work, tex.name)
        shutil.copyfile(tex, copy)
        return read_log(run_pdflatex(str(copy)))


def compile_gallery(directory=DEFAULT_DIRECTORY, jobs: int = 2) -> dict[str, list[LogProblem]]:
    """Compile every ``.tex`` of ``directory`` with pdflatex, each in a temporary folder,
    ``jobs`` at a time; file name → the problems of its log (:func:`reports.latex_log.read_log`),
    in the order of the names.

    Raises
    ------
    BadInput
        pdflatex is not installed.
    """
    if shutil.which("pdflatex") is None:
        raise BadInput("pdflatex is not installed: install TeX Live to compile the gallery")
    texs = [Path(directory, name) for name in _documents(Path(directory))
            if name.endswith(".tex")]
    if not texs:
        raise BadInput(f"no .tex file in {directory} to compile", "-o")
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        logs = list(pool.map(_compile_one, texs))
    return {tex.name: problems for tex, problems in zip(texs, logs)}
