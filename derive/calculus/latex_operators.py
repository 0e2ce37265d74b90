r"""Reading the operators of a hand derivation: ∂…/∂…, ∇_W …, Σ_i … and Σ_{i=1}^{N} ….

Functions of a :class:`~derive.calculus.latex_input.LatexReader` (passed in, so that this module
does not import the reader) at the token that starts the operator:

- ``\frac{\partial L}{\partial W}``, ``\frac{dL}{dW}``, ``\frac{\mathrm{d}\delta}{\mathrm{d}v}``,
  ``\partial L / \partial W`` and the operator form ``\frac{\partial}{\partial x} (x^T A x)``
  (which applies to the rest of the product) → :class:`~.claim_nodes.Partial` in the reader's
  layout;
- ``\nabla_{W} L`` → :class:`~.claim_nodes.Gradient` (the shape of W);
- ``\sum_i …`` (no upper bound, or one other than ``N``) sums over the entries of the vectors
  the body indexes by i: ``\sum_i y_i \log a_i`` is 1ᵀ(y ⊙ log a), an ordinary expression;
- ``\sum_{i=1}^{N} …`` sums over the samples of a batch → :class:`~.claim_nodes.SampleSum`;
  in its body ``x^{(i)}``, ``a^{[2](i)}`` and ``x_i`` are the sample's own quantities;
- ``\begin{bmatrix} 1 \\ v \end{bmatrix}`` (``pmatrix``, ``Bmatrix``, ``matrix``): a matrix
  of scalar entries or of blocks (:func:`read_block_matrix`).

A lone undeclared name differentiated (the L of ∂L/∂W, ∇_W L) is a scalar, and so is an
undeclared name in an entry sum that is not indexed by i (the λ of Σ_i λ x_i²).  The body of a
sum is the product that follows it, as in ``\frac{1}{N}\sum_{i=1}^{N} \delta^{(i)} x^{(i)T}``;
a sum of terms needs brackets: ``\sum_i (y_i - a_i)^2``.
"""

from __future__ import annotations

from contextlib import contextmanager

import re

import sympy as sp
from sympy.core.function import AppliedUndef

from ..errors import BadInput
from .claim_nodes import Gradient, Partial, SampleSum, partial_shape
from .matrix_nodes import elementwise, is_matrix, to_scalar
from .namespace import shape_text
from .shape_algebra import Unsized

_D_MARKS = (r"\mathrm", r"\operatorname", r"\text", r"\textrm")
#: The upper bound of a sum over the samples of a batch (SPEC §3.3: X is n_0 × N).
BATCH_SIZE = "N"


def _closing(tokens, at: int) -> int:
    """The index of the ``}`` closing the ``{`` at ``at`` (or of the end token)."""
    depth = 0
    for index in range(at, len(tokens)):
        depth += {"{": 1, "}": -1}.get(tokens[index].text, 0)
        if depth == 0 or tokens[index].kind == "end":
            return index
    return len(tokens) - 1


def _mark_length(tokens, at: int) -> int:
    """How many tokens the derivative mark at ``at`` takes: ``\\partial`` or ``d`` 1,
    ``\\mathrm{d}`` 4; 0 when there is none."""
    token = tokens[min(at, len(tokens) - 1)]
    if token.text == r"\partial" or (token.kind == "letter" and token.text == "d"):
        return 1
    if token.text in _D_MARKS and [t.text for t in tokens[at + 1:at + 4]] == ["{", "d", "}"]:
        return 4
    return 0


def derivative_fraction(reader) -> bool:
    r"""The ``\frac`` at point is a derivative: both parts open with ∂ (or both with d and
    the denominator names something after it)."""
    tokens, at = reader.tokens, reader.index + 1
    if tokens[at].text != "{":
        return False
    middle = _closing(tokens, at)
    if middle + 2 >= len(tokens) or tokens[middle + 1].text != "{":
        return False
    end = _closing(tokens, middle + 1)
    top, bottom = _mark_length(tokens, at + 1), _mark_length(tokens, min(middle + 2, end))
    if not top or not bottom:
        return False
    if tokens[at + 1].text == r"\partial" or tokens[middle + 2].text == r"\partial":
        return True
    return not reader.declared("d") and middle + 2 + bottom < end


def _skip_mark(sub) -> None:
    for _ in range(_mark_length(sub.tokens, sub.index)):
        sub.advance()
    if sub.token.text == "^":
        sub.fail("higher derivatives are not read; write the first derivative of the first "
                 "derivative's formula")


def _quantity(reader, sub=None):
    """The value differentiated at point of ``sub`` (or of ``reader``): a lone undeclared name
    is taken as a scalar (a loss); ``L(W)`` is read as L."""
    sub = sub or reader
    name, end = sub.spelled_name()
    if name is not None and not sub.declared(name) and name not in sub.namespace.symbols:
        sub.take_as_scalar(name)
    if name is not None and sub.tokens[end].text == "(" and _argument_list(sub.tokens, end):
        value = sub.primary()
        depth = 0
        while True:                                  # skip the arguments L(W, b) as written
            depth += {"(": 1, ")": -1}.get(sub.token.text, 0)
            sub.advance()
            if depth == 0:
                return value
    return value_of(sub) if sub is not reader else reader.postfix()


def value_of(sub):
    """A whole group's value (a sub-reader read to its end)."""
    if sub.token.kind == "end":
        sub.fail("expected a quantity to differentiate")
    value = sub.sum()
    if sub.token.kind != "end":
        sub.fail(f"unexpected {sub.token.text!r}")
    return value


def _argument_list(tokens, at: int) -> bool:
    """``(W)``, ``(W, b)``, ``(\\theta)``: names and commas only, as a function's arguments."""
    depth = 0
    for index in range(at, len(tokens)):
        token = tokens[index]
        depth += {"(": 1, ")": -1}.get(token.text, 0)
        if depth == 0:
            return index > at + 1
        if token.kind == "end" or (token.kind == "symbol" and token.text in "+-*/|=") or \
                token.kind in ("number", "norm"):
            return False
    return False


def _variable(sub, what: str):
    """The name after ∂ in a denominator (or under ∇): a Symbol or MatrixSymbol."""
    start = sub.token
    name, _ = sub.spelled_name()
    if name is None:
        sub.fail(f"expected the name of a variable {what}", start)
    value = sub.primary()
    if not isinstance(value, (sp.Symbol, sp.MatrixSymbol)):
        sub.fail(f"expected the name of a variable {what}", start)
    return value


def _partial(reader, of, by, token):
    if isinstance(of, Unsized):
        reader.fail("cannot differentiate I or 1 without a size", token)
    of_shape = tuple(of.shape) if is_matrix(of) else (1, 1)
    by_shape = tuple(by.shape) if is_matrix(by) else (1, 1)
    if partial_shape(of_shape, by_shape, reader.layout) is None:
        reader.fail(f"∂({of})/∂({by}) of a {shape_text(of_shape)} expression by a "
                    f"{shape_text(by_shape)} variable has no matrix form (it is a 3- or "
                    "4-tensor); differentiate a scalar or a vector", token)
    return Partial(of, by, reader.layout)


def read_derivative_fraction(reader):
    r"""``\frac{\partial of}{\partial by}`` (or with d), at its ``\frac``."""
    token = reader.advance()
    top = reader.sub_reader(reader.group_text())
    bottom = reader.sub_reader(reader.group_text())
    _skip_mark(top)
    _skip_mark(bottom)
    by = _variable(bottom, "after ∂ in the denominator")
    if bottom.token.kind != "end":
        bottom.fail(f"unexpected {bottom.token.text!r} (the denominator is ∂ and one name)")
    if top.token.kind == "end":                    # \frac{\partial}{\partial x} (…)
        of = reader.product()
    else:
        of = _quantity(reader, top)
        if top.token.kind != "end":
            top.fail(f"unexpected {top.token.text!r}")
    return _partial(reader, of, by, token)


def read_partial_inline(reader):
    r"""``\partial L / \partial W``, at its first ``\partial``."""
    token = reader.advance()
    of = _quantity(reader)
    reader.expect("/", r"'/' of ∂L / ∂W (or write \frac{\partial L}{\partial W})")
    reader.expect(r"\partial", r"\partial after '/'")
    by = _variable(reader, r"after \partial")
    return _partial(reader, of, by, token)


def read_nabla(reader):
    r"""``\nabla_{W} L``, at its ``\nabla``: the gradient, the shape of W."""
    token = reader.advance()
    if reader.token.text != "_":
        reader.fail(r"write the variable of ∇ as a subscript: \nabla_{W} L", token)
    reader.advance()
    under = reader.sub_reader(reader.group_text())
    by = _variable(under, r"under \nabla")
    if under.token.kind != "end":
        under.fail(f"unexpected {under.token.text!r} (∇ takes one variable)")
    of = _quantity(reader)
    if is_matrix(of) and tuple(of.shape) != (1, 1) or isinstance(of, Unsized):
        reader.fail("∇ is the gradient of a scalar; for a vector or matrix write its "
                    r"Jacobian \frac{\partial …}{\partial …}", token)
    return Gradient(of, by)


def _bounds(reader) -> tuple:
    """(lower, upper) groups of \\sum, each ``None`` when absent; ``\\limits`` skipped."""
    lower = upper = None
    while reader.token.text in ("_", "^", r"\limits", r"\nolimits"):
        mark = reader.advance().text
        if mark == "_":
            lower = reader.group_text()
        elif mark == "^":
            upper = reader.group_text()
    return lower, upper


def read_sum(reader):
    r"""``\sum_i …`` over entries or ``\sum_{i=1}^{N} …`` over samples, at its ``\sum``."""
    token = reader.advance()
    lower, upper = _bounds(reader)
    match = re.fullmatch(r"([A-Za-z])(?:=(.+))?", (lower or "").replace(" ", ""))
    if match is None:
        reader.fail(r"expected the index of the sum: \sum_i or \sum_{i=1}^{N}", token)
    index, start = match.group(1), match.group(2)
    compact = (upper or "").replace(" ", "")
    if compact == BATCH_SIZE:
        if start not in (None, "1"):
            reader.fail(f"a sum over the samples runs from 1 to {BATCH_SIZE}", token)
        return _sample_sum(reader, index, upper)
    return _entry_sum(reader, index, token)


@contextmanager
def _summing(reader, key: str, index: str):
    """Read a sum's body with ``reader.context[key]`` = (index, names met), restored after;
    yields the dict of names the body uses with that index."""
    previous = reader.context.get(key)
    reader.context[key] = (index, {})
    try:
        yield reader.context[key][1]
    finally:
        if previous is None:
            reader.context.pop(key)
        else:
            reader.context[key] = previous


def _sample_sum(reader, index: str, upper):
    with _summing(reader, "sample", index) as sampled:
        body = reader.product()
    if isinstance(body, Unsized):
        reader.fail("the body of a sum over the samples cannot be I or 1 without a size")
    reader.take_as_scalar(BATCH_SIZE)
    count = reader.sub_reader(upper).read()
    total = SampleSum(body, sp.Symbol(index), count, tuple(sampled.values()))
    return total if is_matrix(body) else to_scalar(total)


def _entry_sum(reader, index: str, token):
    with _summing(reader, "entry", index) as entries:
        start = reader.token
        body = reader.product()
    text = reader.source(start.start)
    if not entries:
        reader.fail(f"no vector is indexed by {index} in the sum (write its entries: "
                    f"x_{index})", token)
    if is_matrix(body) or isinstance(body, Unsized):
        got = "I or 1" if isinstance(body, Unsized) else f"a {shape_text(body.shape)} matrix"
        reader.fail(f"the body of the sum over {index} must be a number per entry, got {got}",
                    start)
    vector = reader.with_algebra_position(start, lambda: _entrywise(body, entries, reader, text))
    ones = sp.OneMatrix(1, vector.shape[0])
    return reader.algebra.mul(ones, vector)


def _entrywise(expr, entries: dict, reader, text: str):
    """The vector whose entry i is ``expr`` (a scalar of the entries ``entries``: entry symbol
    → its column), built from Hadamard products and entrywise functions."""
    algebra = reader.algebra
    if not expr.free_symbols & set(entries):
        return expr                                 # a number of the sum, spread over it
    if expr in entries:
        return entries[expr]
    if isinstance(expr, sp.Add):
        parts = [_entrywise(arg, entries, reader, text) for arg in expr.args]
        total = parts[0]
        for part in parts[1:]:
            total = algebra.add(total, part)
        return total
    if isinstance(expr, sp.Mul):
        parts = [_entrywise(arg, entries, reader, text) for arg in expr.args]
        coefficient = sp.Mul(*[p for p in parts if not is_matrix(p)])
        vectors = [p for p in parts if is_matrix(p)]
        total = vectors[0]
        for vector in vectors[1:]:
            total = algebra.hadamard(total, vector)
        return algebra.mul(coefficient, total) if coefficient != 1 else total
    inside = sorted(expr.free_symbols & set(entries), key=lambda s: s.name)
    variable = sp.Dummy("d", real=True)
    if len(inside) == 1:                              # f(x_i): f applied to x entrywise
        return elementwise(sp.Lambda(variable, expr.xreplace({inside[0]: variable})),
                           entries[inside[0]])
    if isinstance(expr, sp.Pow) and not expr.exp.free_symbols & set(entries):
        return elementwise(sp.Lambda(variable, variable ** expr.exp),
                           _entrywise(expr.base, entries, reader, text))
    if isinstance(expr, (sp.Function, AppliedUndef)) and len(expr.args) == 1:
        return elementwise(expr.func, _entrywise(expr.args[0], entries, reader, text))
    raise_text = f"cannot read the sum of {text!r} entry by entry"
    algebra.fail(f"{raise_text}: write it with vectors (x^T y, \\|x\\|^2, \\odot)")


#: The environments of a matrix written entry by entry (or block by block).
MATRIX_ENVIRONMENTS = ("bmatrix", "pmatrix", "Bmatrix", "matrix")


def _environment(reader, opening) -> str:
    """The name in ``{…}`` after ``\\begin`` or ``\\end`` (the reader moves past it)."""
    reader.expect("{", f"{{name}} after {opening.text}")
    start = reader.token
    name = ""
    while reader.token.text != "}":
        if reader.token.kind == "end":
            reader.fail(f"unclosed '{{' after {opening.text}", start)
        name += reader.advance().text
    reader.advance()
    return name


def read_block_matrix(reader):
    r"""``\begin{bmatrix} 1 \\ v \end{bmatrix}`` (also ``pmatrix``, ``Bmatrix``, ``matrix``):
    entries separated by ``&``, rows by ``\\``; each entry a scalar (a 1×1 block) or a
    matrix block.  The blocks of a row must have one height, those of a column one width.
    All-scalar entries make an explicit matrix, blocks a ``BlockMatrix`` ([1; v] is the
    augmented vector ṽ, [b W] a weight matrix with its bias column)."""
    begin = reader.advance()
    name = _environment(reader, begin)
    if name not in MATRIX_ENVIRONMENTS:
        reader.fail(f"unknown environment {name!r}; a matrix is written in one of "
                    f"{', '.join(MATRIX_ENVIRONMENTS)}", begin)
    rows, row = [], []
    reader.closers.append("matrix")
    while reader.token.text != r"\end":
        if reader.token.kind == "end":
            reader.fail(f"\\begin{{{name}}} is not closed by \\end{{{name}}}", begin)
        start = reader.token
        entry = reader.sum()
        if isinstance(entry, Unsized):
            reader.fail("an identity or ones block needs its size here: write it as a named "
                        "matrix", start)
        row.append((entry, start))
        if reader.token.text == "&":
            reader.advance()
        elif reader.token.kind == "rowsep":
            reader.advance()
            rows.append(row)
            row = []
        elif reader.token.text != r"\end":
            reader.fail(f"expected & (the next entry), \\\\ (the next row) or \\end{{{name}}}")
    reader.closers.pop()
    if row:
        rows.append(row)
    end = reader.advance()
    if _environment(reader, end) != name:
        reader.fail(f"\\begin{{{name}}} is closed by another environment", end)
    if not rows:
        reader.fail("the matrix is empty", begin)
    return _blocks(reader, rows)


def _blocks(reader, rows):
    """The matrix of the entries ``rows`` (lists of (value, token)), shapes checked (a
    mismatch is an error of kind "shape", as the reader's own)."""
    def shape(value):
        return tuple(value.shape) if is_matrix(value) else (1, 1)

    def fail(message, token):
        try:
            reader.fail(message, token)
        except BadInput as error:
            error.kind = "shape"
            raise

    width = len(rows[0])
    for number, row in enumerate(rows[1:], 2):
        if len(row) != width:
            fail(f"row {number} has {len(row)} {'entry' if len(row) == 1 else 'entries'}, "
                 f"row 1 has {width}", row[0][1])
    for number, row in enumerate(rows, 1):
        height = shape(row[0][0])[0]
        for value, token in row[1:]:
            if shape(value)[0] != height:
                fail(f"this block is {shape_text(shape(value))}, but the first block of "
                     f"row {number} has {height} row(s): the blocks of a row must have one "
                     "height", token)
    for column in range(width):
        breadth = shape(rows[0][column][0])[1]
        for number, row in enumerate(rows[1:], 2):
            value, token = row[column]
            if shape(value)[1] != breadth:
                fail(f"this block is {shape_text(shape(value))}, but the block above it in "
                     f"column {column + 1} has {breadth} column(s): the blocks of a column "
                     "must have one width", token)
    reader.features.add("block matrix")
    if all(not is_matrix(value) or shape(value) == (1, 1) for row in rows for value, _ in row):
        return sp.ImmutableMatrix([[to_scalar(value) if is_matrix(value) else value
                                    for value, _ in row] for row in rows])
    blocks = [[value if is_matrix(value) else sp.ImmutableMatrix([[value]])
               for value, _ in row] for row in rows]
    if len(blocks) == 1 and len(blocks[0]) == 1:
        return blocks[0][0]
    return sp.BlockMatrix(blocks)


__all__ = ["derivative_fraction", "read_derivative_fraction", "read_partial_inline",
           "read_nabla", "read_sum", "read_block_matrix", "BATCH_SIZE", "MATRIX_ENVIRONMENTS"]
