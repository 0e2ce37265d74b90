r"""Long display lines broken to fit the page: an estimate of a formula's printed width, and
the split of a right side at its top-level ``+`` and ``-``.

LaTeX cannot break a display line itself, and a line wider than the page runs into the margin
(an overfull box).  :func:`width` estimates how wide a formula prints, in ems of the body font:
letters and digits half an em, a binary operator with its spaces a little over one, a fraction
the wider of its numerator and denominator, scripts at 70 %, a matrix the sum of its widest
entry per column.  :func:`split_sum` cuts a right side (``= a + b - c``) before the top-level
``+``/``-`` signs into pieces that each fit, as a lecturer continues a long sum on the next
line (``&\quad + …``).  A piece that still does not fit (a wide explicit matrix) is printed
scaled to the line width (:func:`fits`).  The estimate errs wide, so that what it passes fits.

>>> width(r"\frac{\partial \mathcal{L}}{\partial z^{[2]}}") < width(r"a + b + c + d")
True
>>> split_sum("= a + b - c", 3.5)
['= a', '+ b', '- c']
>>> split_sum("= a + b", 40)
['= a + b']
"""

from __future__ import annotations

import re

__all__ = ["ARTICLE_WIDTH", "SLIDES_WIDTH", "fits", "split_sum", "width"]

#: Ems a display line may take: the article's text block (17 cm at 11 pt, less the tag) and
#: a 16:9 frame's at 10 pt, \small.
ARTICLE_WIDTH = 38.0
SLIDES_WIDTH = 36.0

_ZERO = {r"\left", r"\right", r"\,", r"\!", r"\;", r"\:", r"\displaystyle", r"\limits",
         r"\big", r"\Big", r"\bigg", r"\Bigg", r"\nonumber", r"\notag"}
_SPACE = {r"\quad": 1.0, r"\qquad": 2.0, r"\ ": 0.33}
#: Commands that print their argument (styled): the width of the argument.
_WRAPPERS = {r"\mathbf", r"\boldsymbol", r"\mathcal", r"\mathrm", r"\mathit", r"\mathbb",
             r"\tilde", r"\hat", r"\bar", r"\vec", r"\widetilde", r"\widehat", r"\overline",
             r"\underline", r"\operatorname", r"\mathsf", r"\mathtt"}
_TEXT = {r"\text", r"\textrm", r"\textit", r"\textbf", r"\mbox"}
_BINARY = set("+-=<>") | {"\u2212"}
_WORD = re.compile(r"\\[A-Za-z]+|\\.")


def _group(text: str, i: int) -> tuple[str, int]:
    """The braced group (or single token) at ``i``: its content and the index after it."""
    while i < len(text) and text[i] == " ":
        i += 1
    if i >= len(text):
        return "", i
    if text[i] == "{":
        depth, j = 0, i
        while j < len(text):
            if text[j] == "\\":
                j += 2
                continue
            if text[j] == "{":
                depth += 1
            elif text[j] == "}":
                depth -= 1
                if depth == 0:
                    return text[i + 1:j], j + 1
            j += 1
        return text[i + 1:], len(text)
    match = _WORD.match(text, i)
    if match:
        return match.group(), match.end()
    return text[i], i + 1


def _environment(text: str, i: int, name: str) -> tuple[str, int]:
    """The body of ``\\begin{name}`` … ``\\end{name}`` from ``i`` (after the begin)."""
    end = text.find(rf"\end{{{name}}}", i)
    if end < 0:
        return text[i:], len(text)
    return text[i:end], end + len(rf"\end{{{name}}}")


def _matrix_width(body: str) -> float:
    rows = [row.split("&") for row in re.split(r"\\\\", body)]
    columns = max(len(row) for row in rows)
    widest = [max((width(row[c]) for row in rows if c < len(row)), default=0.0)
              for c in range(columns)]
    return sum(widest) + 1.0 * columns + 0.8          # column gaps and the brackets


def width(text: str, scale: float = 1.0) -> float:
    """Estimated printed width of LaTeX math ``text``, in ems (module docstring)."""
    total, i = 0.0, 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            match = _WORD.match(text, i)
            word, i = match.group(), match.end()
            if word in _ZERO:
                continue
            if word in _SPACE:
                total += _SPACE[word] * scale
            elif word == r"\frac" or word == r"\dfrac" or word == r"\tfrac":
                top, i = _group(text, i)
                bottom, i = _group(text, i)
                inner = scale * (0.8 if scale < 1 else 1.0)
                total += max(width(top, inner), width(bottom, inner)) + 0.3 * scale
            elif word == r"\begin":
                name, i = _group(text, i)
                body, i = _environment(text, i, name)
                total += _matrix_width(body) * scale if "matrix" in name or name == "array" \
                    else width(body, scale)
            elif word in (r"\underbrace", r"\overbrace"):
                body, i = _group(text, i)
                script = ""
                if i < len(text) and text[i] in "_^":
                    script, i = _group(text, i + 1)
                total += max(width(body, scale), width(script, 0.7 * scale))
            elif word in _WRAPPERS:
                body, i = _group(text, i)
                total += width(body, scale) * (1.1 if word == r"\operatorname" else 1.0)
            elif word in _TEXT:
                body, i = _group(text, i)
                total += 0.5 * len(body) * scale
            elif word == r"\sqrt":
                body, i = _group(text, i)
                total += width(body, scale) + 0.8 * scale
            elif word in (r"\log", r"\exp", r"\sin", r"\cos", r"\tanh", r"\max", r"\min"):
                total += 0.5 * (len(word) - 1) * scale + 0.2 * scale
            else:
                total += 1.0 * scale                      # a symbol: \partial, \odot, \alpha
            continue
        if ch in "^_":
            body, i = _group(text, i + 1)
            total += width(body, 0.7 * scale)
            continue
        if ch in "{}":
            i += 1
            continue
        if ch in _BINARY:
            total += 1.3 * scale
        elif ch in "()[]|":
            total += 0.4 * scale
        elif ch in ",;.":
            total += 0.3 * scale
        elif ch == " ":
            pass
        elif ch == "&":
            pass
        else:
            total += 0.55 * scale
        i += 1
    return total


def _top_level_signs(text: str) -> list[int]:
    """Indices of the ``+``/``-`` signs of ``text`` outside every group (binary ones)."""
    signs, depth, i = [], 0, 0
    while i < len(text):
        if text.startswith(r"\left", i) or text.startswith(r"\begin", i):
            depth += 1
            i += 5 if text.startswith(r"\left", i) else 6
            continue
        if text.startswith(r"\right", i) or text.startswith(r"\end", i):
            depth -= 1
            i += 6 if text.startswith(r"\right", i) else 4
            continue
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch in "+-" and depth == 0 and text[:i].strip() not in ("", "="):
            if text[:i].rstrip()[-1:] not in "=+-(":
                signs.append(i)
        i += 1
    return signs


def split_sum(rhs: str, limit: float) -> list[str]:
    """``rhs`` (from its relation on) cut before top-level signs into pieces of at most
    ``limit`` ems each, greedily; ``[rhs]`` when it fits or has no sign to cut at."""
    if width(rhs) <= limit:
        return [rhs]
    cuts = _top_level_signs(rhs)
    if not cuts:
        return [rhs]
    pieces, start = [], 0
    for k, cut in enumerate(cuts):
        candidate = rhs[start:cut].strip()
        following = cuts[k + 1] if k + 1 < len(cuts) else len(rhs)
        if width(rhs[start:following]) > limit and candidate:
            pieces.append(candidate)
            start = cut
    pieces.append(rhs[start:].strip())
    return pieces


def fits(math: str, limit: float) -> bool:
    """Whether ``math`` fits in ``limit`` ems."""
    return width(math) <= limit
