"""The names of one expression: declared shapes, scalars, defaults, and the functions it calls.

Variables of an EXPR string get their shapes from ``shapes`` (name → (rows, cols), each an int or
a size name such as ``"n"`` or ``"n_j"``).  A name that is not declared gets a default, and a note
says so:

- a name declared in ``scalars`` is a real scalar Symbol;
- a name starting with a lowercase letter (``v``, ``x``, ``\\alpha``) is a column, n × 1;
- any other name (``A``, ``W``) is a square matrix, n × n;

with one shared size symbol ``n``.  ``functions`` is the table of named scalar functions
(:class:`~derive.calculus.functions.NamedFunction` classes by name) that EXPR may call besides
SymPy's: the calculus has none of its own; ``derive.jacobian`` passes the activations.

Both readers (SymPy syntax in :mod:`.sympy_input`, LaTeX in :mod:`.latex_input`) read into a
:class:`Namespace`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sympy as sp

from ..errors import BadInput

DEFAULT_SIZE = sp.Symbol("n")
_SIZE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_{}]*$")


def size_of(text, where: str | None = None):
    """An int or a size Symbol from ``3``, ``"3"``, ``"n"``, ``"n_j"``."""
    if isinstance(text, (int, sp.Integer)):
        value = int(text)
    elif isinstance(text, sp.Symbol):
        return text
    elif isinstance(text, sp.Expr) and text.free_symbols and text.is_polynomial() and \
            all(c > 0 for c in sp.Poly(text).coeffs()):
        return text                    # a size expression of a network: n_0 + 1 (augmented)
    else:
        text = str(text).strip()
        if text.isdigit():
            value = int(text)
        elif _SIZE_NAME.match(text):
            return sp.Symbol(text)
        else:
            raise BadInput(f"size {text!r} is neither a positive integer nor a name", where)
    if value < 1:
        raise BadInput(f"size {value} must be at least 1", where)
    return value


def parse_shape_spec(text: str) -> tuple[str, tuple]:
    """``"A=3x3"`` → ("A", (3, 3)); ``"W=m,n"``, ``"v=n"`` (a column n×1), ``"r=1xn"``.

    Rows and columns are separated by ``x``, ``×`` or ``,`` (use ``,`` when a size name
    contains an x).
    """
    name, sep, dims = text.partition("=")
    name, dims = name.strip(), dims.strip()
    if not sep or not name or not dims:
        raise BadInput(f"cannot read shape {text!r}; write NAME=RxC (A=3x3, W=m,n) or NAME=R "
                       "for a column", "--shape")
    if "," in dims:
        parts = dims.split(",")
    elif "×" in dims:
        parts = dims.split("×")
    else:
        parts = re.split(r"(?<=[0-9A-Za-z}])\s*x\s*(?=[0-9A-Za-z])", dims) if "x" in dims else [dims]
        if len(parts) > 2:
            raise BadInput(f"cannot read shape {text!r}: several x; separate rows and columns "
                           "with a comma (W=n_x,m)", "--shape")
    if len(parts) == 1:
        parts = [parts[0], "1"]
    if len(parts) != 2:
        raise BadInput(f"cannot read shape {text!r}; write NAME=RxC", "--shape")
    return name, (size_of(parts[0], "--shape"), size_of(parts[1], "--shape"))


def counted(size, noun: str) -> str:
    """``1 column``, ``3 columns``, ``n columns``: a size and its noun, for messages."""
    return f"{size} {noun}" if size == 1 else f"{size} {noun}s"


def shape_text(shape) -> str:
    """``3×2``: a shape (rows, cols) for messages."""
    return f"{shape[0]}×{shape[1]}"


@dataclass
class Namespace:
    """The variables of one expression: declared shapes, scalars, and defaults used.

    Attributes
    ----------
    shapes : dict
        name → (rows, cols), ints or size names; also ``"3x2"`` or a number of rows.
    scalars : tuple of str
        Names that are real scalars.
    symbols : dict
        name → the Symbol or MatrixSymbol made for it (filled as the expression is read).
    notes : list of str
        Remarks for the user (a default shape taken).
    functions : dict
        name → :class:`~derive.calculus.functions.NamedFunction` class (or any SymPy function
        class of one variable, read by its name only): the named scalar functions EXPR may
        call (``sigmoid``, ``\\sigma``, their derivatives ``sigmoid_prime``, ``\\sigma'``),
        besides SymPy's own.
    """

    shapes: dict = field(default_factory=dict)
    scalars: tuple = ()
    symbols: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    def __post_init__(self):
        shapes = {}
        for name, shape in (self.shapes or {}).items():
            if isinstance(shape, str):
                shape = parse_shape_spec(f"{name}={shape}")[1]
            elif isinstance(shape, (int, sp.Integer)) or isinstance(shape, sp.Symbol):
                shape = (shape, 1)
            if len(shape) != 2:
                raise BadInput(f"shape of {name} must be (rows, cols), got {shape!r}", "shapes")
            shapes[name] = (size_of(shape[0], "shapes"), size_of(shape[1], "shapes"))
        self.shapes = shapes
        self.scalars = tuple(self.scalars or ())
        overlap = sorted(set(self.scalars) & set(shapes))
        if overlap:
            raise BadInput(f"{', '.join(overlap)} declared both as scalar and with a shape")

    scalar_only: bool = False           # the body of a Lambda: its variable and scalars only
    defaulted: list = field(default_factory=list)      # names given a default shape
    functions: dict = field(default_factory=dict)      # name → NamedFunction class

    def lookup(self, name: str):
        """The MatrixSymbol (or scalar Symbol) for ``name``, creating it on first use."""
        if name in self.symbols:
            return self.symbols[name]
        if name in self.scalars:
            symbol = sp.Symbol(name, real=True)
        elif self.scalar_only:
            raise BadInput(f"{name!r} in the body of a Lambda: an entrywise function may use "
                           "only its own variable and names declared with --scalar")
        else:
            shape = self.shapes.get(name)
            if shape is None:
                bare = name.lstrip("\\")
                shape = (DEFAULT_SIZE, 1) if bare[:1].islower() else (DEFAULT_SIZE, DEFAULT_SIZE)
                kind = "a column" if shape[1] == 1 else "a square matrix"
                self.notes.append(f"{name} has no declared shape: taken as {kind} "
                                  f"{shape_text(shape)}")
                self.defaulted.append(f"{name} {shape_text(shape)}")
            symbol = sp.MatrixSymbol(name, *shape)
        self.symbols[name] = symbol
        return symbol


__all__ = ["Namespace", "DEFAULT_SIZE", "size_of", "parse_shape_spec", "shape_text", "counted"]
