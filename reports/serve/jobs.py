r"""What the server's worker processes run: the commands themselves, on a request's fields.

Each job runs a command of SPEC §5 — ``derive mlp``, ``derive graph``, ``derive jacobian``,
``verify gradient``, ``reports build`` — through :func:`derive.cli.run_commands`, exactly as the
shell runs it, with its standard output and error captured: the JSON the API answers is the
command's ``--json`` document, and an error is the line the command prints.  The spec a request
gives is written to a file in a temporary folder the job owns (never to a path a request
names); that folder's path is taken out of the messages (``network.toml:3: …``).

Every job returns a dict of plain values (it crosses a process boundary):
``{"code": exit status, "json": the parsed document or None, "error": message or None, …}``.

>>> answer = jacobian({"expr": "v^T A v", "wrt": "v", "shape": ["A=3x3", "v=3"],
...                    "layout": "denominator"})
>>> answer["code"], answer["json"]["latex"], answer["json"]["numpy"]
(0, '\\left(A + A^{T}\\right) v', '(A + A.T) @ v')
>>> jacobian({"expr": "v^T (A v", "wrt": "v"})["error"].splitlines()[0]
"python -m derive jacobian: error: EXPR: expected ')', found the end at column 9"
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import tempfile

import derive.__main__ as derive_main
import reports.__main__ as reports_main
import verify.__main__ as verify_main
from derive.api import backprop
from derive.calculus.matrix_printing import latex_matrix
from derive.errors import BadInput
from derive.spec import load_spec
from reports.build import find_latex
from reports.html import mathml
from verify.network_names import claim_names
from verify.latex import parse_latex
from verify.verdict import METHODS

from .specs import DEFAULT_SPEC_TEXT, NETWORK_KEYS, OUTPUT_KEYS, is_graph, with_overrides

__all__ = ["SPEC_NAME", "check", "check_page", "derive", "derive_files", "jacobian",
           "jacobian_both", "preview", "run_command"]

#: The file a request's spec is written to (in the job's own folder); the reports are
#: named after it (network.tex, network.md, …).
SPEC_NAME = "network.toml"
_PROGRAMS = {"derive": ("python -m derive", derive_main), "reports": ("python -m reports",
                                                                    reports_main),
             "verify": ("python -m verify", verify_main)}


def run_command(program: str, argv: list[str], folder: str | None = None) -> dict:
    """Run ``python -m PROGRAM ARGV`` in this process, its output captured.

    Returns ``{"code", "stdout", "error"}``: the exit status, standard output, and the
    message the command printed on standard error (from its line ``python -m PROGRAM
    COMMAND: …`` on: a usage text before it is left out, the input echoed with a caret under
    the column after it is kept), ``None`` on success; ``folder`` is taken out of both.
    """
    prog, module = _PROGRAMS[program]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = run_commands(prog, module, argv)
        except SystemExit as exc:                 # argparse: a bad flag value
            code = exc.code if isinstance(exc.code, int) else 2
    stdout, stderr = out.getvalue(), err.getvalue()
    if folder:
        stdout, stderr = (text.replace(folder + os.sep, "").replace(folder, ".")
                          for text in (stdout, stderr))
    lines = stderr.rstrip().splitlines()
    first = next((i for i, line in enumerate(lines) if line.startswith(f"{prog} ")), 0)
    message = "\n".join(lines[first:]) or None
    return {"code": code, "stdout": stdout, "error": message if code else None}


def run_commands(prog: str, module, argv: list[str]) -> int:
    """:func:`derive.cli.run_commands` over ``module``'s table (the ``python -m`` entry)."""
    return derive_main.run_commands(prog, module.__doc__, module.COMMANDS, argv)


def _document(result: dict) -> dict:
    """``result`` of :func:`run_command` with its standard output read as JSON."""
    try:
        document = json.loads(result["stdout"]) if result["stdout"].strip() else None
    except json.JSONDecodeError:
        document = None
    return {"code": result["code"], "json": document, "error": result["error"]}


def _flags(fields: dict, names) -> list[str]:
    """``--name=value`` for each of ``names`` given in ``fields`` (the ``=`` form: a value
    that starts with ``-`` is still the flag's value); a list gives the flag once per item."""
    flags = []
    for name in names:
        value = fields.get(name)
        for item in value if isinstance(value, list) else [value]:
            if item not in (None, "", False):
                flags.append(f"--{name}" if item is True else f"--{name}={item}")
    return flags


def _write_spec(folder: str, fields: dict, keys=NETWORK_KEYS + OUTPUT_KEYS) -> str:
    text = fields.get("spec") or DEFAULT_SPEC_TEXT
    path = os.path.join(folder, SPEC_NAME)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(with_overrides(text, {k: fields.get(k) for k in keys}))
    return path


def derive(fields: dict) -> dict:
    """``python -m derive mlp SPEC --format json`` (``derive graph`` for a ``[graph]``
    spec) on the request's spec and flags."""
    with tempfile.TemporaryDirectory(prefix="symbackprop-serve-") as folder:
        return _derive_in(folder, fields)


def _derive_in(folder: str, fields: dict) -> dict:
    text = fields.get("spec") or DEFAULT_SPEC_TEXT
    if is_graph(text):
        path = _write_spec(folder, {"spec": text}, keys=())
        argv = ["graph", *_flags(fields, ["layout"]), "--format=json", "--", path]
    else:
        argv = ["mlp", "--format=json", "--", _write_spec(folder, fields)]
    return _document(run_command("derive", argv, folder))


def derive_files(fields: dict, folder: str) -> dict:
    """What the Derive page shows, its files written into ``folder`` (the request's own).

    The derivation as ``reports build`` renders it (``html``: the page's ``<main>``), its
    .tex, .pdf (where TeX Live is installed), .md and .html, and, for a network, the NumPy
    module ``derive mlp --format numpy`` writes with its test.  Returns ``{"code", "error",
    "html", "files", "notes"}`` (``files``: the names written, in the order shown;
    ``notes``: what could not be made, such as a PDF LaTeX stopped on).
    """
    text = fields.get("spec") or DEFAULT_SPEC_TEXT
    graph = is_graph(text)
    path = _write_spec(folder, {"spec": text} if graph else fields, keys=() if graph else
                       NETWORK_KEYS + OUTPUT_KEYS)
    # The report: reports build, the same command; the HTML is read back for the page.
    # A PDF that LaTeX cannot make leaves the .tex, and a note saying why.
    # (build_report writes the .tex before it compiles it.)
    notes = []
    flags = _flags(fields, ["layout", "notation"]) if graph else []
    for fmt in ["pdf" if find_latex() else "tex", "md", "html"]:
        result = run_command("reports", ["build", f"--format={fmt}", f"--output={folder}",
                                         *flags, "--", path], folder)
        if result["code"] == 1 and fmt == "pdf":
            notes.append(f"no PDF: {result['error']}")
        elif result["code"]:
            return {"code": result["code"], "error": result["error"], "html": None,
                    "files": [], "notes": notes}
    if not graph:
        module = os.path.join(folder, "network.py")
        result = run_command("derive", ["mlp", "--format=numpy", f"--output={module}", "--",
                                        path], folder)
        if result["code"]:            # symbolic sizes: a report, but no module
            detail = re.sub(r"^python -m derive mlp: (error: )?", "", result["error"] or "")
            notes.append(f"no NumPy module: {detail}")
    with open(os.path.join(folder, "network.html"), encoding="utf-8") as handle:
        page = handle.read()
    start, end = page.find("<main>"), page.rfind("</main>")
    body = page[start + len("<main>"):end] if start >= 0 and end > start else page
    order = ["network.pdf", "network.tex", "network.md", "network.html", "network.py",
             "test_network.py", SPEC_NAME]
    files = [name for name in order if os.path.exists(os.path.join(folder, name))]
    return {"code": 0, "error": None, "html": body.strip(), "files": files, "notes": notes}


def check(fields: dict) -> dict:
    """``python -m verify gradient --spec SPEC --wrt P --claimed C --json`` on the request's
    spec (with its flags written in), parameter, claim, layout and notation."""
    with tempfile.TemporaryDirectory(prefix="symbackprop-serve-") as folder:
        path = _write_spec(folder, fields, keys=NETWORK_KEYS)
        argv = ["gradient", f"--spec={path}", *_flags(fields, ["wrt", "claimed", "layout",
                                                              "notation"]), "--json"]
        return _document(run_command("verify", argv, folder))


def check_page(fields: dict) -> dict:
    """What the Check page shows: :func:`check`'s verdict, the sentence saying how it was
    decided, and the claim as read (:func:`preview`)."""
    answer = check(fields)
    verdict = answer["json"]
    if verdict:
        answer["method_text"] = METHODS.get(verdict["method"], verdict["method"])
    answer["reading"] = preview(fields) if fields.get("claimed") else None
    return answer


def _network_shapes(fields: dict) -> tuple[dict, str, str]:
    """The shapes of the network's named quantities in the claim's notation, as
    :func:`verify.check_claim` binds them; with that notation and layout."""
    with tempfile.TemporaryDirectory(prefix="symbackprop-serve-") as folder:
        net = load_spec(_write_spec(folder, fields, keys=NETWORK_KEYS))
    layout = fields.get("layout") or getattr(net, "layout", None) or "numerator"
    notation = fields.get("notation") or getattr(net.notation, "name", net.notation) or "cs229"
    d = backprop(net, layout=layout, form="matrix")
    batch = backprop(net, layout=layout, form="matrix", batch=True)
    return claim_names(d, batch, notation)[2], notation, layout


def preview(fields: dict) -> dict:
    """How the claim was read: ``{"latex", "mathml", "shape", "error"}`` — the left side, the
    value and each definition as our reader understood them, rendered as MathML (a misread
    ``A^T`` shows), or the reader's message."""
    try:
        shapes, notation, layout = _network_shapes(fields)
        parsed = parse_latex(fields.get("claimed") or "", shapes=shapes, profile=notation,
                             layout=layout)
        parts = ([latex_matrix(parsed.left)] if parsed.left is not None else []) + [
            latex_matrix(parsed.expr)]
        latex = " = ".join(parts)
        for name, value in parsed.definitions.items():
            symbol = parsed.symbols.get(name)
            latex += r",\quad " + (latex_matrix(symbol) if symbol is not None else name) + " = " \
                + latex_matrix(value)
        rows, cols = parsed.shape
        return {"latex": latex, "mathml": mathml(latex, display=True),
                "shape": f"{rows}×{cols}", "error": None}
    except BadInput as exc:
        return {"latex": None, "mathml": None, "shape": None, "error": str(exc)}


def jacobian(fields: dict) -> dict:
    """``python -m derive jacobian EXPR --wrt V [--shape …] [--layout L] --format json``."""
    argv = ["jacobian", *_flags(fields, ["wrt", "shape", "scalar", "symmetric", "layout",
                                         "vec"]), "--format=json", "--", fields.get("expr", "")]
    return _document(run_command("derive", argv))


def jacobian_both(fields: dict) -> dict:
    """What the Jacobian page shows: :func:`jacobian` in both layouts, each with its MathML.
    Returns ``{"code", "error", "layouts": {layout: document}}``."""
    layouts = {}
    for layout in ("numerator", "denominator"):
        answer = jacobian({**fields, "layout": layout})
        if answer["code"]:
            return {"code": answer["code"], "error": answer["error"], "layouts": {}}
        document = answer["json"]
        document["mathml"] = mathml(document["latex"], display=True)
        layouts[layout] = document
    return {"code": 0, "error": None, "layouts": layouts}
