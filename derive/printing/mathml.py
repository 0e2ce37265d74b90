r"""LaTeX mathematics as MathML, a fragment's display lines, and the LaTeX a symbol may be.

Three jobs around the LaTeX that the printers write, for the outputs that are not LaTeX:

* :func:`mathml` — one formula as a ``<math>`` element, by ``latex2mathml`` (browsers render
  MathML natively: no script, no font fetched); :func:`inline_mathml` for math in running text;
* :func:`jupyter_latex`, :func:`jupyter_markdown`, :func:`jupyter_html` — a derivation's
  LaTeX fragment (read back by :mod:`~derive.printing.fragment`) as Jupyter's ``$$`` and
  MathML renderings (:class:`derive.render.Rendered`);
* :func:`check_symbol` — a notation template a user wrote (a spec's ``[notation]`` table) is
  refused before any LaTeX is compiled when pdflatex (with amsmath and amssymb) or
  latex2mathml could not read it: unbalanced braces, a stray ``$``, ``#``, ``%``, ``&`` or
  ``\\``, a non-ASCII character, an environment, a command outside :data:`KNOWN_COMMANDS`
  or without its argument.

>>> mathml("x^{2}").startswith('<math xmlns="http://www.w3.org/1998/Math/MathML"')
True
>>> check_symbol(r"\delta^{[l", "notation.B")
Traceback (most recent call last):
...
derive.errors.BadInput: notation.B: unbalanced brace: the { at character 8 of "\delta^{[l" is never closed
"""

from __future__ import annotations

import difflib
import html
import re
from ..errors import BadInput
from .fragment import inline_tokens, read_fragment

__all__ = ["KNOWN_COMMANDS", "KNOWN_SYMBOLS", "check_symbol", "inline_mathml", "jupyter_html",
           "jupyter_latex", "jupyter_markdown", "mathml"]


# --- LaTeX → MathML ---------------------------------------------------------------------------

def mathml(latex: str, display: bool = False) -> str:
    """``latex`` as a ``<math>`` element (``display``: a block).

    Raises
    ------
    BadInput
        LaTeX that latex2mathml cannot read (the formula is named).
    """
    # optional at import: latex2mathml (45 ms) loads only when MathML is asked for
    from latex2mathml.converter import convert
    try:
        return convert(latex, display="block" if display else "inline")
    except Exception as exc:  # noqa: BLE001 -- latex2mathml raises exceptions of many kinds
        raise BadInput(f"cannot write the formula {latex!r} as MathML: {exc}") from None


def inline_mathml(latex: str) -> str:
    r"""Math in running text as MathML: stretchy ``\left( \right)`` only add space around a
    parenthesis there, so they become plain parentheses."""
    return mathml(latex.replace(r"\left(", "(").replace(r"\right)", ")"))


# --- the LaTeX a notation symbol may be --------------------------------------------------------

_GREEK = ("alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda "
          "mu nu xi pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega "
          "Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega")
_SYMBOLS = ("partial nabla ell imath jmath hbar infty prime top bot intercal odot circ otimes "
            "oplus ominus cdot times ast star bullet dagger ddagger cdots ldots dots vdots ddots "
            "sum prod cup cap setminus leq geq neq approx equiv sim propto to mapsto in notin "
            "subset subseteq forall exists emptyset mid langle rangle lvert rvert lVert rVert "
            "vert Vert lbrace rbrace lceil rceil lfloor rfloor quad qquad log exp ln sin cos "
            "tan tanh sinh cosh max min sup inf det dim ker left right big Big bigl bigr "
            "Bigl Bigr")
_ONE = ("mathcal mathbf mathrm mathit mathsf mathtt mathbb mathfrak boldsymbol operatorname "
        "text textrm textit textbf mbox tilde hat bar vec dot ddot check breve acute grave "
        "widetilde widehat overline underline sqrt mathring")
_TWO = "frac dfrac tfrac binom overset underset stackrel"
#: Control words a notation symbol may use → how many arguments each takes: what pdflatex with
#: amsmath and amssymb and latex2mathml both read (every one is tested against both).
KNOWN_COMMANDS: dict[str, int] = {**dict.fromkeys(f"{_GREEK} {_SYMBOLS}".split(), 0),
                                  **dict.fromkeys(_ONE.split(), 1),
                                  **dict.fromkeys(_TWO.split(), 2)}
#: Control symbols (a backslash and one character) a symbol may use.
KNOWN_SYMBOLS = frozenset(",;:! {}|_#%&$")
_STRAY = {"$": "a stray $: the symbol is already in math mode",
          "#": "a stray #: LaTeX reads it as a macro parameter (write \\# for the sign)",
          "%": "a stray %: LaTeX would read the rest of the line as a comment (write \\%)",
          "&": "a stray &: LaTeX reads it as an alignment tab (write \\&)"}
_WORD = re.compile(r"\\([A-Za-z]+)\*?")


def _argument_ok(text: str, i: int) -> bool:
    """Whether a command's argument starts at ``text[i]`` (after spaces)."""
    while i < len(text) and text[i] == " ":
        i += 1
    return i < len(text) and text[i] not in "}^_&"


def _problem(text: str) -> str | None:
    if not text.strip():
        return "empty: every object needs a symbol"
    opened, lefts = [], 0
    i = 0
    while i < len(text):
        char = text[i]
        if ord(char) > 127:
            return (f"non-ASCII character {char!r} at character {i + 1}: pdflatex reads only "
                    "ASCII in math (write \\alpha for α)")
        if char == "\\":
            if text.startswith("\\\\", i):
                return f"a stray \\\\ at character {i + 1}: a line break has no place in a symbol"
            word = _WORD.match(text, i)
            if word is None:
                if i + 1 >= len(text) or text[i + 1] not in KNOWN_SYMBOLS:
                    return f"a stray backslash at character {i + 1}"
                i += 2
                continue
            name = word.group(1)
            if name in ("begin", "end"):
                return f"an environment (\\{name}) at character {i + 1}: a symbol is one formula"
            if name not in KNOWN_COMMANDS:
                near = difflib.get_close_matches(name, KNOWN_COMMANDS, n=3)
                hint = f"; did you mean {', '.join(chr(92) + n for n in near)}?" if near else ""
                return (f"unknown control sequence \\{name} at character {i + 1} (pdflatex "
                        f"and MathML know Greek letters, \\mathcal, \\mathbf, \\boldsymbol, "
                        f"\\tilde, \\hat, \\bar, \\operatorname, …){hint}")
            lefts += {"left": 1, "right": -1}.get(name, 0)
            if lefts < 0:
                return f"\\right at character {i + 1} without a \\left before it"
            if KNOWN_COMMANDS[name] and not _argument_ok(text, word.end()):
                return f"\\{name} at character {i + 1} has no argument"
            i = word.end()
            continue
        if char in _STRAY:
            return f"{_STRAY[char]} (character {i + 1})"
        if char in "^_" and not _argument_ok(text, i + 1):
            return f"{char} at character {i + 1} has nothing to {'raise' if char == '^' else 'lower'}"
        if char == "{":
            opened.append(i)
        elif char == "}":
            if not opened:
                return f'unbalanced brace: the }} at character {i + 1} of "{text}" closes nothing'
            opened.pop()
        i += 1
    if opened:
        return f'unbalanced brace: the {{ at character {opened[-1] + 1} of "{text}" is never closed'
    if lefts:
        return "\\left without its \\right"
    return None


def check_symbol(text: str, field: str, where: str | None = None) -> None:
    r"""Refuse a notation template that pdflatex or MathML could not read.

    Parameters
    ----------
    text : str
        The template as written (``{l}`` placeholders are balanced braces, so they need no
        special case).
    field : str
        What it is, for the message (``notation.B``); ``""`` when ``where`` names it already.
    where : str, optional
        Where it was written (``spec.toml:7: [notation] B``).

    Raises
    ------
    BadInput
        ``"<field>: <what is wrong>"``.

    >>> check_symbol(r"\mathcal{B}{l}", "notation.B")
    >>> check_symbol(r"\bolsymbol{\delta}{l}", "notation.B")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    derive.errors.BadInput: notation.B: unknown control sequence \bolsymbol at character 1 ...; did you mean \boldsymbol?
    """
    problem = _problem(text)
    if problem is not None:
        raise BadInput(f"{field}: {problem}" if field else problem, where)


# --- Jupyter's renderings of a fragment --------------------------------------------------------

def _blocks(fragment: str) -> list:
    """``(title, lines)`` of each part of ``fragment`` that has display lines."""
    return [(section.title, section.lines) for section in read_fragment(fragment).sections
            if section.lines]


def _plain(title: str) -> str:
    r"""A title's text-mode LaTeX as text: ``n\_0`` → ``n_0``."""
    return "".join(value for kind, value in inline_tokens(title) if kind in ("text", "math"))


def _aligned(lines) -> str:
    rows = [f"{line.lhs} &{line.rhs}" + (f" && ({line.tag})" if line.tag else "")
            for line in lines]
    return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"


def jupyter_latex(fragment: str) -> str:
    r"""The displays of ``fragment`` as ``$$…$$`` math, one ``aligned`` per display, tags as a
    column (what Jupyter's ``_repr_latex_`` expects: math-mode content only).

    >>> print(jupyter_latex("\\begin{align*}\nz &= W x \\tag{1}\n\\end{align*}"))
    $$\begin{aligned}
    z &= W x && (1)
    \end{aligned}$$
    """
    return "\n".join(f"$${_aligned(lines)}$$" for _, lines in _blocks(fragment))


def jupyter_markdown(fragment: str) -> str:
    r"""``fragment`` as Markdown: the description in italics, each display's title in bold and
    its lines in a ``$$`` block (rendered by GitHub and Jupyter)."""
    out = []
    description = read_fragment(fragment).comment.removeprefix("generated by symbackprop: ")
    if description:
        out.append(f"*{description}*")
    for title, lines in _blocks(fragment):
        if title:
            out.append(f"**{_plain(title)}**")
        out.append(f"$$\n{_aligned(lines)}\n$$")
    return "\n\n".join(out) + "\n"


def jupyter_html(fragment: str) -> str:
    """``fragment`` as one self-contained HTML ``<div>``: every line MathML, nothing fetched."""
    out = ['<div class="symbackprop">']
    description = read_fragment(fragment).comment.removeprefix("generated by symbackprop: ")
    if description:
        parts = re.split(r"\$([^$]*)\$", description)       # odd parts: inline math
        out.append("<p><em>" + "".join(inline_mathml(part) if k % 2 else html.escape(part)
                                       for k, part in enumerate(parts)) + "</em></p>")
    for title, lines in _blocks(fragment):
        if title:
            out.append(f"<p><strong>{html.escape(_plain(title))}</strong></p>")
        for line in lines:
            tag = f"<span>({html.escape(line.tag)})</span>" if line.tag else ""
            out.append('<div style="display: flex; align-items: center; gap: 1em; '
                       'overflow-x: auto; overflow-y: hidden"><div style="flex: 1 1 auto">'
                       f'{mathml(line.math, display=True)}</div>{tag}</div>')
    out.append("</div>")
    return "\n".join(out)
