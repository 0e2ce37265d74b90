r"""Reading a claim as people write it: an optional left side, the claimed value, definitions.

``\nabla_{W} L = x\delta^T,\ \delta = (a - y) \odot a \odot (1 - a),\ a = \sigma(Wx + b)``:
:func:`split_claim` cuts the text at its top-level separators — a comma or semicolon, ``\quad``,
the words *where*, *with*, *and* (bare or in ``\text{…}``) — into the claim (split at its one
``=`` into a left side and the value) and the definitions ``NAME = …`` that follow it, each a
:class:`Span` of the text.  :func:`read_claim` reads them into one
:class:`~.latex_names.ClaimNamespace`: a defined name takes its definition's shape, whatever
the order the definitions come in (a definition is read when its name is first used).
:func:`read_claim_inferring` reads again, with the names a failed reading shows were meant as
scalars (``\frac{1}{2N}``, ``\lambda W``) taken as scalars.

Errors are :class:`~derive.errors.BadInput` with a caret under the column of the whole text.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field


from ..errors import BadInput
from .latex_input import LatexReader
from .latex_names import Dialect, ClaimNamespace
from .latex_tokens import marked, tokenize
from .matrix_nodes import is_matrix, is_one_by_one, to_scalar
from .namespace import shape_text

_WORDS = ("where", "with", "and")
_TEXT = (r"\text", r"\mathrm", r"\textrm", r"\textnormal", r"\mbox", r"\quad", r"\qquad")
_OPEN, _CLOSE = "([{", ")]}"


@dataclass(frozen=True)
class Span:
    """Characters ``start:end`` of the text."""

    start: int
    end: int

    def of(self, text: str) -> str:
        return text[self.start:self.end]


@dataclass(frozen=True)
class ClaimParts:
    """Where the parts of a claim are: ``left`` (``None`` without ``=``), ``right`` the claimed
    value, ``definitions`` pairs (name span, value span) in the order written."""

    left: Span | None
    right: Span
    definitions: tuple = ()


def _word(tokens, at: int) -> tuple[str | None, int]:
    """(a separating word at ``at``, the token index after it) or (None, at)."""
    token = tokens[at]
    if token.text in _TEXT[:-2] and tokens[at + 1].text == "{":
        end = at + 2
        while tokens[end].kind in ("letter", "space"):
            end += 1
        word = "".join(t.text for t in tokens[at + 2:end] if t.kind == "letter")
        if tokens[end].text == "}" and word in _WORDS:
            return word, end + 1
        return None, at
    if token.kind == "letter" and (at == 0 or tokens[at - 1].kind != "letter"
                                   or tokens[at - 1].end != token.start):
        end = at
        while tokens[end].kind == "letter" and (end == at or tokens[end - 1].end ==
                                                tokens[end].start):
            end += 1
        word = "".join(t.text for t in tokens[at:end])
        if word in _WORDS:
            return word, end
    return None, at


def _pieces(text: str, where: str | None) -> list[list]:
    """The top-level pieces of ``text`` as lists of tokens (spacing dropped)."""
    tokens = tokenize(text, where, spacing=True)
    pieces, current, depth, at = [], [], 0, 0
    while tokens[at].kind != "end":
        token = tokens[at]
        if token.kind == "symbol" and token.text in _OPEN:
            depth += 1
        elif token.kind == "symbol" and token.text in _CLOSE:
            depth -= 1
        if depth == 0:
            word, after = _word(tokens, at)
            if word is not None or token.text in (",", ";") or \
                    token.kind == "space" and token.text in _TEXT[-2:]:
                pieces.append(current)
                current = []
                at = after if word is not None else at + 1
                continue
        if token.kind != "space" and token.text != "&":
            current.append(token)
        at += 1
    pieces.append(current)
    if pieces and pieces[-1] and pieces[-1][-1].text == "." and len(pieces[-1]) > 1:
        pieces[-1] = pieces[-1][:-1]             # the full stop ending a sentence
    return [piece for piece in pieces if piece and [t.text for t in piece] != ["."]]


def _equals(piece: list) -> list[int]:
    depth, found = 0, []
    for index, token in enumerate(piece):
        if token.kind == "symbol" and token.text in _OPEN:
            depth += 1
        elif token.kind == "symbol" and token.text in _CLOSE:
            depth -= 1
        elif depth == 0 and token.text == "=":
            found.append(index)
    return found


def _span(tokens: list) -> Span:
    return Span(tokens[0].start, tokens[-1].end)


def split_claim(text: str, where: str | None = "claim") -> ClaimParts:
    r"""The parts of a claim.

    >>> text = r"\nabla_W L = x\delta^T,\ \delta = a - y"
    >>> parts = split_claim(text)
    >>> parts.left.of(text), parts.right.of(text), [(n.of(text), v.of(text))
    ...                                             for n, v in parts.definitions]
    ('\\nabla_W L', 'x\\delta^T', [('\\delta', 'a - y')])
    """
    pieces = _pieces(text, where)
    if not pieces:
        raise BadInput(marked(text, len(text), "the claim is empty"), where)
    claim, *rest = pieces
    equals = _equals(claim)
    if len(equals) > 1:
        raise BadInput(marked(text, claim[equals[1]].start, "a claim has one '=' between its "
                              "left side and its value; separate definitions with commas"),
                       where)
    left = right = None
    if equals:
        before, after = claim[:equals[0]], claim[equals[0] + 1:]
        if not before or not after:
            side = "left" if not before else "right"
            raise BadInput(marked(text, claim[equals[0]].start,
                                  f"nothing on the {side} of '='"), where)
        left, right = _span(before), _span(after)
    else:
        right = _span(claim)
    definitions = []
    for piece in rest:
        equals = _equals(piece)
        if len(equals) != 1 or equals[0] == 0 or equals[0] == len(piece) - 1:
            raise BadInput(marked(text, piece[0].start, "expected a definition NAME = … after "
                                  "the claim (separated by a comma or 'where')"), where)
        definitions.append((_span(piece[:equals[0]]), _span(piece[equals[0] + 1:])))
    return ClaimParts(left, right, tuple(definitions))


@dataclass
class ReadClaim:
    """A claim read: values, the namespace they were read in, and what the reader noticed.

    Attributes
    ----------
    value : sympy.Expr or sympy.MatrixExpr
        The claimed value (auxiliary names kept as symbols).
    left : sympy.Expr or sympy.MatrixExpr or None
        The left side: a :class:`~.claim_nodes.Gradient` or :class:`~.claim_nodes.Partial`
        when it names a derivative.
    definitions : dict
        name → value of each auxiliary definition, in the order written.
    parts : ClaimParts
        Where each part is in the text; ``names`` the resolved name of each definition.
    features : set of str
        What the readings noticed (:data:`~.latex_input.MATRIX_FEATURES`).
    names_read : list
        (start, end, name) of every variable read.
    """

    value: object
    left: object
    definitions: dict
    parts: ClaimParts
    names: tuple
    namespace: ClaimNamespace
    features: set = field(default_factory=set)
    names_read: list = field(default_factory=list)


def read_claim(text: str, namespace: ClaimNamespace, where: str | None = "claim",
               dialect: Dialect | None = None, layout: str = "numerator") -> ReadClaim:
    """Read ``text`` (:func:`split_claim`) into ``namespace``."""
    parts = split_claim(text, where)
    features: set = set()
    names_read: list = []

    def reader(span: Span) -> LatexReader:
        padded = " " * span.start + span.of(text)
        made = LatexReader(padded, namespace, where, dialect, layout, echo=text)
        made.features, made.names_read = features, names_read
        return made

    values: dict = {}

    def define(name: str, span: Span):
        value = reader(span).read()
        declared = namespace.shapes.get(name)
        shape = tuple(value.shape) if is_matrix(value) else (1, 1)
        if declared is not None and tuple(declared) != shape:
            raise BadInput(marked(text, span.start, f"{name} is declared "
                                  f"{shape_text(declared)} but its definition is "
                                  f"{shape_text(shape)}"), where)
        if name in namespace.scalars:
            if is_matrix(value) and not is_one_by_one(value):
                raise BadInput(marked(text, span.start, f"{name} is declared a scalar but its "
                                      f"definition is {shape_text(shape)}"), where)
            value = to_scalar(value)
        elif declared is None:
            namespace.define(name, value)
        values[name] = value

    names = []
    for name_span, value_span in parts.definitions:
        probe = reader(name_span)
        name, end = probe.spelled_name()
        if name is None or probe.tokens[end].kind != "end":
            raise BadInput(marked(text, name_span.start, "expected the name of a quantity "
                                  "before '='"), where)
        if name in namespace.definitions or name in names:
            raise BadInput(marked(text, name_span.start, f"{name} is defined twice"), where)
        namespace.definitions[name] = functools.partial(define, name, value_span)
        names.append(name)
    left = reader(parts.left).read() if parts.left is not None else None
    value = reader(parts.right).read()
    for name in names:
        namespace.lookup(name)                   # definitions the claim did not use
    return ReadClaim(value, left, {name: values[name] for name in names}, parts, tuple(names),
                     namespace, features, names_read)


def read_claim_inferring(text: str, shapes=None, scalars=(), functions=None,
                         where: str | None = "claim", dialect: Dialect | None = None,
                         layout: str = "numerator", scalar_default: bool = False) -> ReadClaim:
    r""":func:`read_claim` in a fresh namespace, again with more undeclared names taken as
    scalars while a failed reading names some (``\frac{1}{2N}``: N divides, so it is a
    scalar; ``\lambda W``: a column λ cannot multiply W).

    >>> claim = read_claim_inferring(r"\frac{\lambda}{N} W", shapes={"W": (3, 2)})
    >>> claim.value.shape, claim.namespace.inferred
    ((3, 2), ['lambda', 'N'])
    """
    forced: set = set()
    while True:
        namespace = ClaimNamespace(shapes=dict(shapes or {}), scalars=tuple(scalars),
                                   functions=dict(functions or {}),
                                   scalar_default=scalar_default)
        namespace.forced = set(forced)
        try:
            return read_claim(text, namespace, where, dialect, layout)
        except BadInput as exc:
            more = set(getattr(exc, "candidates", ())) - forced
            if not more:
                raise
            forced |= more


__all__ = ["Span", "ClaimParts", "ReadClaim", "split_claim", "read_claim",
           "read_claim_inferring"]
