r"""A chain of Jacobians that ends at a matrix: ∂L/∂z^{[2]} · ∂z^{[2]}/∂W^{[2]}.

The Jacobian of a vector z by a matrix W is a 3-tensor, with no matrix form; but in a chain
product, as the CS229 notes write it, ``\frac{\partial \mathcal{L}}{\partial z^{[2]}}
\frac{\partial z^{[2]}}{\partial W^{[2]}}`` means what the chain rule says: the derivative of
the loss by W^{[2]}, the row u = ∂L/∂z^{[2]} contracted with ∂z^{[2]}/∂W^{[2]} over the
entries of z.  That is what a user of the field expects, and what is computed here: the
derivative, by W, of the scalar u·z with u held fixed, in the layout of the derivation —
numerator: the factor ∂z/∂W comes **last**, after a row u (1 × m), and the result has the
shape of Wᵀ; denominator: it comes **first**, before a column u (m × 1), and the result has
the shape of W.  So ∂L/∂z^{[2]} ∂z^{[2]}/∂W^{[2]} = a^{[1]} ∂L/∂z^{[2]} (numerator), which is
(δ^{[2]} a^{[1]T})ᵀ.  Anywhere else (between two factors, alone) such a Jacobian is refused by
the reader with its message.

:func:`split_tensor_factor` finds such a factor in a side's text; the checker reads the rest
of the product and the Jacobian's two names, and :func:`contract` gives the value.

>>> split_tensor_factor(r"u^T \cdot \frac{\partial z}{\partial W}", "numerator")
('u^T', 'z', 'W')
>>> split_tensor_factor(r"\frac{\partial z}{\partial W} u", "denominator")
('u', 'z', 'W')
"""

from __future__ import annotations

import re

import sympy as sp

from derive.errors import BadInput

_FRACTION = re.compile(r"\\[dt]?frac\s*\{")
_MARK = re.compile(r"^\s*(\\partial|\\mathrm\s*\{\s*d\s*\}|\\operatorname\s*\{\s*d\s*\}|d)\s*")
_DOT = re.compile(r"(\\cdot|\\times)\s*$|^\s*(\\cdot|\\times)")


def _group_end(text: str, at: int) -> int:
    """The index after the ``}`` closing the ``{`` at ``at``, or -1."""
    depth = 0
    for index in range(at, len(text)):
        if text[index] == "{" and text[index - 1:index] != "\\":
            depth += 1
        elif text[index] == "}" and text[index - 1:index] != "\\":
            depth -= 1
            if depth == 0:
                return index + 1
    return -1


def _depth(text: str, at: int) -> int:
    depth = 0
    for index, char in enumerate(text[:at]):
        if text[index - 1:index] == "\\":
            continue
        depth += {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}.get(char, 0)
    return depth


def _fractions(text: str):
    """(start, end, top, bottom) of each top-level derivative fraction of ``text``."""
    for match in _FRACTION.finditer(text):
        if _depth(text, match.start()) != 0:
            continue
        top_end = _group_end(text, match.end() - 1)
        bottom_start = top_end + len(text[top_end:]) - len(text[top_end:].lstrip()) \
            if top_end > 0 else -1
        if top_end < 0 or bottom_start >= len(text) or text[bottom_start] != "{":
            continue
        bottom_end = _group_end(text, bottom_start)
        top, bottom = text[match.end():top_end - 1], text[bottom_start + 1:bottom_end - 1]
        if bottom_end > 0 and _MARK.match(top) and _MARK.match(bottom):
            yield match.start(), bottom_end, _MARK.sub("", top, 1), _MARK.sub("", bottom, 1)


def split_tensor_factor(side: str, layout: str):
    """(rest of the product, of, by) when ``side`` is a product whose last factor
    (numerator layout) or first factor (denominator) is a derivative fraction with something
    to differentiate; else ``None``."""
    text = side.strip()
    found = list(_fractions(text))
    if not found:
        return None
    start, end, top, bottom = found[-1] if layout == "numerator" else found[0]
    if not top.strip():
        return None
    if layout == "numerator" and end == len(text) and start > 0:
        rest = _DOT.sub("", text[:start]).strip()
    elif layout == "denominator" and start == 0 and end < len(text):
        rest = _DOT.sub("", text[end:]).strip()
    else:
        return None
    return (rest, top.strip(), bottom.strip()) if rest else None


def _column(value):
    return value if value.shape[1] == 1 else value.T


def contract(rest, of, by, layout: str, calculus):
    """The chain's value: ∂(u · of)/∂by with u = ``rest`` held fixed (see the module
    docstring); ``calculus`` a :class:`verify.derivation_truth.NetworkCalculus`."""
    if not (isinstance(of, sp.MatrixExpr) and 1 in tuple(of.shape)):
        raise BadInput(f"∂({of})/∂({by}) is a 4-tensor (a matrix by a matrix)", "derivation")
    length = max(of.shape)
    expected = (1, length) if layout == "numerator" else (length, 1)
    shape = tuple(rest.shape) if isinstance(rest, sp.MatrixExpr) else (1, 1)
    if shape != expected:
        side = "before" if layout == "numerator" else "after"
        raise BadInput(f"the factor {side} ∂({of})/∂({by}) is {shape[0]}×{shape[1]}; in the "
                       f"{layout} layout it must be {expected[0]}×{expected[1]} (the derivative "
                       f"of a scalar by {of})", "derivation", )
    held = sp.MatrixSymbol("_held", *shape)
    row = held if layout == "numerator" else held.T
    value = calculus.jacobian(row * _column(of), by, layout)
    return value.xreplace({held: rest})


__all__ = ["contract", "split_tensor_factor"]
