r"""The server's HTML pages: start, Derive, Check, Jacobian — plain forms, MathML answers.

Every page is complete without a script: a form posts to its own page, which answers with the
same form (filled in as sent) and the result below it.  The mathematics is MathML
(:func:`reports.html.mathml`), which browsers render natively; nothing is fetched from
elsewhere.  The Check page carries one small inline script, the live preview of how the claim
is read (it posts to ``/api/preview`` as the claim is typed); without it, the reading is shown
with the verdict.

The controls have stable accessible names (labels, button texts, ``role="status"`` for the
verdict, ``role="region"`` named "Derivation"): screen readers and the browser tests find
them by those names.

>>> page = check_page({}, None)
>>> '<label for="spec">Network spec</label><textarea id="spec" ' in page
True
>>> '<button type="submit">Check</button>' in page
True
"""

from __future__ import annotations

import html
import re

from derive.calculus.result import LAYOUTS
from derive.network import CONVENTIONS
from derive.notation import PROFILES
from reports.html import STYLE as REPORT_STYLE
from reports.html import mathml

from .specs import DEFAULT_SPEC_TEXT

__all__ = ["COURSES", "check_page", "derive_page", "error_page", "jacobian_page", "start_page"]

#: Each profile's course, as the select shows it.
COURSES = {name: profile.source.split(" (")[0] for name, profile in PROFILES.items()}
_CSS = """
header nav { display: flex; gap: 1.2rem; align-items: baseline; border-bottom: 1px solid #ccc;
             padding-bottom: 0.4rem; font-family: system-ui, sans-serif; }
header nav .name { font-weight: bold; margin-right: 1rem; }
form { display: grid; grid-template-columns: 11rem 1fr; gap: 0.5rem 1rem; align-items: start;
       font-family: system-ui, sans-serif; margin: 1rem 0; }
form label { padding-top: 0.3rem; } form .hint { grid-column: 2; color: #555;
       font-size: 0.85rem; margin-top: -0.3rem; }
textarea, input[type=text] { font-family: ui-monospace, monospace; font-size: 0.95rem;
       width: 100%; box-sizing: border-box; padding: 0.3rem; }
select { font-size: 0.95rem; padding: 0.2rem; justify-self: start; }
form button { grid-column: 2; justify-self: start; font-size: 1rem; padding: 0.35rem 1.4rem; }
.preview, .answer { border-left: 4px solid #8aa; padding: 0.3rem 1rem; margin: 0.8rem 0;
       background: #f6f8f8; }
.verdict { font-size: 1.3rem; font-weight: bold; font-family: system-ui, sans-serif; }
.verdict.correct { color: #15692b; } .verdict.incorrect { color: #a3200f; }
.verdict.invalid { color: #7a5a00; }
.error { border-left: 4px solid #c33; background: #fbeeee; padding: 0.3rem 1rem; }
.error pre, pre.code { white-space: pre-wrap; overflow-x: auto; }
pre.code { background: #f4f4f4; padding: 0.5rem; }
.downloads { font-family: system-ui, sans-serif; }
.layouts { display: grid; grid-template-columns: 1fr 1fr; gap: 1.5rem; }
.layouts > section { border: 1px solid #ccc; padding: 0 1rem 0.5rem; min-width: 0;
       overflow-x: auto; }
.derivation { border-top: 2px solid #333; margin-top: 1.5rem; }
.point { display: flex; flex-wrap: wrap; gap: 0.6rem 2.2rem; align-items: center;
         margin: 0.6rem 0 1rem; }
"""
_PREVIEW_SCRIPT = """
(function () {
  var form = document.getElementById("check-form");
  var out = document.getElementById("preview");
  if (!form || !out || !window.fetch) { return; }
  var timer = null, asked = 0;
  function ask() {
    var fields = {}, data = new FormData(form);
    data.forEach(function (value, name) { if (value !== "") { fields[name] = value; } });
    if (!fields.claimed) { out.innerHTML = ""; return; }
    var mine = ++asked;
    fetch("/api/preview", {method: "POST", headers: {"Content-Type": "application/json"},
                           body: JSON.stringify(fields)})
      .then(function (r) { return r.json(); })
      .then(function (answer) {
        if (mine !== asked) { return; }
        if (answer.mathml) {
          out.innerHTML = "<p>Read as (" + answer.shape + "):</p>" + answer.mathml;
        } else {
          out.textContent = "Not readable yet: " + (answer.error || "");
        }
      })
      .catch(function () {});
  }
  form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(ask, 350); });
  ask();
})();
"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _layout(title: str, body: list[str], script: str = "") -> str:
    nav = ('<header><nav aria-label="Pages"><span class="name">symbackprop</span>'
           '<a href="/">Start</a><a href="/derive">Derive</a><a href="/check">Check</a>'
           '<a href="/jacobian">Jacobian</a></nav></header>')
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)} · symbackprop</title>",
        f"<style>\n{REPORT_STYLE}\n{_CSS}</style>", "</head>", "<body>", nav, "<main>",
        *body, "</main>", f"<script>{script}</script>" if script else "", "</body>",
        "</html>", ""])


def _text_field(name: str, label: str, value, hint: str = "", rows: int = 0,
                placeholder: str = "") -> str:
    value = "" if value is None else value
    extra = f' placeholder="{_e(placeholder)}"' if placeholder else ""
    if rows:
        control = (f'<textarea id="{name}" name="{name}" rows="{rows}" spellcheck="false"'
                   f'{extra}>{_e(value)}</textarea>')
    else:
        control = (f'<input type="text" id="{name}" name="{name}" value="{_e(value)}" '
                   f'spellcheck="false" autocomplete="off"{extra}>')
    hint_html = f'<div class="hint" id="{name}-hint">{_e(hint)}</div>' if hint else ""
    if hint:
        control = control.replace(f'id="{name}"', f'id="{name}" aria-describedby="{name}-hint"',
                                  1)
    return f'<label for="{name}">{_e(label)}</label>{control}{hint_html}'


def _select(name: str, label: str, choices: dict, value, blank: str) -> str:
    options = [f'<option value="">{_e(blank)}</option>'] + [
        f'<option value="{_e(key)}"{" selected" if key == value else ""}>{_e(text)}</option>'
        for key, text in choices.items()]
    return (f'<label for="{name}">{_e(label)}</label><select id="{name}" name="{name}">'
            + "".join(options) + "</select>")


def _notation(value) -> str:
    return _select("notation", "Notation", COURSES, value, "the spec's")


def _layout_select(value, blank: str = "the spec's") -> str:
    return _select("layout", "Layout", {k: k for k in LAYOUTS}, value, blank)


def _spec_field(fields: dict, rows: int) -> str:
    return _text_field("spec", "Network spec", fields.get("spec") or DEFAULT_SPEC_TEXT,
                       "TOML, as a spec file: [network] sizes, activation, loss, convention, "
                       "reduction; [output] notation, layout", rows=rows)


def _network_fields(fields: dict) -> list[str]:
    return [
        _spec_field(fields, 8),
        _text_field("sizes", "Sizes", fields.get("sizes"), "optional, replaces the spec's: "
                    "2,3,1 or n_0,n_1,n_2"),
        _text_field("activation", "Activation", fields.get("activation"),
                    "optional: sigmoid, tanh, relu, … or an expression of x"),
        _text_field("loss", "Loss", fields.get("loss"),
                    "optional: bce, mse, cross_entropy, … or an expression of yhat and y"),
        _select("convention", "Convention", {k: k for k in CONVENTIONS},
                fields.get("convention"), "the spec's"),
    ]


def _error(message: str | None) -> str:
    if not message:
        return ""
    detail = re.sub(r"^python -m \w+ \w+: (error: )?", "", message)
    return f'<div class="error" role="alert"><p>Not done:</p><pre>{_e(detail)}</pre></div>'


def start_page() -> str:
    """The start page: what each page does, linked."""
    return _layout("Start", [
        "<h1>symbackprop, on this computer</h1>",
        "<p>Everything runs here: nothing you type is sent anywhere else.</p>",
        "<ul>",
        '<li><a href="/derive">Derive</a>: a network (sizes, activations, loss, convention, '
        "or a spec) derived step by step as a course's notes write it, every step checked; "
        "the report as LaTeX, PDF and Markdown, and the NumPy module with its test.</li>",
        '<li><a href="/check">Check</a>: your gradient of a network, typed in LaTeX, '
        "decided right or wrong, with the name of the mistake and a counterexample.</li>",
        '<li><a href="/jacobian">Jacobian</a>: the derivative of a matrix expression '
        "in both layouts, with its NumPy expression.</li>",
        "</ul>",
        '<p>The same answers as JSON: <code>POST /api/derive</code>, <code>/api/check</code>, '
        "<code>/api/jacobian</code> (docs/serve.md).</p>"])


def derive_page(fields: dict, answer: dict | None, ident: str | None = None) -> str:
    """The Derive page; with ``answer`` (:func:`reports.serve.jobs.derive_files`), the
    derivation and links to its files (``/files/IDENT/NAME``)."""
    body = ["<h1>Derive a network's gradients</h1>",
            '<form method="post" action="/derive" id="derive-form">',
            *_network_fields(fields), _notation(fields.get("notation")),
            _layout_select(fields.get("layout")), '<button type="submit">Derive</button>',
            "</form>"]
    if answer is not None:
        body.append(_error(answer.get("error")))
        if answer.get("html"):
            links = [f'<li><a href="/files/{_e(ident)}/{_e(name)}" download>{_e(name)}</a>'
                     f" — {_e(_FILE_WORDS.get(name.rsplit('.', 1)[-1], ''))}</li>"
                     if not name.startswith("test_") else
                     f'<li><a href="/files/{_e(ident)}/{_e(name)}" download>{_e(name)}</a>'
                     " — the test of the NumPy module (pytest)</li>"
                     for name in answer.get("files", [])]
            notes = [f"<p>{_e(note)}</p>" for note in answer.get("notes", [])]
            body += ['<section class="downloads" aria-label="Files">', "<h2>Files</h2>",
                     "<ul>", *links, "</ul>", *notes, "</section>",
                     '<section class="derivation" role="region" aria-label="Derivation">',
                     answer["html"], "</section>"]
    return _layout("Derive", body)


_FILE_WORDS = {"pdf": "the report as a PDF", "tex": "the report as a LaTeX article",
               "md": "the report as Markdown", "html": "the report as one HTML page",
               "py": "the NumPy module (forward, loss, gradients, optimiser steps)",
               "toml": "the network spec as read"}


def _matrix(value) -> str:
    """A counterexample's value (nested lists of strings) as MathML."""
    def number(text: str) -> str:
        match = re.fullmatch(r"(-?)(\d+)/(\d+)", text)
        return f"{match.group(1)}\\dfrac{{{match.group(2)}}}{{{match.group(3)}}}" if match \
            else text
    if isinstance(value, list):
        rows = [row if isinstance(row, list) else [row] for row in value]
        latex = (r"\begin{bmatrix}" + r" \\ ".join(" & ".join(number(str(x)) for x in row)
                                                  for row in rows) + r"\end{bmatrix}")
    else:
        latex = number(str(value))
    try:
        return mathml(latex)
    except Exception:  # noqa: BLE001 -- an unusual value is shown as text
        return f"<code>{_e(value)}</code>"


def _verdict(answer: dict) -> list[str]:
    verdict = answer.get("json")
    if not verdict:
        return ['<div role="status" class="answer"><p class="verdict invalid">invalid: '
                "bad input</p></div>", _error(answer.get("error"))]
    head = verdict["verdict"]
    if verdict["diagnosis"]:
        head += ": " + verdict["diagnosis"][0]["class"].replace("_", " ")
    out = [f'<div role="status" class="answer"><p class="verdict {_e(verdict["verdict"])}">'
           f"{_e(head)}</p>"]
    if verdict["verdict"] != "invalid":
        out += [f'<p>{_e(d["detail"][0].upper() + d["detail"][1:])}.</p>'
                for d in verdict["diagnosis"] if d["detail"]]
    out.append("</div>")
    if verdict["verdict"] == "invalid":
        out.append(_error(answer.get("error") or verdict["diagnosis"][0]["detail"]))
    example = verdict.get("counterexample")
    if example:
        items = [f'<div><code>{_e(name)}</code> = {_matrix(value)}</div>'
                 for name, value in example["point"].items()]
        out += ['<section aria-label="Counterexample">', "<h2>Counterexample</h2>",
                "<p>At this point, the claim and the true value differ:</p>",
                '<div class="point">', *items, "</div>", '<div class="point">',
                f"<div>claimed = {_matrix(example['claimed'])}</div>",
                f"<div>true = {_matrix(example['true'])}</div>", "</div>", "</section>"]
    if answer.get("method_text"):
        out.append(f"<p><strong>Decided by</strong> {_e(answer['method_text'])}.</p>")
    return out


def check_page(fields: dict, answer: dict | None) -> str:
    """The Check page; with ``answer`` (:func:`reports.serve.jobs.check_page`), the verdict,
    its diagnosis, the counterexample and how it was decided."""
    reading = (answer or {}).get("reading") or {}
    preview = (f"<p>Read as ({_e(reading['shape'])}):</p>{reading['mathml']}"
               if reading.get("mathml") else "")
    body = ["<h1>Check a gradient</h1>",
            '<form method="post" action="/check" id="check-form">',
            _spec_field(fields, 7),
            _text_field("wrt", "Parameter", fields.get("wrt") or "W2",
                        "W1, b1, W2, b2, … (layer 1 first; augmented convention: W1, W2, …)"),
            _layout_select(fields.get("layout")), _notation(fields.get("notation")),
            _text_field("claimed", "Claimed gradient", fields.get("claimed"),
                        "LaTeX, in the names of the notation chosen (the spec's unless "
                        "another is chosen); definitions after commas", rows=3,
                        placeholder=r"\nabla_{W^{[2]}} \mathcal{L} = \delta^{[2]} a^{[1]T},"
                                    r"\ \delta^{[2]} = a^{[2]} - y"),
            '<button type="submit">Check</button>', "</form>",
            f'<div id="preview" class="preview" aria-live="polite" aria-label="Preview">'
            f"{preview}</div>"]
    if answer is not None:
        body += _verdict(answer)
    return _layout("Check", body, _PREVIEW_SCRIPT)


def _layout_column(layout: str, document: dict) -> str:
    notes = "".join(f"<li>{_e(note)}</li>" for note in document.get("notes", []))
    shape = "×".join(str(s) for s in document["shape"])
    return "\n".join([
        f'<section aria-label="{_e(layout.capitalize())} layout">',
        f"<h2>{_e(layout.capitalize())} layout</h2>", f"<p>Shape {_e(shape)}.</p>",
        document["mathml"], "<p>NumPy:</p>", f'<pre class="code">{_e(document["numpy"])}</pre>',
        f"<ul>{notes}</ul>" if notes else "", "</section>"])


def jacobian_page(fields: dict, answer: dict | None) -> str:
    """The Jacobian page; with ``answer`` (:func:`reports.serve.jobs.jacobian_both`), both
    layouts side by side, each with its NumPy expression."""
    shapes = fields.get("shape")
    body = ["<h1>Differentiate a matrix expression</h1>",
            '<form method="post" action="/jacobian" id="jacobian-form">',
            _text_field("expr", "Expression", fields.get("expr", "v^T A v"),
                        r"LaTeX (v^T A v, \sigma(W x + b)) or SymPy syntax (v.T*A*v)"),
            _text_field("wrt", "With respect to", fields.get("wrt", "v"), "the variable"),
            _text_field("shape", "Shapes", " ".join(shapes) if isinstance(shapes, list)
                        else shapes, "optional, separated by spaces: A=3x3 v=3 W=m,n "
                        "(default: a lowercase name a column n×1, another n×n)"),
            _text_field("scalar", "Scalars", " ".join(fields.get("scalar", [])),
                        "optional: names of real scalars"),
            _text_field("symmetric", "Symmetric", " ".join(fields.get("symmetric", [])),
                        "optional: names of symmetric matrices"),
            '<button type="submit">Differentiate</button>', "</form>"]
    if answer is not None:
        body.append(_error(answer.get("error")))
        if answer.get("layouts"):
            body += ['<div class="layouts">', *(_layout_column(layout, document)
                                                for layout, document in
                                                answer["layouts"].items()), "</div>"]
    return _layout("Jacobian", body)


def error_page(title: str, message: str) -> str:
    """A page saying what went wrong (a time limit, a request too large)."""
    return _layout(title, [f"<h1>{_e(title)}</h1>", _error(message),
                           '<p><a href="/">Back to the start page</a></p>'])
