"""Names: the one placeholder syntax of every template, and the standard size symbols.

Every template of the project — notation profiles (``\\zeta{l}``), label names (``P^{l}``),
general forms of steps (``z^{l} = W^{l} a^{l-1} + b^{l}``), identifiers of generated code
(``delta{l}``) — is filled by :func:`fill`, with these placeholders and no others:

=============  =================================================================
``{l}``        the layer (an int, or an expression such as ``j`` or ``L``)
``{l-1}``      the layer before it;  ``{l+1}`` the layer after it
``{k}``        a neuron (1-based)
``{of}``       the quantity differentiated;  ``{wrt}`` what it is differentiated by
=============  =================================================================

Any other brace is literal, so LaTeX templates need no doubled braces: ``\\mathcal{B}{l}``.

>>> fill(r"\\frac{\\partial C}{\\partial a{l-1}}", l=3)
'\\\\frac{\\\\partial C}{\\\\partial a2}'
>>> fill("P^{l+1}", l=J)
'P^j+1'
>>> fill("W{l}_no_bias", l=2)
'W2_no_bias'
"""

from __future__ import annotations

import re

import sympy as sp

#: The batch size N (columns of X), a generic layer j, and a symbolic depth L.
N = sp.Symbol("N")
J = sp.Symbol("j")
L = sp.Symbol("L")

PLACEHOLDERS = ("{l}", "{l-1}", "{l+1}", "{k}", "{of}", "{wrt}")
_PLACEHOLDER = re.compile(r"\{(l|l-1|l\+1|k|of|wrt)\}")


def index_text(layer) -> str:
    """A layer as text: ``3``, ``j``, ``j+1`` (no spaces, whatever SymPy prints)."""
    return str(layer).replace(" ", "")


def shifted(layer, by: int):
    """``layer + by`` for an int or a SymPy expression; a name such as ``"j"`` gets ``"j-1"``."""
    if isinstance(layer, str):
        return f"{layer}{by:+d}"
    return layer + by


def fill(template: str, *, l=None, k=None, of=None, wrt=None, decorate=None) -> str:
    r"""``template`` with its placeholders replaced (see the module docstring).

    ``decorate`` writes a layer as a notation profile does (``3`` → ``^{[3]}``); without it a
    layer is written as :func:`index_text` gives it.  A placeholder whose value is not given is
    an error naming it, so a template that cannot be filled in fails where it is written, not
    in a document.

    >>> fill(r"\frac{\partial C}{\partial a{l-1}}", l=3, decorate=lambda l: f"^{{[{l}]}}")
    '\\frac{\\partial C}{\\partial a^{[2]}}'
    """
    values = {"l": l, "k": k, "of": of, "wrt": wrt}
    write = decorate or index_text

    def value(match):
        name = match.group(1)
        if name.startswith("l"):
            if l is None:
                raise KeyError(f"template {template!r} needs a layer for {{{name}}}")
            return write(l if name == "l" else shifted(l, -1 if name == "l-1" else 1))
        if values[name] is None:
            raise KeyError(f"template {template!r} needs a value for {{{name}}}")
        return str(values[name])

    return _PLACEHOLDER.sub(value, template)


def placeholders(template: str) -> tuple[str, ...]:
    """The placeholders a template uses, in order of first use.

    >>> placeholders("P^{l} = P^{l+1} df^{l}/da^{l-1}")
    ('{l}', '{l+1}', '{l-1}')
    """
    seen = []
    for match in _PLACEHOLDER.finditer(template):
        if match.group(0) not in seen:
            seen.append(match.group(0))
    return tuple(seen)


__all__ = ["N", "J", "L", "PLACEHOLDERS", "fill", "index_text", "placeholders", "shifted"]
