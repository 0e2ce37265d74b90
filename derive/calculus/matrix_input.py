"""Reading matrix expressions: names and shapes, shape-checked algebra, SymPy syntax.

Variables of an EXPR string get their shapes from ``shapes`` (name → (rows, cols), each an int or
a size name such as ``"n"`` or ``"n_j"``).  A name that is not declared gets a default, and a note
says so:

- a name declared in ``scalars`` is a real scalar Symbol;
- a name starting with a lowercase letter (``v``, ``x``, ``\\alpha``) is a column, n × 1;
- any other name (``A``, ``W``) is a square matrix, n × n;

with one shared size symbol ``n``.

:class:`Algebra` builds SymPy matrix expressions with the shapes checked; an operation on
operands of incompatible shapes raises :class:`~derive.errors.BadInput` naming both operands
(as written) and their shapes.  Both readers (SymPy syntax here, LaTeX in
:mod:`.latex_input`) use it.

SymPy syntax is read with Python's ``ast`` module (nothing is ``eval``-ed): ``v.T*A*v``,
``(A*x + b).applyfunc(tanh)``, ``log(det(X))``, ``trace(X.T*X)``, ``norm(x)``, ``softmax(z)``,
``logsumexp(z)``, ``hadamard_product(a, b)``, ``diag(v)``, ``A.I`` / ``A**-1``, ``@`` and ``*``.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

import sympy as sp

from ..activations import ACTIVATIONS
from ..errors import BadInput
from .matrix_nodes import (AsScalar, LogSumExp, MatNorm, Softmax, elementwise, is_column,
                           hadamard_of, is_matrix, is_one_by_one, matrix_sum,
                           to_scalar)

DEFAULT_SIZE = sp.Symbol("n")
_SIZE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_{}]*$")


def size_of(text, where: str | None = None):
    """An int or a size Symbol from ``3``, ``"3"``, ``"n"``, ``"n_j"``."""
    if isinstance(text, (int, sp.Integer)):
        value = int(text)
    elif isinstance(text, sp.Symbol):
        return text
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


def _count(size, noun: str) -> str:
    return f"{size} {noun}" if size == 1 else f"{size} {noun}s"


def _fmt_shape(shape) -> str:
    return f"{shape[0]}×{shape[1]}"


@dataclass
class Namespace:
    """The variables of one expression: declared shapes, scalars, and defaults used."""

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
                                  f"{_fmt_shape(shape)}")
                self.defaulted.append(f"{name} {_fmt_shape(shape)}")
            symbol = sp.MatrixSymbol(name, *shape)
        self.symbols[name] = symbol
        return symbol


@dataclass(frozen=True)
class Unsized:
    """The identity I or the ones vector 1 written without a size: the reader takes the size
    from the operand it meets (``x^T A x - I``, ``\\mathbf{1}^T y``).

    ``kind`` is ``"identity"`` or ``"ones"``; ``row`` marks 1ᵀ; ``coeff`` a scalar factor.
    """

    kind: str
    row: bool = False
    coeff: sp.Expr = sp.S.One

    def text(self) -> str:
        name = "I" if self.kind == "identity" else ("1^T" if self.row else "1")
        return name if self.coeff == 1 else f"{self.coeff} {name}"

    def sized(self, rows, cols=None):
        """The matrix, ``rows`` (× ``cols``) given by the context."""
        if self.kind == "identity":
            matrix = sp.Identity(rows)
        else:
            matrix = sp.OneMatrix(1, rows) if self.row else sp.OneMatrix(rows, 1)
            if cols is not None:
                matrix = sp.OneMatrix(rows, cols)
        return matrix if self.coeff == 1 else sp.MatMul(self.coeff, matrix).doit(deep=False)


def describe(value, text: str | None) -> str:
    """``'W a' (3×2)`` for error messages."""
    if isinstance(value, Unsized):
        return f"'{(text or value.text()).strip()}' (size not given)"
    shape = "scalar" if not is_matrix(value) else _fmt_shape(value.shape)
    return f"'{text.strip()}' ({shape})" if text else f"{value} ({shape})"


class Algebra:
    """Shape-checked construction of matrix expressions; ``ta``, ``tb`` are operand texts.

    An :class:`Unsized` operand (I, 1) takes its size from the other operand; a scalar added
    to a vector is that scalar times the ones vector (1 − y).
    """

    def __init__(self, where: str | None = None, namespace: Namespace | None = None):
        self.where, self.namespace = where, namespace

    def fail(self, message: str):
        if self.namespace is not None and self.namespace.defaulted:
            message += (" (no shape was declared for " + ", ".join(self.namespace.defaulted)
                        + ": declare it with --shape NAME=RxC or --scalar NAME)")
        raise BadInput(message, self.where)

    def sized(self, value, text=None):
        """``value``, which must not be an :class:`Unsized` (whose size nothing fixes here)."""
        if isinstance(value, Unsized):
            hint = "I_n" if value.kind == "identity" else "\\mathbf{1}_n"
            self.fail(f"cannot tell the size of {describe(value, text)} here; write it with "
                      f"its size, e.g. {hint}")
        return value

    def _fit_product(self, a, b, ta, tb):
        """Sizes for Unsized factors of a product a b, from the other factor."""
        if isinstance(a, Unsized) and isinstance(b, Unsized):
            self.sized(a, ta)
        if isinstance(a, Unsized):
            if not is_matrix(b):
                return Unsized(a.kind, a.row, a.coeff * b), None
            if a.kind == "identity" or a.row:
                return a.sized(b.shape[0]), b
            self.sized(a, ta)                        # 1 (k×1) times b: k is not fixed
        if isinstance(b, Unsized):
            if not is_matrix(a):
                return Unsized(b.kind, b.row, b.coeff * a), None
            if b.kind == "identity" or not b.row:
                return a, b.sized(a.shape[1])
            self.sized(b, tb)
        return a, b

    def _fit_alike(self, a, b, ta, tb):
        """Sizes for Unsized terms of a sum or Hadamard product, from the other term."""
        if isinstance(a, Unsized) and isinstance(b, Unsized):
            self.sized(a, ta)
        if isinstance(a, Unsized) and is_matrix(b):
            return (a.sized(b.shape[0], None if a.kind == "identity" else b.shape[1]), b)
        if isinstance(b, Unsized) and is_matrix(a):
            return (a, b.sized(a.shape[0], None if b.kind == "identity" else a.shape[1]))
        return self.sized(a, ta), self.sized(b, tb)

    def mul(self, a, b, ta=None, tb=None):
        a, b = self._fit_product(a, b, ta, tb)
        if b is None:
            return a
        if not is_matrix(a) or not is_matrix(b):
            if not is_matrix(a) and not is_matrix(b):
                return a * b
            return sp.MatMul(a, b).doit(deep=False)
        if a.shape[1] != b.shape[0]:
            if is_one_by_one(a):
                return sp.MatMul(to_scalar(a), b).doit(deep=False)
            if is_one_by_one(b):
                return sp.MatMul(to_scalar(b), a).doit(deep=False)
            self.fail(f"cannot multiply {describe(a, ta)} by {describe(b, tb)}: "
                      f"{_count(a.shape[1], 'column')} against {_count(b.shape[0], 'row')}")
        return sp.MatMul(a, b).doit(deep=False)

    def add(self, a, b, ta=None, tb=None, sign=1):
        b = b if sign == 1 else self.neg(b)
        a, b = self._fit_alike(a, b, ta, tb)
        if is_matrix(a) and is_matrix(b):
            if a.shape != b.shape:
                verb = "add" if sign == 1 else "subtract"
                self.fail(f"cannot {verb} {describe(a, ta)} and {describe(b, tb)}: "
                          "shapes differ")
            return matrix_sum(a, b)
        for value, other in ((a, b), (b, a)):
            if is_matrix(value) and not is_one_by_one(value):
                if value.shape[0] == 1 or value.shape[1] == 1:
                    # 1 − y for a vector y: the scalar times the ones vector
                    ones = sp.OneMatrix(*value.shape)
                    spread = ones if other == 1 else sp.MatMul(other, ones).doit(deep=False)
                    return matrix_sum(value, spread)
                text_value, text_other = (ta, tb) if value is a else (tb, ta)
                self.fail(f"cannot add {describe(value, text_value)} and the scalar "
                          f"{describe(other, text_other)} (for c I or c 1 1^T write it so)")
        return to_scalar(a) + to_scalar(b)

    def neg(self, a):
        if isinstance(a, Unsized):
            return Unsized(a.kind, a.row, -a.coeff)
        return sp.MatMul(-1, a).doit(deep=False) if is_matrix(a) else -a

    def div(self, a, b, ta=None, tb=None):
        self.sized(b, tb)
        if is_matrix(b):
            if not is_one_by_one(b):
                self.fail(f"cannot divide by the matrix {describe(b, tb)}; multiply by its "
                          "inverse instead")
            b = to_scalar(b)
        if isinstance(a, Unsized):
            return Unsized(a.kind, a.row, a.coeff / b)
        if is_matrix(a):
            return sp.MatMul(1 / b, a).doit(deep=False)
        return a / b

    def power(self, a, k, ta=None):
        self.sized(a, ta)
        if not is_matrix(a):
            return a ** k
        if is_one_by_one(a):
            return to_scalar(a) ** k
        if a.shape[0] != a.shape[1]:
            self.fail(f"cannot raise {describe(a, ta)} to a power: it is not square "
                      "(for entrywise powers write x \\odot x)")
        if k == -1:
            return sp.Inverse(a)
        if not (isinstance(k, (int, sp.Integer)) or getattr(k, "is_Integer", False)):
            self.fail(f"matrix power {describe(a, ta)}^{k} needs an integer exponent")
        return sp.MatPow(a, k).doit(deep=False) if k != 1 else a

    def transpose(self, a):
        if isinstance(a, Unsized):
            return a if a.kind == "identity" else Unsized(a.kind, not a.row, a.coeff)
        return sp.Transpose(a) if is_matrix(a) else a

    def inverse(self, a, ta=None):
        self.sized(a, ta)
        if not is_matrix(a):
            return 1 / a
        if a.shape[0] != a.shape[1]:
            self.fail(f"cannot invert {describe(a, ta)}: it is not square")
        return sp.Inverse(a)

    def hadamard(self, a, b, ta=None, tb=None):
        a, b = self._fit_alike(a, b, ta, tb)
        if not is_matrix(a) or not is_matrix(b):
            return self.mul(a, b, ta, tb)
        if a.shape != b.shape:
            self.fail(f"cannot take the Hadamard product of {describe(a, ta)} and "
                      f"{describe(b, tb)}: shapes differ")
        return hadamard_of(a, b)

    def square_matrix(self, a, ta, what):
        if not is_matrix(a) or a.shape[0] != a.shape[1]:
            self.fail(f"{what} needs a square matrix, got {describe(a, ta)}")

    def trace(self, a, ta=None):
        self.sized(a, ta)
        if not is_matrix(a):
            return a
        self.square_matrix(a, ta, "the trace")
        return sp.Trace(a)

    def det(self, a, ta=None):
        self.sized(a, ta)
        if not is_matrix(a):
            return a
        self.square_matrix(a, ta, "the determinant")
        return sp.Determinant(a)

    def norm(self, a, kind=None, ta=None):
        self.sized(a, ta)
        if not is_matrix(a):
            return sp.Abs(a)
        vector = a.shape[0] == 1 or a.shape[1] == 1
        if kind in (None, "2") and not vector:
            self.fail(f"the 2-norm of the matrix {describe(a, ta)} (its largest singular value) "
                      "has no closed-form gradient here; write the Frobenius norm \\|X\\|_F")
        if kind not in (None, "2", "F"):
            self.fail(f"unknown norm subscript {kind!r}; use \\|x\\|, \\|x\\|_2 or \\|X\\|_F")
        return MatNorm(a)

    def diag(self, a, ta=None):
        self.sized(a, ta)
        if not is_matrix(a):
            return a
        if a.shape[1] == 1:
            return sp.DiagMatrix(a)
        if a.shape[0] == 1:
            return sp.DiagMatrix(sp.Transpose(a))
        self.square_matrix(a, ta, "diag")
        return sp.DiagonalOf(a)

    def softmax(self, a, ta=None):
        self.sized(a, ta)
        if not is_column(a):
            self.fail(f"softmax needs a column vector, got {describe(a, ta)}")
        return Softmax(a)

    def logsumexp(self, a, ta=None):
        self.sized(a, ta)
        if not is_column(a):
            self.fail(f"logsumexp needs a column vector, got {describe(a, ta)}")
        return LogSumExp(a)

    def apply(self, function, a, ta=None):
        """A function of one variable: of a scalar (or 1×1) it is a scalar; of a matrix it
        applies entrywise."""
        self.sized(a, ta)
        if not is_matrix(a):
            return function(a)
        if is_one_by_one(a):
            return function(to_scalar(a))
        return elementwise(function, a)


# --- SymPy syntax ------------------------------------------------------------------------------

_SPECIAL = {
    "trace": "trace", "Trace": "trace", "tr": "trace",
    "det": "det", "Determinant": "det", "logdet": "logdet",
    "norm": "norm", "Norm": "norm", "frobenius": "norm",
    "softmax": "softmax", "logsumexp": "logsumexp", "lse": "logsumexp",
    "diag": "diag", "DiagMatrix": "diag", "diagonal": "diag",
    "hadamard_product": "hadamard", "HadamardProduct": "hadamard", "hadamard": "hadamard",
    "Inverse": "inverse", "inverse": "inverse", "inv": "inverse",
    "Transpose": "transpose", "transpose": "transpose",
}


def scalar_function(name: str):
    """The SymPy function class for ``name``: a registry activation, else a SymPy function."""
    if name != "softmax" and name in ACTIVATIONS:
        return ACTIVATIONS.get(name).function
    value = getattr(sp, name, None)
    if isinstance(value, sp.FunctionClass):
        return value
    if name == "sqrt":
        return sp.sqrt
    return None


_NAMED_FUNCTIONS = ("tr", "trace", "det", "logdet", "log", "ln", "exp", "sqrt", "diag",
                    "softmax", "logsumexp", "norm")


def known_functions() -> str:
    """The function names EXPR may use, for error messages."""
    activations = [name for name in ACTIVATIONS.names() if name != "softmax"]
    return (", ".join(_NAMED_FUNCTIONS + tuple(activations))
            + ", and any SymPy function of one variable (sin, cosh, erf, ...)")


def looks_like_sympy(text: str, namespace: Namespace | None = None) -> bool:
    """SymPy syntax: no LaTeX markup (``\\``, ``^``, braces) and a valid Python expression
    (``v.T*A*v``, ``hadamard_product(x, b)``; LaTeX juxtaposition ``A v`` is not Python) whose
    calls call functions, not variables (``A (x)`` is the LaTeX product A x)."""
    if any(ch in text for ch in "\\^{}"):
        return False
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        return False
    declared = set(namespace.shapes) | set(namespace.scalars) if namespace else set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Name) and (len(node.func.id) == 1 or
                                                node.func.id in declared):
            return False
        if not isinstance(node.func, (ast.Name, ast.Attribute)):   # (A + X)(A + X)
            return False
    return True


class SympySyntaxReader:
    """Evaluates a SymPy-syntax string over a :class:`Namespace` with Python's ``ast``."""

    def __init__(self, text: str, namespace: Namespace, where: str | None = "EXPR"):
        self.text, self.namespace = text, namespace
        self.algebra = Algebra(where, namespace)
        self.where = where

    def read(self):
        try:
            tree = ast.parse(self.text.strip(), mode="eval")
        except SyntaxError as exc:
            column = (exc.offset or 1) - 1
            raise BadInput(f"cannot read {self.text!r}: {exc.msg} at column {column + 1}\n"
                           f"  {self.text.strip()}\n  {' ' * column}^", self.where) from None
        return self.visit(tree.body)

    def source(self, node) -> str:
        return ast.get_source_segment(self.text.strip(), node) or ""

    def fail(self, node, message):
        column = getattr(node, "col_offset", 0)
        raise BadInput(f"{message} (at column {column + 1})\n  {self.text.strip()}\n"
                       f"  {' ' * column}^", self.where)

    def visit(self, node):
        method = getattr(self, f"visit_{type(node).__name__}", None)
        if method is None:
            self.fail(node, f"cannot read {self.source(node)!r} in a matrix expression")
        return method(node)

    def visit_Constant(self, node):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            self.fail(node, f"unexpected constant {node.value!r}")
        return sp.Rational(str(node.value)) if isinstance(node.value, float) else \
            sp.Integer(node.value)

    def visit_Name(self, node):
        name = node.id
        if name in ("pi", "E"):
            return getattr(sp, name)
        if name == "e" and name not in self.namespace.shapes and name not in self.namespace.scalars:
            return sp.E
        return self.namespace.lookup(name)

    def visit_UnaryOp(self, node):
        value = self.visit(node.operand)
        if isinstance(node.op, ast.USub):
            return self.algebra.neg(value)
        if isinstance(node.op, ast.UAdd):
            return value
        self.fail(node, f"unsupported operator in {self.source(node)!r}")

    def visit_BinOp(self, node):
        left, right = self.visit(node.left), self.visit(node.right)
        tl, tr = self.source(node.left), self.source(node.right)
        op = type(node.op)
        if op in (ast.Mult, ast.MatMult):
            return self.algebra.mul(left, right, tl, tr)
        if op is ast.Add:
            return self.algebra.add(left, right, tl, tr)
        if op is ast.Sub:
            return self.algebra.add(left, right, tl, tr, sign=-1)
        if op is ast.Div:
            return self.algebra.div(left, right, tl, tr)
        if op is ast.Pow:
            if is_matrix(right):
                self.fail(node.right, "a power's exponent must be a number")
            return self.algebra.power(left, right, tl)
        self.fail(node, f"unsupported operator in {self.source(node)!r}")

    def visit_Attribute(self, node):
        value = self.visit(node.value)
        if node.attr == "T":
            return self.algebra.transpose(value)
        if node.attr == "I":
            return self.algebra.inverse(value, self.source(node.value))
        self.fail(node, f"unknown attribute .{node.attr}")

    def visit_Call(self, node):
        if node.keywords:
            self.fail(node, "keyword arguments are not supported")
        if isinstance(node.func, ast.Attribute):
            target = self.visit(node.func.value)
            method = node.func.attr
            if method == "applyfunc" and len(node.args) == 1:
                function = self._function(node.args[0])
                return elementwise(function, target) if is_matrix(target) else function(target)
            if method in ("transpose", "inverse", "inv", "trace", "det", "norm") and not node.args:
                return self._special(_SPECIAL.get(method, method), [target],
                                     [self.source(node.func.value)], node)
            self.fail(node, f"unknown method .{method}()")
        if not isinstance(node.func, ast.Name):
            self.fail(node, f"cannot call {self.source(node.func)!r}")
        name = node.func.id
        args = [self.visit(a) for a in node.args]
        texts = [self.source(a) for a in node.args]
        if name in _SPECIAL:
            return self._special(_SPECIAL[name], args, texts, node)
        function = scalar_function(name)
        if function is None:
            self.fail(node, f"unknown function {name!r}; known: {known_functions()}")
        if len(args) != 1:
            self.fail(node, f"{name} takes one argument")
        return self.algebra.apply(function, args[0], texts[0])

    def _function(self, node):
        if isinstance(node, ast.Name):
            function = scalar_function(node.id)
            if function is not None:
                return function
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id == "Lambda" and len(node.args) == 2:
            if not isinstance(node.args[0], ast.Name):
                self.fail(node.args[0], "Lambda's first argument must be a name")
            var = sp.Symbol(node.args[0].id, real=True)
            scope = Namespace(scalars=(var.name,) + tuple(self.namespace.scalars))
            scope.scalar_only = True
            body = SympySyntaxReader(self.source(node.args[1]), scope, self.where).read()
            return sp.Lambda(var, body)
        self.fail(node, f"applyfunc needs a function name (tanh, sigmoid, exp, ...) or "
                        f"Lambda(x, expr); got {self.source(node)!r}")

    def _special(self, kind, args, texts, node):
        algebra = self.algebra
        if kind == "hadamard":
            result, text = args[0], texts[0]
            for value, other in zip(args[1:], texts[1:]):
                result, text = algebra.hadamard(result, value, text, other), f"{text} ⊙ {other}"
            return result
        if len(args) != 1:
            self.fail(node, f"{kind} takes one argument")
        (arg,), (text,) = args, texts
        if kind == "logdet":
            return sp.log(algebra.det(arg, text))
        return getattr(algebra, kind)(arg, ta=text) if kind != "transpose" else \
            algebra.transpose(arg)


def read_expression(text: str, namespace: Namespace, where: str | None = "EXPR"):
    """An EXPR string in SymPy syntax or LaTeX → a SymPy (matrix) expression."""
    if not isinstance(text, str) or not text.strip():
        raise BadInput("the expression is empty", where)
    if looks_like_sympy(text, namespace):
        return SympySyntaxReader(text, namespace, where).read()
    from .latex_input import read_latex

    return read_latex(text, namespace, where)


__all__ = ["Namespace", "Algebra", "parse_shape_spec", "read_expression", "size_of",
           "looks_like_sympy", "SympySyntaxReader", "known_functions", "Unsized", "DEFAULT_SIZE",
           "AsScalar"]
