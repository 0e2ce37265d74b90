r"""The tokens of a LaTeX matrix expression, and error messages that point at a column.

:func:`tokenize` splits ``v^T A v`` or ``\sigma(W x + b)`` into :class:`Token` s (commands,
letters, numbers, norm bars, the row separator ``\\`` of a matrix, symbols; spaces and spacing commands dropped unless asked for, as
the claim splitter does to see ``\quad``), each with its position in the text, so that
:func:`marked` can put a caret under the offending column.

>>> [t.text for t in tokenize(r"\|W x\|^2")]
['\\|', 'W', 'x', '\\|', '^', '2', '']
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import BadInput

_TOKEN = re.compile(r"""
    (?P<rowsep>\\\\)
  | (?P<space>\s+|\\[,;:!> ]|\\quad\b|\\qquad\b|~)
  | (?P<norm>\\\||\\lVert|\\rVert|\\Vert)
  | (?P<command>\\[A-Za-z]+)
  | (?P<number>[0-9]+(?:\.[0-9]+)?)
  | (?P<letter>[A-Za-z])
  | (?P<escaped>\\_)
  | (?P<symbol>[-+*/^_()\[\]{}|',.&=;])
""", re.VERBOSE)


#: Sizing commands before a bracket or bar, read through (``\left(``, ``\Bigl|``).
SIZING = frozenset({r"\left", r"\right", r"\bigl", r"\bigr", r"\Bigl", r"\Bigr", r"\big",
                    r"\Big", r"\biggl", r"\biggr", r"\bigg", r"\Bigg", r"\mathopen",
                    r"\mathclose"})


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int
    end: int


def tokenize(text: str, where: str | None = "EXPR", spacing: bool = False) -> list[Token]:
    """The tokens of ``text``, positions into ``text``; spaces dropped unless ``spacing``
    (then tokens of kind ``"space"``)."""
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            reason = f"unexpected character {text[position]!r}"
            error = BadInput(marked(text, position, reason), where)
            error.column, error.reason = position, reason    # for a reader of part of a text
            raise error
        kind = match.lastgroup
        if kind == "escaped":            # \_ inside a name: leaky\_relu
            tokens.append(Token("symbol", "_", match.start(), match.end()))
        elif kind != "space" or spacing:
            tokens.append(Token(kind, match.group(), match.start(), match.end()))
        position = match.end()
    tokens.append(Token("end", "", len(text), len(text)))
    return tokens


def marked(text: str, column: int, message: str) -> str:
    """``message at column k`` then the input and a caret under column k."""
    return f"{message} at column {column + 1}\n  {text}\n  {' ' * column}^"


__all__ = ["Token", "tokenize", "marked", "SIZING"]
