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

SymPy syntax (SPEC §5) is a Python expression in the namespace of ``from sympy import *`` plus
the variables: ``v.T*A*v``, ``(A*x + b).applyfunc(tanh)``, ``log(det(X))``, ``Trace(X.T*X)``,
``Rational(1, 2)*x.T*x``, ``S.Half``, ``x.T*Identity(n)*x``,
``OneMatrix(1, n)*HadamardPower(x, 2)``, ``MatrixSymbol("z", n, 1)``,
``.applyfunc(Lambda(Symbol("t"), t*tanh(t)))``, ``norm(x)``, ``softmax(z)``, ``A.I`` /
``A**-1``, ``@`` and ``*``.  EXPR is untrusted text, so it is read
with Python's ``ast`` module and nothing is ``eval``-ed (:class:`SympySyntaxReader` lists what
is allowed): SymPy's functions are called on the values read, with no strings, no attributes
beyond a short list, no double-underscore names and none of SymPy's functions that print, plot
or evaluate text.  :func:`to_sympy_syntax` writes an expression back in the same syntax.
"""

from __future__ import annotations

import ast
import functools
import json
import keyword
import re
import types
from dataclasses import dataclass, field

import sympy as sp
from sympy.logic.boolalg import Boolean
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.printing.str import StrPrinter

from ..activations import ACTIVATIONS
from ..errors import BadInput
from .matrix_nodes import (AsScalar, CommutationMatrix, LogSumExp, MatNorm, Softmax, elementwise,
                           hadamard_of, is_column, is_matrix, is_one_by_one, lambda_head,
                           matrix_sum, prime_function, to_scalar)

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
        if not is_matrix(a) or is_one_by_one(a):
            return a                                 # diag of a number is that number
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

# Names of ``from sympy import *`` that EXPR may not call: they print, plot, open viewers or
# sessions, run tests, read input, change global settings, evaluate text as code or wrap Python
# callables.  Everything else there builds or transforms expressions from its arguments.
_REFUSED = frozenset({
    "sympify", "parse_expr", "lambdify", "var", "preview", "init_printing", "init_session",
    "interactive_traversal", "pprint", "pprint_use_unicode", "pprint_try_use_unicode",
    "pretty_print", "pager_print", "textplot", "test", "doctest", "cacheit", "memoize_property",
    "threaded", "xthreaded", "timed", "vectorize", "public", "capture", "seterr",
    "register_handler", "remove_handler", "evaluate", "assuming", "symarray", "numbered_symbols",
})
_REFUSED_PREFIXES = ("print_", "plot", "_")


@functools.lru_cache(maxsize=None)
def _sympy_namespace() -> types.MappingProxyType:
    names = {}
    for name in sp.__all__:
        value = getattr(sp, name, None)
        if value is None or isinstance(value, types.ModuleType) or name in _REFUSED \
                or name.startswith(_REFUSED_PREFIXES):
            continue
        names[name] = value
    return types.MappingProxyType(names)


def sympy_names():
    """The names SymPy syntax may call: what ``from sympy import *`` gives, less modules and
    the functions with side effects or that evaluate text (``sympify``, ``lambdify``,
    ``preview``, ``plot``, ``init_session``, ``print_*``, ...).

    >>> "Identity" in sympy_names() and "sympify" not in sympy_names()
    True
    """
    return _sympy_namespace()


def _refused(name: str) -> bool:
    return name in _REFUSED or (name.startswith(_REFUSED_PREFIXES) and hasattr(sp, name))


# The project's own functions, each read by the Algebra (shape-checked, errors naming operands).
_SPECIAL = {
    "trace": "trace", "Trace": "trace", "tr": "trace",
    "det": "det", "Determinant": "det", "logdet": "logdet",
    "norm": "norm", "Norm": "norm", "frobenius": "norm",
    "softmax": "softmax", "logsumexp": "logsumexp", "lse": "logsumexp",
    "diag": "diag", "DiagMatrix": "diag", "diagonal": "diag",
    "hadamard_product": "hadamard", "HadamardProduct": "hadamard", "hadamard": "hadamard",
    "Inverse": "inverse", "inverse": "inverse", "inv": "inverse",
    "Transpose": "transpose", "transpose": "transpose",
    "MatMul": "matmul", "MatAdd": "matadd", "MatPow": "matpow", "DiagonalOf": "diagonal_of",
}
# Methods and attributes a value may use; nothing else is looked up on any object.
_METHODS = {"transpose": "transpose", "inverse": "inverse", "inv": "inverse",
            "trace": "trace", "det": "det", "norm": "norm"}
_SINGLETONS = ("Half", "One", "Zero", "NegativeOne", "Pi", "Exp1", "EulerGamma", "Catalan",
               "GoldenRatio")
# Bare names that are numbers, unless EXPR declares a variable of that name.
_CONSTANTS = {"pi": sp.pi, "E": sp.E, "e": sp.E, "EulerGamma": sp.EulerGamma,
              "Catalan": sp.Catalan, "GoldenRatio": sp.GoldenRatio,
              "TribonacciConstant": sp.TribonacciConstant}
# Calls whose arguments are read specially: a string names a symbol or spells a number; the
# arguments of a matrix constant are sizes (``n`` there is the size n, not a variable).
_NAMING = ("Symbol", "Dummy", "symbols", "MatrixSymbol")
_NUMBERS = ("S", "Rational", "Integer", "Float")
_SIZED = {"Identity": (sp.Identity, 1), "ZeroMatrix": (sp.ZeroMatrix, 2),
          "OneMatrix": (sp.OneMatrix, 2), "CommutationMatrix": (CommutationMatrix, 2)}
_NUMBER_TEXT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?(/\d+)?$")
_STRING_LITERAL = re.compile(r"\"[^\"\\\n]*\"|'[^'\\\n]*'")
_ALLOWED_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Name, ast.Attribute,
                  ast.Call, ast.keyword, ast.Tuple, ast.List, ast.operator, ast.unaryop,
                  ast.expr_context)


def _symbol_name_ok(text: str) -> bool:
    """A symbol name: a Python identifier or a LaTeX-style name (``W^{[2]}``, ``\\alpha``)."""
    return 0 < len(text) <= 64 and "__" not in text and (
        text.isidentifier() or re.fullmatch(r"\\?[A-Za-z][A-Za-z0-9_{}\[\]^\\]*", text) is not None)


@functools.lru_cache(maxsize=None)
def _of_one_variable(function) -> bool:
    """A SymPy function class that is a differentiable-looking function of one number.

    Not ``Function`` itself (``Function(x)`` is a class), not logic (``And``), nor a function of
    several arguments that SymPy lets be made with one (``lerchphi(t)``, ``LaplaceTransform(t)``
    fail as soon as they are used), nor one whose derivative SymPy does not know (``floor``).
    """
    if function is sp.Function or not issubclass(function, sp.Expr) or 1 not in function.nargs:
        return False
    probe = sp.Symbol("t", real=True)
    try:
        value = function(probe)
        value.free_symbols
        derivative = sp.diff(value, probe)
    except Exception:   # SymPy raises many kinds
        return False
    return isinstance(value, sp.Expr) and not derivative.has(sp.Derivative)


def scalar_function(name: str):
    """The SymPy function class for ``name``: a registry activation (or its derivative
    ``sigmoid_prime``), else a SymPy function."""
    if name != "softmax" and name in ACTIVATIONS:
        return ACTIVATIONS.get(name).function
    base, _, tail = name.rpartition("_")
    if tail == "prime" and base and base != "softmax" and base in ACTIVATIONS:
        return prime_function(ACTIVATIONS.get(base).function)
    value = sympy_names().get(name)
    if isinstance(value, sp.FunctionClass) and _of_one_variable(value):
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


def _without_strings(text: str) -> str:
    return _STRING_LITERAL.sub('""', text)


def looks_like_sympy(text: str, namespace: Namespace | None = None) -> bool:
    """SymPy syntax: no LaTeX markup (``\\``, ``^``, braces) outside string literals and a valid
    Python expression (``v.T*A*v``, ``hadamard_product(x, b)``; LaTeX juxtaposition ``A v`` is
    not Python) whose calls call functions, not variables (``A (x)`` is the LaTeX product A x;
    a one-letter SymPy function is a call only of constants, as in ``S(1)/2``)."""
    if any(ch in _without_strings(text) for ch in "\\^{}"):
        return False
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        return False
    declared = set(namespace.shapes) | set(namespace.scalars) if namespace else set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Name):
            name = node.func.id
            if name in declared:
                return False
            if len(name) == 1 and not (callable(sympy_names().get(name)) and all(
                    isinstance(arg, ast.Constant) for arg in node.args)):
                return False
        elif not isinstance(node.func, ast.Attribute):   # (A + X)(A + X)
            return False
    return True


def _one_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _calculus_form(value):
    """SymPy's own nodes as the calculus builds them: Φ applied entrywise with the calculus'
    canonical Lambda (so that equal functions are equal expressions)."""
    if isinstance(value, sp.Basic) and value.has(ElementwiseApplyFunction):
        return value.replace(lambda node: isinstance(node, ElementwiseApplyFunction),
                             lambda node: elementwise(node.function, node.expr))
    return value


class SympySyntaxReader:
    """Evaluates a SymPy-syntax string over a :class:`Namespace` with Python's ``ast``.

    Nothing is ``eval``-ed.  The reader walks the syntax tree itself and allows only: numbers,
    names, the operators ``+ - * / @ **``, calls, tuples and lists; the attributes ``.T``,
    ``.I`` and ``S.Half``-style singletons; the methods ``.applyfunc`` and those of
    :data:`_METHODS`.  A name is a declared variable, else a constant (``pi``, ``E``), else a
    variable with a default shape; a called name is one of the calculus' own functions
    (``trace``, ``softmax``, an activation), else a name of ``from sympy import *`` (without
    the ones in :data:`_REFUSED`).  Strings may only name a symbol (``Symbol("t")``,
    ``MatrixSymbol("z", n, 1)``) or spell a number (``Rational("1/2")``).  No name or
    attribute with a double underscore is looked up anywhere.
    """

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
        self._check_safe(tree)
        value = self.visit(tree.body)
        if isinstance(value, (tuple, list, sp.Lambda, sp.FunctionClass)) or not isinstance(
                value, (sp.MatrixExpr, sp.Expr)):
            self.fail(tree.body, f"{self.source(tree.body)!r} is not a matrix or scalar "
                                 f"expression (it is a {type(value).__name__})")
        return value

    def _check_safe(self, tree):
        """Refuse, before anything is evaluated, every construct outside the allowed subset."""
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        nodes = list(ast.walk(tree))
        for node in nodes:
            if isinstance(node, ast.Lambda):
                self.fail(node, "Python lambda is not allowed; write Lambda(t, expr)")
            if not isinstance(node, _ALLOWED_NODES):
                self.fail(node, f"cannot read {self.source(node)!r} in a matrix expression")
            name = getattr(node, "id", None) or getattr(node, "attr", None) \
                or (node.arg if isinstance(node, ast.keyword) else None)
            if isinstance(node, ast.keyword) and node.arg is None:
                self.fail(parents.get(node, node), "** arguments are not allowed")
            if name and "__" in name:
                self.fail(node if not isinstance(node, ast.keyword) else parents[node],
                          f"the name {name!r} is not allowed (no names with double "
                          "underscores)", column=self._name_column(node))
        for node in nodes:
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                parent = parents.get(node)
                if not (isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name)
                        and parent.func.id in _NAMING + _NUMBERS and node in parent.args):
                    self.fail(node, "a string may only name a symbol (Symbol(\"t\"), "
                                    "MatrixSymbol(\"z\", n, 1)) or spell a number "
                                    "(Rational(\"1/2\"))")

    @staticmethod
    def _name_column(node):
        if isinstance(node, ast.Attribute) and node.end_col_offset is not None:
            return node.end_col_offset - len(node.attr)
        return None

    def source(self, node) -> str:
        return ast.get_source_segment(self.text.strip(), node) or ""

    def fail(self, node, message, column=None):
        column = getattr(node, "col_offset", 0) if column is None else column
        raise BadInput(f"{message} (at column {column + 1})\n  {self.text.strip()}\n"
                       f"  {' ' * column}^", self.where)

    def visit(self, node):
        method = getattr(self, f"visit_{type(node).__name__}", None)
        if method is None:
            self.fail(node, f"cannot read {self.source(node)!r} in a matrix expression")
        try:
            return method(node)
        except BadInput:
            raise
        except Exception as exc:   # SymPy raises many kinds (TypeError, ShapeError, ...)
            self.fail(node, f"cannot evaluate {self.source(node)!r}: {_one_line(exc)}")

    def visit_Constant(self, node):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            self.fail(node, f"unexpected constant {node.value!r}")
        return sp.Rational(str(node.value)) if isinstance(node.value, float) else \
            sp.Integer(node.value)

    def _declared(self, name: str) -> bool:
        namespace = self.namespace
        return name in namespace.symbols or name in namespace.shapes or name in namespace.scalars

    def visit_Name(self, node):
        name = node.id
        if name in _CONSTANTS and not self._declared(name):
            return _CONSTANTS[name]
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
            if isinstance(left, sp.Number) and isinstance(right, sp.Number) and abs(right) > 1000:
                self.fail(node.right, "a number's exponent must be at most 1000")
            return self.algebra.power(left, right, tl)
        self.fail(node, f"unsupported operator in {self.source(node)!r}")

    def visit_Attribute(self, node):
        column = self._name_column(node)
        if isinstance(node.value, ast.Name) and node.value.id == "S" and not self._declared("S"):
            if node.attr in _SINGLETONS:
                return getattr(sp.S, node.attr)
            self.fail(node, f"unknown attribute S.{node.attr}; known: "
                            f"{', '.join('S.' + s for s in _SINGLETONS)}", column)
        if node.attr not in ("T", "I"):
            self.fail(node, f"unknown attribute .{node.attr}; known: .T, .I and the methods "
                            f".applyfunc(f), {', '.join(f'.{m}()' for m in _METHODS)}", column)
        value = self.visit(node.value)
        if node.attr == "T":
            return self.algebra.transpose(value)
        return self.algebra.inverse(value, self.source(node.value))

    def visit_Tuple(self, node):
        return tuple(self._argument(element) for element in node.elts)

    def visit_List(self, node):
        return [self._argument(element) for element in node.elts]

    def _argument(self, node):
        """An argument of a SymPy call: True and False are allowed (``Piecewise``)."""
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            return node.value
        return self.visit(node)

    def visit_Call(self, node):
        if isinstance(node.func, ast.Attribute):
            return self._method(node)
        if not isinstance(node.func, ast.Name):
            self.fail(node, f"cannot call {self.source(node.func)!r}")
        name = node.func.id
        if name in self.namespace.shapes or name in self.namespace.scalars:
            self.fail(node, f"{name} is a variable, not a function; write {name}*(...) for "
                            "a product")
        if name == "Lambda":
            return self._lambda(node)
        if name in _NAMING:
            return self._naming(name, node)
        if name in _SIZED:
            return self._sized(name, node)
        if name in _NUMBERS and any(isinstance(a, ast.Constant) and isinstance(a.value, str)
                                    for a in node.args):
            return self._number(name, node)
        if name in _SPECIAL:
            if node.keywords:
                self.fail(node, "keyword arguments are not supported")
            args = [self.visit(a) for a in node.args]
            return self._special(_SPECIAL[name], args, [self.source(a) for a in node.args],
                                 node)
        function = scalar_function(name)
        if function is None and len(node.args) == 1 and isinstance(
                sympy_names().get(name), sp.FunctionClass):
            self.fail(node, f"{name} is not a function of one number (it needs more "
                            "arguments, or has no derivative here)")
        if function is not None and len(node.args) == 1 and not node.keywords:
            return self.algebra.apply(function, self.visit(node.args[0]),
                                      self.source(node.args[0]))
        if _refused(name):
            self.fail(node, f"{name} is not available in EXPR: it has side effects or "
                            "evaluates text as code")
        value = function or sympy_names().get(name)
        if value is None or not callable(value):
            self.fail(node, f"unknown function {name!r}; known: {known_functions()}; and "
                            "the names of `from sympy import *` (Rational, Identity, "
                            "MatrixSymbol, Lambda, ...)")
        return self._call_sympy(value, node)

    def _method(self, node):
        method, target_node = node.func.attr, node.func.value
        column = self._name_column(node.func)
        if method == "applyfunc":
            if len(node.args) != 1 or node.keywords:
                self.fail(node, "applyfunc takes one function: .applyfunc(tanh)", column)
            function = self._function(node.args[0])
            target = self.visit(target_node)
            if not is_matrix(target):
                return function(target)
            return elementwise(function, self.algebra.sized(target, self.source(target_node)))
        if method in _METHODS and not node.args and not node.keywords:
            target = self.visit(target_node)
            return self._special(_METHODS[method], [target], [self.source(target_node)], node)
        self.fail(node, f"unknown method .{method}(); known: .applyfunc(f), "
                        f"{', '.join(f'.{m}()' for m in _METHODS)}", column)

    def _call_sympy(self, function, node):
        """A function or class of ``from sympy import *``, called with the values read."""
        args = [self._argument(a) for a in node.args]
        kwargs = {kw.arg: self._argument(kw.value) for kw in node.keywords}
        for arg, arg_node in zip(args, node.args):
            if isinstance(arg, Unsized):
                self.algebra.sized(arg, self.source(arg_node))
        try:
            value = function(*args, **kwargs)
        except BadInput:
            raise
        except Exception as exc:   # SymPy raises many kinds (TypeError, ShapeError, ...)
            self.fail(node, f"cannot evaluate {self.source(node)!r}: {_one_line(exc)}")
        return self._value(value, node)

    def _value(self, value, node):
        """A call's result as an expression the calculus knows; anything else is refused."""
        if isinstance(value, bool):
            self.fail(node, f"{self.source(node)!r} is a truth value, not an expression")
        if isinstance(value, int):
            return sp.Integer(value)
        if isinstance(value, float):
            return sp.Float(value)
        if isinstance(value, sp.MatrixBase) and not isinstance(value, sp.ImmutableMatrix):
            return _calculus_form(sp.ImmutableMatrix(value))
        if isinstance(value, (tuple, list, sp.Tuple)):
            return tuple(self._value(item, node) for item in value)
        if isinstance(value, sp.FunctionClass):
            return value
        if not isinstance(value, (sp.Expr, Boolean)):
            self.fail(node, f"{self.source(node)!r} gives a {type(value).__name__}, not an "
                            "expression")
        try:      # a malformed node (a transform short of arguments) fails here, not later
            value.free_symbols
            for part in sp.preorder_traversal(value):
                if isinstance(part, sp.MatrixExpr):
                    part.shape
        except Exception as exc:   # SymPy raises many kinds
            self.fail(node, f"cannot use {self.source(node)!r}: {_one_line(exc)}")
        return _calculus_form(value)

    def _string(self, node, what: str) -> str:
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            self.fail(node, f"{what} must be a string")
        text = node.value.strip()
        return text

    def _symbol_name(self, node, call: str) -> str:
        text = self._string(node, f"the name in {call}(...)")
        if not _symbol_name_ok(text):
            self.fail(node, f"{text!r} is not a symbol name (letters, digits, _, or a "
                            "LaTeX-style name such as W^{[2]})")
        return text

    def _naming(self, call: str, node):
        """Symbol("c"), Dummy("c"), symbols("a b"): real scalars; MatrixSymbol("z", n, 1)."""
        if call == "MatrixSymbol":
            if len(node.args) != 3 or node.keywords:
                self.fail(node, 'MatrixSymbol takes a name and two sizes: '
                                'MatrixSymbol("z", n, 1)')
            name = self._symbol_name(node.args[0], call)
            shape = (self._size(node.args[1]), self._size(node.args[2]))
            return self._matrix_symbol(name, shape, node)
        if len(node.args) != 1:
            self.fail(node, f'{call} takes one name: {call}("t")')
        assumptions = {}
        for keyword in node.keywords:
            if not (isinstance(keyword.value, ast.Constant)
                    and isinstance(keyword.value.value, bool)):
                self.fail(keyword.value, f"{call}'s assumption {keyword.arg}= must be True or "
                                         "False")
            assumptions[keyword.arg] = keyword.value.value
        if call == "symbols":
            text = self._string(node.args[0], "the names in symbols(...)")
            names = [part for part in re.split(r"[\s,]+", text) if part]
            if not names or not all(_symbol_name_ok(part) for part in names):
                self.fail(node.args[0], f"cannot read the names {text!r}")
            found = tuple(self._scalar(part, assumptions, node) for part in names)
            return found[0] if len(found) == 1 else found
        return self._scalar(self._symbol_name(node.args[0], call), assumptions, node)

    def _scalar(self, name: str, assumptions: dict, node):
        namespace = self.namespace
        try:
            symbol = sp.Symbol(name, **{"real": True, **assumptions})
        except Exception as exc:   # an unknown or inconsistent assumption
            self.fail(node, f"cannot make the symbol {name!r}: {_one_line(exc)}")
        if name in namespace.shapes:
            self.fail(node, f"{name} is declared with the shape "
                            f"{_fmt_shape(namespace.shapes[name])}, not as a scalar")
        existing = namespace.symbols.get(name)
        if isinstance(existing, sp.MatrixSymbol):
            self.fail(node, f"{name} is the {_fmt_shape(existing.shape)} matrix {name} "
                            "elsewhere in EXPR, not a scalar")
        if existing is not None or name in namespace.scalars or namespace.scalar_only:
            existing = namespace.lookup(name)
            if existing != symbol:
                self.fail(node, f"{self.source(node)} has other assumptions than the scalar "
                                f"{name} (declared real)")
            return existing
        namespace.symbols[name] = symbol
        return symbol

    def _matrix_symbol(self, name: str, shape: tuple, node):
        namespace = self.namespace
        if namespace.scalar_only:
            self.fail(node, "a MatrixSymbol in the body of a Lambda: an entrywise function "
                            "is a function of numbers")
        if name in namespace.scalars:
            self.fail(node, f"{name} is declared as a scalar, not as a matrix")
        declared = namespace.shapes.get(name)
        if declared is not None and tuple(declared) != shape:
            self.fail(node, f"{self.source(node)} is {_fmt_shape(shape)} but {name} is "
                            f"declared {_fmt_shape(declared)}")
        existing = namespace.symbols.get(name)
        if existing is not None and (not isinstance(existing, sp.MatrixSymbol)
                                     or tuple(existing.shape) != shape):
            kind = "a scalar" if not is_matrix(existing) else _fmt_shape(existing.shape)
            self.fail(node, f"{self.source(node)} is {_fmt_shape(shape)} but {name} is "
                            f"{kind} elsewhere in EXPR")
        symbol = sp.MatrixSymbol(name, *shape)
        namespace.symbols[name] = symbol
        return symbol

    def _size(self, node):
        """A size: a positive integer, a size name (``n``, ``Symbol("n")``) or + - * of sizes."""
        if isinstance(node, ast.Constant) and type(node.value) is int:
            if node.value < 1:
                self.fail(node, f"size {node.value} must be at least 1")
            return node.value
        if isinstance(node, ast.Name):
            return sp.Symbol(node.id)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id == "Symbol" and len(node.args) == 1 and not node.keywords:
            return sp.Symbol(self._symbol_name(node.args[0], "Symbol"))
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult)):
            left, right = self._size(node.left), self._size(node.right)
            op = type(node.op)
            return left + right if op is ast.Add else left - right if op is ast.Sub \
                else left * right
        self.fail(node, f"a size must be a positive integer or a size name such as n, got "
                        f"{self.source(node)!r}")

    def _sized(self, call: str, node):
        """Identity(n), ZeroMatrix(m, n), OneMatrix(1, n), CommutationMatrix(m, n)."""
        constructor, count = _SIZED[call]
        if len(node.args) != count or node.keywords:
            sizes = "n" if count == 1 else "m, n"
            self.fail(node, f"{call} takes {_count(count, 'size')}: {call}({sizes})")
        return constructor(*[self._size(arg) for arg in node.args])

    def _number(self, call: str, node):
        """S("1/2"), Rational("3/4"), Integer("3"), Float("0.5"): the text is a number only."""
        if len(node.args) != 1 or node.keywords:
            self.fail(node, f'{call} of a string takes just the number: {call}("1/2")')
        text = node.args[0].value.strip()
        if len(text) > 40 or not _NUMBER_TEXT.match(text):
            self.fail(node.args[0], f"{text!r} is not a number")
        exact = "." not in text and "e" not in text.lower()
        if call == "Integer":
            if not (exact and "/" not in text):
                self.fail(node.args[0], f"{text!r} is not an integer")
            return sp.Integer(int(text))
        if call == "Float":
            if "/" in text:
                self.fail(node.args[0], f"{text!r} is not a decimal number")
            return sp.Float(text)
        return sp.Rational(text) if call == "Rational" or exact else sp.Float(text)

    def _lambda_variable(self, node):
        """The variable of Lambda(t, ...): a name, Symbol("t"), Dummy("t"), symbols("t"), (t,)."""
        if isinstance(node, (ast.Tuple, ast.List)) and len(node.elts) == 1:
            return self._lambda_variable(node.elts[0])
        if isinstance(node, ast.Name):
            return sp.Symbol(node.id, real=True)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id in ("Symbol", "Dummy", "symbols") and len(node.args) == 1:
            name = self._symbol_name(node.args[0], node.func.id)
            return sp.Symbol(name, real=True)
        if isinstance(node, (ast.Tuple, ast.List)):
            self.fail(node, "an entrywise function takes one variable: Lambda(t, expr)")
        self.fail(node, 'Lambda\'s first argument must be a name or Symbol("t")')

    def _lambda(self, node):
        """Lambda(t, expr): ``expr`` may use only ``t`` and the scalars."""
        if len(node.args) != 2 or node.keywords:
            self.fail(node, "Lambda takes a variable and an expression: Lambda(t, t*tanh(t))")
        var = self._lambda_variable(node.args[0])
        scope = Namespace(scalars=tuple(dict.fromkeys(self.namespace.scalars + (var.name,))))
        scope.scalar_only = True
        scope.symbols.update({name: symbol for name, symbol in self.namespace.symbols.items()
                              if isinstance(symbol, sp.Symbol)})
        scope.symbols[var.name] = var
        body = SympySyntaxReader(self.text, scope, self.where).visit(node.args[1])
        if is_matrix(body) or not isinstance(body, sp.Expr):
            self.fail(node.args[1], "the body of a Lambda must be a scalar expression")
        return sp.Lambda(var, body)

    def _function(self, node):
        """The argument of .applyfunc: a function name, Lambda(t, expr), or a SymPy function."""
        if isinstance(node, ast.Name):
            function = scalar_function(node.id)
            if function is not None:
                return function
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id == "Lambda":
            return self._lambda(node)
        self.fail(node, f"applyfunc needs a function name (tanh, sigmoid, exp, ...) or "
                        f"Lambda(t, expr); got {self.source(node)!r}")

    def _special(self, kind, args, texts, node):
        algebra = self.algebra
        if kind in ("hadamard", "matmul", "matadd"):
            if not args:
                self.fail(node, f"{self.source(node.func)} needs at least one argument")
            combine = {"hadamard": algebra.hadamard, "matmul": algebra.mul,
                       "matadd": algebra.add}[kind]
            joiner = {"hadamard": " ⊙ ", "matmul": "*", "matadd": " + "}[kind]
            result, text = args[0], texts[0]
            for value, other in zip(args[1:], texts[1:]):
                result, text = combine(result, value, text, other), f"{text}{joiner}{other}"
            return result
        if kind == "matpow":
            if len(args) != 2:
                self.fail(node, "MatPow takes a matrix and an exponent")
            return algebra.power(args[0], args[1], texts[0])
        if len(args) != 1:
            self.fail(node, f"{kind} takes one argument")
        (arg,), (text,) = args, texts
        if kind == "logdet":
            return sp.log(algebra.det(arg, text))
        if kind == "diagonal_of":
            algebra.square_matrix(arg, text, "DiagonalOf")
            return arg if is_one_by_one(arg) else sp.DiagonalOf(arg)
        if kind == "norm":      # SymPy's norm: of a matrix, the Frobenius norm
            return algebra.norm(arg, "F", ta=text)
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


# --- writing SymPy syntax -----------------------------------------------------------------------
# The writer sits beside the reader because they share one contract: what it writes,
# SympySyntaxReader reads back to an equal expression (with the same shapes and scalars).

# Nodes printed as a name or a call, which ``.T`` and ``.applyfunc`` may follow unbracketed.
_POSTFIX_SAFE = (sp.MatrixSymbol, sp.Identity, sp.ZeroMatrix, sp.OneMatrix, sp.Transpose,
                 ElementwiseApplyFunction, sp.HadamardProduct, sp.HadamardPower,
                 sp.KroneckerProduct, sp.DiagMatrix, sp.DiagonalOf, Softmax, CommutationMatrix)


def _plain_name(name: str) -> bool:
    """A name the reader reads back as the variable of that name when written bare."""
    return name.isidentifier() and not keyword.iskeyword(name) and "__" not in name \
        and name not in _CONSTANTS and name != "S"          # S.T would read as S.<singleton>


class SympySyntaxPrinter(StrPrinter):
    """SymPy syntax (``str`` of SymPy, where that reads back) for the calculus' expressions.

    Differs from ``str``: ``Identity(n)``, ``ZeroMatrix(m, n)``, ``OneMatrix(1, n)`` (not
    ``I``, ``0``, ``1``), ``hadamard_product(a, b)``, ``(W*x + b).applyfunc(sigmoid)`` and
    ``.applyfunc(Lambda(t, 1 - tanh(t)**2))`` (not ``Lambda(_d, ...).(W*x + b)``), a 1×1
    matrix used as a number in brackets ``(x.T*x)``, ``norm``, ``softmax``, ``logsumexp``, and
    names that are not Python identifiers as ``MatrixSymbol("W^{[2]}", m, n)``.
    """

    def __init__(self, taken=(), settings=None):
        super().__init__(settings)
        self.taken = set(taken)

    def _postfix(self, expr) -> str:
        text = self._print(expr)
        return text if isinstance(expr, _POSTFIX_SAFE) else f"({text})"

    def _print_Symbol(self, expr):
        return expr.name if _plain_name(expr.name) else f"Symbol({json.dumps(expr.name)})"

    def _print_MatrixSymbol(self, expr):
        if _plain_name(expr.name):
            return expr.name
        rows, cols = (self._print(size) for size in expr.shape)
        return f"MatrixSymbol({json.dumps(expr.name)}, {rows}, {cols})"

    def _print_Identity(self, expr):
        return f"Identity({self._print(expr.rows)})"

    def _print_ZeroMatrix(self, expr):
        return f"ZeroMatrix({self._print(expr.rows)}, {self._print(expr.cols)})"

    def _print_OneMatrix(self, expr):
        return f"OneMatrix({self._print(expr.rows)}, {self._print(expr.cols)})"

    def _print_Transpose(self, expr):
        return f"{self._postfix(expr.arg)}.T"

    def _print_HadamardProduct(self, expr):
        return f"hadamard_product({', '.join(self._print(arg) for arg in expr.args)})"

    def _variable_name(self) -> str:
        for name in ("t", "s", "u", "r", *(f"t_{k}" for k in range(len(self.taken) + 1))):
            if name not in self.taken:
                return name
        raise AssertionError("unreachable: there is always a free name")

    def _print_Lambda(self, expr):
        (var,), body = expr.variables, expr.expr
        fresh = sp.Symbol(self._variable_name(), real=True)
        return f"Lambda({fresh.name}, {self._print(body.xreplace({var: fresh}))})"

    def _print_ElementwiseApplyFunction(self, expr):
        head = lambda_head(expr.function)
        function = head.__name__ if head is not None and scalar_function(head.__name__) is head \
            else self._print(expr.function)
        return f"{self._postfix(expr.expr)}.applyfunc({function})"

    def _print_AsScalar(self, expr):
        return f"({self._print(expr.matrix)})"

    def _print_Function(self, expr):
        args = [self._print(a.matrix) if isinstance(a, AsScalar) else self._print(a)
                for a in expr.args]
        return f"{expr.func.__name__}({', '.join(args)})"

    def _print_MatNorm(self, expr):
        return f"norm({self._print(expr.matrix)})"

    def _print_Softmax(self, expr):
        return f"softmax({self._print(expr.vector)})"

    def _print_LogSumExp(self, expr):
        return f"logsumexp({self._print(expr.vector)})"


def to_sympy_syntax(expr) -> str:
    """``expr`` as SymPy-syntax text that :class:`SympySyntaxReader` reads back to an equal
    expression, given the same shapes and scalars.

    >>> n = sp.Symbol("n")
    >>> W, x = sp.MatrixSymbol("W", n, n), sp.MatrixSymbol("x", n, 1)
    >>> sigmoid = ACTIVATIONS.get("sigmoid").function
    >>> text = to_sympy_syntax(sp.DiagMatrix(elementwise(sigmoid, W*x)) * W)
    >>> text
    'DiagMatrix((W*x).applyfunc(sigmoid))*W'
    >>> read_expression(text, Namespace()) == sp.DiagMatrix(elementwise(sigmoid, W*x)) * W
    True
    """
    taken = {s.name for s in expr.atoms(sp.Symbol, sp.MatrixSymbol)} \
        if isinstance(expr, sp.Basic) else set()
    return SympySyntaxPrinter(taken).doprint(expr)


__all__ = ["Namespace", "Algebra", "parse_shape_spec", "read_expression", "size_of",
           "looks_like_sympy", "SympySyntaxReader", "known_functions", "Unsized", "DEFAULT_SIZE",
           "AsScalar", "sympy_names", "to_sympy_syntax", "SympySyntaxPrinter"]
