r"""The '=' lines of a derivation typed in LaTeX: where they are and what each side says.

:func:`equality_lines` finds the display-math blocks of a document — ``align``, ``align*``,
``equation``, ``equation*``, ``gather``, ``multline``, ``eqnarray`` (each with or without
``*``), ``$$…$$`` and ``\[…\]`` (``aligned``, ``split`` and ``gathered`` inside them read
through); a text with none of them is one block — splits each at its top-level ``\\`` (not
those of a matrix or ``cases`` inside) and at ``\intertext{…}``, and returns the lines that
hold a top-level ``=``, numbered from 1 in the order of the document.

Each line is cleaned of what carries no mathematics: ``\tag{…}``, ``\label{…}``,
``\nonumber``, ``\notag``, the ``&`` of the alignment, ``\displaystyle``, thin spaces, a
remark (``\quad \text{…}`` to the end of the line), a full stop or comma at its end.  ``\underbrace{X}_{A}`` and
``\overbrace{X}^{A}`` are read through as X (bracketed unless X is one name, so that
``\underbrace{z}_{m \times 1}^{[1]}`` is z^{[1]}); the annotation A is kept with X for the
checker (a shape ``2 \times 1`` or a value).  A line that starts with ``=`` continues the left
side of the line above (``&= …`` in an ``align``, or a new ``$$= …$$`` block); one with
several ``=`` is a chain ``A = B = C``; definitions after a top-level comma, ``;`` or *where*
(``= x\delta^T,\ \delta = a - y``) belong to every side of the line.  A line with ``:=`` (an
update rule) is not an equality.

>>> [line.sides for line in equality_lines(r"\begin{align} f &= a + b \\ &= b + a \tag{1}"
...                                        r"\end{align}")]
[('f', 'a + b'), ('', 'b + a')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from derive.errors import BadInput

_ENVIRONMENTS = ("align", "equation", "gather", "multline", "eqnarray", "flalign", "alignat",
                 "displaymath", "math")
_INNER = ("aligned", "split", "gathered", "alignedat")
_BLOCK = re.compile(
    r"\\begin\{(?P<env>(?:%s)\*?)\}(?:\{\d+\})?(?P<body>.*?)\\end\{(?P=env)\}"
    r"|\$\$(?P<dollars>.*?)\$\$|\\\[(?P<bracket>.*?)\\\]" % "|".join(_ENVIRONMENTS), re.S)
_DROP = re.compile(r"\\(?:tag\*?|label)\s*\{[^{}]*\}|\\nonumber\b|\\notag\b|\\displaystyle\b"
                   r"|(?<!\\)\{\}"
                   r"|\\(?:textstyle|nolimits)\b|\\[,;:!>]|(?<!\\)\\ |\\(?:begin|end)\{(?:%s)\}(?:\{\d+\})?"
                   % "|".join(_INNER))
_REMARK = re.compile(r"\\q?quad\s*\\(?:text|textrm|mbox|textnormal)\s*\{")
_SHAPE = re.compile(r"^\s*((?:(?!\\times).)+?)\s*\\times\s*((?:(?!\\times).)+?)\s*$")


@dataclass(frozen=True)
class Annotation:
    """An ``\\underbrace`` (or ``\\overbrace``): its body X as read, and the text A under
    it — ``shape`` (rows, cols) when A is ``r \\times c`` (ints or names), else ``None``."""

    body: str
    text: str
    shape: tuple | None


@dataclass(frozen=True)
class EqualityLine:
    """One line of a derivation holding '='.

    Attributes
    ----------
    number : int
        1-based among the '=' lines.
    source_line : int
        The line of the document it starts on (1-based).
    latex : str
        The line as written (stripped).
    sides : tuple of str
        Its sides, split at each top-level '='; the first is ``""`` when the line continues
        the left side of the line above.
    definitions : str
        Definitions after the sides (``\\delta = a - y``), ``""`` when none.
    annotations : tuple of Annotation
    """

    number: int
    source_line: int
    latex: str
    sides: tuple
    definitions: str = ""
    annotations: tuple = ()

    @property
    def continues(self) -> bool:
        return self.sides[0] == ""


def _uncommented(text: str) -> str:
    """``text`` with its LaTeX comments (``%`` to the end of the line) blanked, offsets kept."""
    return re.sub(r"(?<!\\)%[^\n]*", lambda m: " " * len(m.group(0)), text)


def math_blocks(text: str) -> list[tuple[str, int]]:
    """(content, offset in ``text``) of each display-math block, in order; the whole text
    when it has none."""
    clean = _uncommented(text)
    found = []
    for match in _BLOCK.finditer(clean):
        group = next(g for g in ("body", "dollars", "bracket") if match.group(g) is not None)
        found.append((match.group(group), match.start(group)))
    return found or [(clean, 0)]


def _group_end(text: str, at: int) -> int:
    """The index after the ``}`` closing the ``{`` at ``at`` (``len(text)`` if unclosed)."""
    depth = 0
    for index in range(at, len(text)):
        if text[index] == "\\":
            continue
        if text[index] == "{" and (index == 0 or text[index - 1] != "\\"):
            depth += 1
        elif text[index] == "}" and (index == 0 or text[index - 1] != "\\"):
            depth -= 1
            if depth == 0:
                return index + 1
    return len(text)


def _split_rows(block: str) -> list[tuple[str, int]]:
    r"""(row, offset) of a block split at top-level ``\\`` and ``\intertext{…}``."""
    rows, start, depth, envs, at = [], 0, 0, 0, 0
    while at < len(block):
        if block.startswith(r"\begin{", at):
            name = block[at + 7:block.find("}", at)]
            envs += name.rstrip("*") not in _INNER
        elif block.startswith(r"\end{", at):
            name = block[at + 5:block.find("}", at)]
            envs -= name.rstrip("*") not in _INNER
        elif block.startswith(r"\intertext", at) and depth == 0 and envs == 0:
            brace = block.find("{", at)
            end = _group_end(block, brace) if brace >= 0 else at + 10
            rows.append((block[start:at], start))
            start = at = end
            continue
        elif block.startswith("\\\\", at) and depth == 0 and envs == 0:
            rows.append((block[start:at], start))
            at += 2
            spacing = re.match(r"\s*\[[^\]]*\]", block[at:])      # \\[2pt]
            if spacing and re.fullmatch(r"\s*\[\s*-?[\d.]+\s*[a-z]{2}\s*\]", spacing.group(0)):
                at += spacing.end()
            start = at
            continue
        elif block[at] == "\\":
            at += 2
            continue
        elif block[at] == "{":
            depth += 1
        elif block[at] == "}":
            depth -= 1
        at += 1
    rows.append((block[start:], start))
    return rows


def _without_remarks(row: str) -> str:
    r"""``row`` without its remark: from ``\quad \text{…}`` to its end (``\quad \text{if }
    j < L``), unless the text is *where*, *with* or *and*, which introduce definitions."""
    for match in _REMARK.finditer(row):
        end = _group_end(row, match.end() - 1)
        if row[match.end():end - 1].strip() not in ("where", "with", "and"):
            return row[:match.start()]
    return row


def _read_through_braces(row: str, where: str) -> tuple[str, list]:
    r"""``row`` with each ``\underbrace{X}_{A}`` / ``\overbrace{X}^{A}`` made X, and the
    annotations (innermost first)."""
    annotations = []
    pattern = re.compile(r"\\(underbrace|overbrace)\s*\{")
    while True:
        match = pattern.search(row)
        if match is None:
            return row, annotations
        body_end = _group_end(row, match.end() - 1)
        body = row[match.end():body_end - 1]
        inner, found = _read_through_braces(body, where)
        annotations += found
        mark = "_" if match.group(1) == "underbrace" else "^"
        rest = row[body_end:]
        annotation = ""
        spaced = re.match(r"\s*" + re.escape(mark) + r"\s*", rest)
        if spaced:
            after = body_end + spaced.end()
            if after < len(row) and row[after] == "{":
                end = _group_end(row, after)
                annotation = row[after + 1:end - 1]
            elif after < len(row):
                end = after + 1
                annotation = row[after]
            else:
                raise BadInput(f"{where}: nothing after the {mark} of \\{match.group(1)}", where)
            rest = row[end:]
        single = re.fullmatch(r"\s*(\\?[A-Za-z]+)\s*", inner)
        replaced = single.group(1) if single else rf"\left({inner}\right)"
        if annotation:
            shape = _SHAPE.match(annotation)
            annotations.append(Annotation(inner.strip(), annotation.strip(),
                                          shape.groups() if shape else None))
        row = row[:match.start()] + replaced + rest


def _top_level(text: str, marks) -> list[int]:
    """Indices of the characters of ``marks`` in ``text`` outside every bracket."""
    found, depth, at = [], 0, 0
    while at < len(text):
        char = text[at]
        if char == "\\":
            command = re.match(r"\\([A-Za-z]+|.)", text[at:]).group(0)
            if command in (r"\left", r"\bigl", r"\Bigl", r"\big", r"\Big"):
                pass
            at += len(command)
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif depth == 0 and char in marks:
            found.append(at)
        at += 1
    return found


def _sides(row: str) -> tuple[tuple, str]:
    """(sides split at the top-level '=', definitions after them)."""
    equals = _top_level(row, "=")
    definitions = ""
    if len(equals) > 1:
        separators = [s for s in _top_level(row, ",;") if s > equals[0]]
        words = [m.start() for m in re.finditer(r"\\text\s*\{\s*where\s*\}|\bwhere\b", row)
                 if m.start() > equals[0]]
        cut = min(separators + words, default=None)
        if cut is not None and any(e > cut for e in equals):
            definitions = re.sub(r"^(,|;|\\text\s*\{\s*where\s*\}|where)", "", row[cut:]).strip()
            row = row[:cut]
            equals = [e for e in equals if e < cut]
    bounds = [-1] + equals + [len(row)]
    sides = tuple(row[a + 1:b].strip() for a, b in zip(bounds, bounds[1:]))
    return sides, definitions


def equality_lines(text: str, where: str = "derivation") -> list[EqualityLine]:
    """The '=' lines of a derivation (see the module docstring)."""
    lines = []
    for block, offset in math_blocks(text):
        for row, at in _split_rows(block):
            source_line = text.count("\n", 0, offset + at + len(row) - len(row.lstrip())) + 1
            latex = " ".join(row.split())
            clean = _DROP.sub(" ", _without_remarks(row)).replace("&", " ")
            clean = " ".join(clean.split()).rstrip(" .,;")
            if ":=" in clean or r"\coloneqq" in clean or not _top_level(clean, "="):
                continue
            clean, annotations = _read_through_braces(clean, f"line {source_line}")
            sides, definitions = _sides(clean)
            lines.append(EqualityLine(len(lines) + 1, source_line, latex, sides, definitions,
                                      tuple(annotations)))
    return lines


__all__ = ["Annotation", "EqualityLine", "equality_lines", "math_blocks"]
