"""The expression language of a computation graph's nodes: SymPy syntax over named values.

``*`` is the matrix product, ``.T`` the transpose; elementwise functions (``sin``, ``exp``,
``log``, ``tanh`` … and every activation of :mod:`derive.activations`) apply entry by entry;
``softmax(z)`` is the vector softmax; ``sum(v)``, ``dot(u, v)`` and ``hadamard(u, v)`` are
provided.  :data:`FUNCTIONS` is the namespace a node's text is read in.
"""

from __future__ import annotations

import io
import tokenize

import sympy as sp
from sympy.matrices.exceptions import ShapeError

from ..activations import ACTIVATIONS
from ..errors import BadInput
from ..registry import FORBIDDEN

__all__ = ["CONSTANTS", "FUNCTIONS", "RESERVED", "names_used", "node_text", "shape_text"]

# --- the expression language of nodes ---------------------------------------------------------

_SCALAR_FUNCTIONS = ("sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sinh", "cosh", "asin",
                     "acos", "atan", "Abs", "sign", "erf", "Heaviside", "Max", "Min")
CONSTANTS = {"e": sp.E, "pi": sp.pi}
_ATTRIBUTES = {"T"}


def _elementwise(function):
    """``function`` applied entry by entry when any argument is a matrix (scalars broadcast)."""
    def apply(*args):
        matrices = [a for a in args if isinstance(a, sp.MatrixBase)]
        if all(m.shape == (1, 1) for m in matrices):      # v.T*h inside relu(...) is a scalar
            return function(*(a[0, 0] if isinstance(a, sp.MatrixBase) else a for a in args))
        shape = matrices[0].shape
        if any(m.shape != shape for m in matrices):
            raise ShapeError(f"{getattr(function, '__name__', function)} of matrices of shapes "
                             + ", ".join(shape_text(m.shape) for m in matrices))
        return sp.Matrix(*shape, lambda i, j: function(
            *(a[i, j] if isinstance(a, sp.MatrixBase) else a for a in args)))
    return apply


def _sum(value):
    return sp.Add(*value) if isinstance(value, sp.MatrixBase) else value


def _hadamard(u, v):
    if not (isinstance(u, sp.MatrixBase) and isinstance(v, sp.MatrixBase)):
        return u * v
    if u.shape != v.shape:
        raise ShapeError(f"hadamard of shapes {shape_text(u.shape)} and {shape_text(v.shape)}")
    return u.multiply_elementwise(v)


def _dot(u, v):
    if not (isinstance(u, sp.MatrixBase) and isinstance(v, sp.MatrixBase)) or len(u) != len(v):
        shapes = [shape_text(a.shape) if isinstance(a, sp.MatrixBase) else "scalar"
                  for a in (u, v)]
        raise ShapeError(f"dot needs two vectors of the same length, got {shapes[0]} and "
                         f"{shapes[1]}")
    return sp.Add(*[a * b for a, b in zip(u, v)])


def _softmax(z):
    if not isinstance(z, sp.MatrixBase) or 1 not in z.shape:
        raise ShapeError("softmax needs a vector")
    return ACTIVATIONS.get("softmax").apply_vector(sp.Matrix(list(z)))


def _transpose(value):
    return value.T if isinstance(value, sp.MatrixBase) else value


def _functions() -> dict:
    table = {name: _elementwise(getattr(sp, name)) for name in _SCALAR_FUNCTIONS}
    table["abs"] = table["Abs"]
    for name in ACTIVATIONS.names():
        if name not in table and name != "softmax":
            table[name] = _elementwise(ACTIVATIONS.get(name).function)
    table.update(softmax=_softmax, sum=_sum, dot=_dot, hadamard=_hadamard, transpose=_transpose)
    return table


FUNCTIONS = _functions()
RESERVED = set(FUNCTIONS) | set(CONSTANTS)


def node_text(expr) -> str:
    """A node's expression as text: strings as given, SymPy objects printed (read back later)."""
    return expr if isinstance(expr, str) else sp.sstr(expr)


def shape_text(shape) -> str:
    return f"{shape[0]}x{shape[1]}"


def names_used(text: str, what: str, where: str | None) -> list[str]:
    """Names the expression ``text`` refers to, in order of first use (attributes excluded)."""
    if FORBIDDEN.search(text):
        raise BadInput(f"{what} {text!r} is not a plain mathematical expression", where)
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError) as exc:
        raise BadInput(f"{what} {text!r} does not parse: {exc}", where) from None
    names: list[str] = []
    previous = None
    for token in tokens:
        if token.type == tokenize.NAME:
            if previous is not None and previous.type == tokenize.OP and previous.string == ".":
                if token.string not in _ATTRIBUTES:
                    raise BadInput(f"{what} {text!r} uses .{token.string}; the only attribute "
                                   f"allowed is .T (transpose)", where)
            elif token.string not in names:
                names.append(token.string)
        if token.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.ENDMARKER):
            previous = token
    return names


