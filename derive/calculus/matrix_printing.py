"""Printers for matrix-calculus results: LaTeX as a textbook writes it, and one NumPy expression.

:class:`MatrixLatexPrinter` prints ``A^{T}``, ``X^{-T}``, ``\\odot``, ``\\det``, ``\\operatorname{tr}``,
``\\sigma'(z)``, ``\\|x\\|``.  :class:`MatrixNumpyPrinter` extends the package's
:class:`~derive.calculus.numpy_code.NumpyCodePrinter` with ``@``, ``.T``, ``np.linalg.*`` and
explicit elementwise functions; symbolic sizes are printed as ``name.shape[i]`` of a variable
that has them, so the code needs nothing but the variables.

>>> n = sp.Symbol("n")
>>> A, v = sp.MatrixSymbol("A", n, n), sp.MatrixSymbol("v", n, 1)
>>> numpy_matrix_code((A + A.T) * v)
'(A + A.T) @ v'
>>> latex_matrix(sp.Transpose(v) * A)
'v^{T} A'
"""

from __future__ import annotations

import keyword
import re

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.printing.latex import LatexPrinter

from .functions import NamedFunction
from .latex_names import GREEK
from .matrix_nodes import ActivationPrime, AsScalar, Softmax, Vec, is_matrix
from .numpy_code import NumpyCodePrinter

_PLACEHOLDER = "XARGPLACEHOLDERX"


def identifier(name: str) -> str:
    """A Python identifier for a variable name (``W^{[2]}`` → ``W_2``)."""
    text = re.sub(r"[^0-9A-Za-z_]+", "_", name).strip("_")
    text = re.sub(r"_+", "_", text) or "v"
    if keyword.iskeyword(text) or text == "np":
        text += "_"
    return text if not text[0].isdigit() else "v_" + text


def hadamard_order(args):
    """The factors of a Hadamard product in textbook order: Φ'(z) ⊙ g — elementwise derivatives
    first, the rest as SymPy sorts them."""
    def is_derivative(arg):
        return isinstance(arg, ElementwiseApplyFunction) and any(
            isinstance(f, ActivationPrime) for f in sp.preorder_traversal(arg.function.expr))
    return sorted(args, key=lambda a: 0 if is_derivative(a) else 1)


def _is_compound(arg) -> bool:
    """An entrywise function whose formula is not one call (``1 - tanh^2(z)``, ``z tanh(z)``):
    it needs parentheses beside ⊙ or under ᵀ to read as one factor."""
    if not isinstance(arg, ElementwiseApplyFunction):
        return False
    (var,), body = arg.function.variables, arg.function.expr
    return not (isinstance(body, sp.Function) and body.args == (var,))


def textbook_terms(expr) -> list:
    """The terms of a sum in the order a textbook writes them: positive terms first (x − a,
    not −a + x), terms with a symbolic scalar coefficient after the others (Xᵀ(Xw − y) + λw),
    otherwise SymPy's canonical order."""
    def key(term):
        coeff = term.as_coeff_matrices()[0] if isinstance(term, sp.MatMul) else sp.S.One
        return (1 if term.could_extract_minus_sign() else 0,
                0 if sp.sympify(coeff).is_number else 1)
    return sorted(expr.args, key=key)


def join_terms(parts: list) -> str:
    """The printed terms of a sum joined with ``+``, or ``-`` for a term printed with a sign."""
    text = parts[0]
    for part in parts[1:]:
        text += f" - {part[1:].lstrip()}" if part.startswith("-") else f" + {part}"
    return text


class MatrixLatexPrinter(LatexPrinter):
    """LaTeX of matrix expressions in textbook notation."""

    def _print_MatAdd(self, expr):
        return join_terms([self._print(term) for term in textbook_terms(expr)])

    def _print_HadamardProduct(self, expr):
        parts = []
        for arg in hadamard_order(expr.args):
            text = self._print(arg)
            if isinstance(arg, (sp.MatAdd, sp.MatMul, sp.HadamardProduct)) or _is_compound(arg):
                text = rf"\left({text}\right)"
            parts.append(text)
        return r" \odot ".join(parts)

    def _print_Mul(self, expr):
        # Inside an entrywise formula a product of two matrix-valued factors is ⊙, not
        # juxtaposition: (W x) ⊙ (1 − tanh²(W x)), never (W x)(1 − tanh²(W x)).
        placeholder = sp.Symbol(_PLACEHOLDER)
        coeff, rest = expr.as_coeff_Mul()
        factors = sp.Mul.make_args(rest)
        dependent = [f for f in factors if f.has(placeholder)]
        if len(dependent) < 2 or any(f.is_Pow and f.exp.is_negative for f in dependent):
            return super()._print_Mul(expr)
        scalar = coeff * sp.Mul(*[f for f in factors if not f.has(placeholder)])
        sign = ""
        if scalar.could_extract_minus_sign():
            sign, scalar = "- ", -scalar
        texts = [rf"\left({self._print(f)}\right)" if f.is_Add else self._print(f)
                 for f in dependent]
        head = "" if scalar == 1 else self._print(scalar) + " "
        return sign + head + r" \odot ".join(texts)

    def _print_Determinant(self, expr):
        return rf"\det\left({self._print(expr.arg)}\right)"

    def _print_Trace(self, expr):
        return rf"\operatorname{{tr}}\left({self._print(expr.arg)}\right)"

    def _print_Inverse(self, expr):
        arg = expr.arg
        if isinstance(arg, sp.Transpose) and isinstance(arg.arg, sp.MatrixSymbol):
            return f"{self._print(arg.arg)}^{{-T}}"
        if isinstance(arg, sp.MatrixSymbol):
            return f"{self._print(arg)}^{{-1}}"
        return rf"\left({self._print(arg)}\right)^{{-1}}"

    def _print_Transpose(self, expr):
        arg = expr.arg
        if _is_compound(arg):
            return rf"\left({self._print(arg)}\right)^{{T}}"
        if isinstance(arg, (Softmax, ElementwiseApplyFunction, sp.DiagMatrix, sp.DiagonalOf,
                            Vec)):
            return f"{self._print(arg)}^{{T}}"
        if isinstance(arg, sp.OneMatrix):
            return r"\mathbf{1}^{T}"
        if isinstance(arg, sp.MatrixSymbol) and re.fullmatch(r".*\^\{[\[(][^{}]*[\])]\}", arg.name):
            return arg.name[:-1] + "T}"                  # a^{[2]} transposed: a^{[2]T}
        return super()._print_Transpose(expr)

    def _print_OneMatrix(self, expr):
        rows, cols = expr.shape
        if rows == 1 and cols != 1:
            return r"\mathbf{1}^{T}"
        return r"\mathbf{1}" if cols == 1 else rf"\mathbf{{1}}_{{{self._print(rows)}\times{{}}{self._print(cols)}}}"

    def _print_MatMul(self, expr):
        coeff, factors = expr.as_coeff_matrices()
        numer, denom = sp.fraction(coeff, exact=True)
        if denom == 1 or not factors:
            return super()._print_MatMul(expr)
        top = self._print(sp.MatMul(numer, *factors).doit(deep=False)) if numer != 1 or \
            len(factors) > 1 else self._print(factors[0])
        bottom = self._print(denom.matrix if isinstance(denom, AsScalar) else denom)
        return rf"\frac{{{top}}}{{{bottom}}}"

    def _print_exp(self, expr, exp=None):
        arg = expr.args[0]
        if exp is None and (isinstance(arg, AsScalar) or arg.could_extract_minus_sign() and
                            isinstance(-arg, AsScalar)):
            inner = self._print(arg.matrix if isinstance(arg, AsScalar) else (-arg).matrix)
            return f"e^{{{inner}}}" if isinstance(arg, AsScalar) else f"e^{{- {inner}}}"
        return self._print_ExpBase(expr, exp)

    def _print_AsScalar(self, expr):
        inner = self._print(expr.matrix)
        return inner if isinstance(expr.matrix, sp.MatrixSymbol) else rf"\left({inner}\right)"

    def _print_MatNorm(self, expr):
        inner = self._print(expr.matrix)
        rows, cols = expr.matrix.shape
        suffix = "" if rows == 1 or cols == 1 else "_F"
        return rf"\left\|{inner}\right\|{suffix}"

    def _print_Softmax(self, expr):
        return rf"\operatorname{{softmax}}\left({self._print(expr.vector)}\right)"

    def _print_LogSumExp(self, expr):
        return rf"\operatorname{{logsumexp}}\left({self._print(expr.vector)}\right)"

    def _print_DiagMatrix(self, expr):
        return rf"\operatorname{{diag}}\left({self._print(expr.args[0])}\right)"

    def _print_Vec(self, expr):
        return rf"\operatorname{{vec}}\left({self._print(expr.arg)}\right)"

    def _print_CommutationMatrix(self, expr):
        rows, cols = expr.args
        return f"K_{{{self._print(rows)},{self._print(cols)}}}"

    def _print_Identity(self, expr):
        return f"I_{{{self._print(expr.shape[0])}}}"

    def _print_DiagonalOf(self, expr):
        return rf"\operatorname{{diag}}\left({self._print(expr.arg)}\right)"

    def _print_ElementwiseApplyFunction(self, expr):
        (var,), body = expr.function.variables, expr.function.expr
        placeholder = sp.Symbol(_PLACEHOLDER)
        text = self._print(body.xreplace({var: placeholder}))
        arg = self._print(expr.expr)
        called = re.compile(r"\{?\\left\(\s*" + _PLACEHOLDER + r"\s*\\right\)\}?")
        text = called.sub(lambda _: rf"\left({arg}\right)", text)  # \cosh{\left(z \right)}
        atomic = isinstance(expr.expr, (sp.MatrixSymbol,))
        return text.replace(_PLACEHOLDER, arg if atomic else rf"\left({arg}\right)")

    def _print_MatrixSymbol(self, expr):
        name = expr.name
        if "^" in name or "\\" in name or "{" in name:
            # a name as the LaTeX reader spells it: a Greek base without its backslash
            # (alpha^{1} for \alpha^{1})
            base = re.match(r"[A-Za-z]+", name)
            if base and base.group(0) in GREEK and name[base.end():base.end() + 1] in "^_{":
                return "\\" + name
            return name
        return super()._print_MatrixSymbol(expr)


def latex_matrix(expr) -> str:
    """LaTeX of a matrix-calculus expression."""
    return MatrixLatexPrinter().doprint(expr)


class MatrixNumpyPrinter(NumpyCodePrinter):
    """One NumPy expression for a matrix expression; ``dims`` maps a symbolic size to code."""

    def __init__(self, dims: dict | None = None, settings=None):
        super().__init__(settings)
        self.dims = dims or {}

    # sizes and constants
    def _dim(self, size):
        if isinstance(size, (int, sp.Integer)):
            return str(int(size))
        if size in self.dims:
            return self.dims[size]
        # n**2 → A.shape[0]**2: print with placeholder names, then put the code in
        placeholders = {k: sp.Symbol(f"DIMPLACEHOLDER{i}") for i, k in
                        enumerate(sorted(self.dims, key=str))}
        text = self._print(sp.sympify(size).xreplace(placeholders))
        for size_symbol, placeholder in placeholders.items():
            text = text.replace(placeholder.name, self.dims[size_symbol])
        return text

    def _print_Identity(self, expr):
        return f"np.eye({self._dim(expr.shape[0])})"

    def _print_ZeroMatrix(self, expr):
        return f"np.zeros(({self._dim(expr.shape[0])}, {self._dim(expr.shape[1])}))"

    def _print_OneMatrix(self, expr):
        return f"np.ones(({self._dim(expr.shape[0])}, {self._dim(expr.shape[1])}))"

    def _print_MatrixSymbol(self, expr):
        return identifier(expr.name)

    def _print_Symbol(self, expr):
        if expr in self.dims:                    # a size inside a coefficient: m → W.shape[0]
            return self.dims[expr]
        return identifier(expr.name)

    def _wrap(self, expr):
        text = self._print(expr)
        if isinstance(expr, (sp.MatrixSymbol, sp.Symbol, sp.Transpose, sp.Identity, sp.ZeroMatrix,
                             sp.OneMatrix, sp.Inverse, sp.Determinant, sp.Trace, sp.DiagMatrix,
                             sp.DiagonalOf, sp.Integer)) and not text.startswith("-"):
            return text
        return f"({text})"

    # products and sums
    def _print_MatMul(self, expr):
        coeff, factors = expr.as_coeff_matrices()
        body = " @ ".join(self._wrap(f) for f in factors)
        if coeff == 1:
            return body
        if coeff == -1:
            return f"-{body}" if len(factors) == 1 else f"-({body})"
        return f"{self._wrap(coeff)}*({body})" if len(factors) > 1 else f"{self._wrap(coeff)}*{body}"

    def _print_MatAdd(self, expr):
        return join_terms([self._print(term) for term in textbook_terms(expr)])

    def _print_Transpose(self, expr):
        return f"{self._wrap(expr.arg)}.T"

    def _print_HadamardProduct(self, expr):
        return "*".join(self._wrap(a) for a in expr.args)

    def _print_HadamardPower(self, expr):
        return f"{self._wrap(expr.base)}**{self._print(expr.exp)}"

    def _print_MatPow(self, expr):
        return f"np.linalg.matrix_power({self._print(expr.base)}, {self._print(expr.exp)})"

    def _print_Inverse(self, expr):
        return f"np.linalg.inv({self._print(expr.arg)})"

    def _print_Determinant(self, expr):
        return f"np.linalg.det({self._print(expr.arg)})"

    def _print_Trace(self, expr):
        return f"np.trace({self._print(expr.arg)})"

    def _print_DiagMatrix(self, expr):
        return f"np.diagflat({self._print(expr.args[0])})"

    def _print_DiagonalOf(self, expr):
        return f"np.diag({self._print(expr.args[0])})[:, None]"

    def _print_KroneckerProduct(self, expr):
        text = self._print(expr.args[0])
        for factor in expr.args[1:]:
            text = f"np.kron({text}, {self._print(factor)})"
        return text

    def _print_Vec(self, expr):
        return f'np.reshape({self._print(expr.arg)}, (-1, 1), order="F")'

    def _print_CommutationMatrix(self, expr):
        rows, cols = (self._dim(s) for s in expr.args)
        # row b + a c of K picks entry a + b r of vec(A): the F-order index of (a, b)
        return (f"np.eye({rows}*{cols})[np.arange({rows}*{cols}).reshape(({rows}, {cols}), "
                f'order="F").ravel()]')

    # nodes of our own
    def _print_AsScalar(self, expr):
        return f"({self._print(expr.matrix)})"

    def _print_MatNorm(self, expr):
        return f"np.linalg.norm({self._print(expr.matrix)})"

    def _print_Softmax(self, expr):
        # Column by column (a column is one sample), shifted by the column maximum.
        z = self._wrap(expr.vector)
        shifted = f"np.exp({z} - np.max({z}, axis=0, keepdims=True))"
        return f"({shifted}/np.sum({shifted}, axis=0, keepdims=True))"

    def _print_LogSumExp(self, expr):
        z = self._print(expr.vector)
        return f"(np.max({z}) + np.log(np.sum(np.exp({z} - np.max({z})))))"

    # A named function and its derivative print as their explicit formulas, which are
    # operations, not atoms: parenthesised, so that σ(z)**2 and 1/σ(z) keep their meaning.
    # Reached through _print_Function (SymPy's dispatch skips the classes between a Function
    # subclass and Function); subclasses override _print_ActivationPrime.
    def _print_ActivationPrime(self, expr):
        return f"({self._print(expr.explicit())})"

    def _print_Function(self, expr):
        if isinstance(expr, ActivationPrime):
            return self._print_ActivationPrime(expr)
        if isinstance(expr, NamedFunction):
            return f"({self._print(expr.explicit())})"
        return super()._print_Function(expr)

    def _print_ElementwiseApplyFunction(self, expr):
        (var,), body = expr.function.variables, expr.function.expr
        text = self._print(body.xreplace({var: sp.Symbol(_PLACEHOLDER)}))
        return "(" + text.replace(_PLACEHOLDER, self._wrap(expr.expr)) + ")"


def dims_of(*exprs) -> dict:
    """Code for each symbolic size: ``{n: "A.shape[0]"}`` from the variables that carry it."""
    dims: dict = {}
    symbols = set()
    for expr in exprs:
        if isinstance(expr, sp.Basic):
            symbols |= {s for s in expr.atoms(sp.MatrixSymbol)}
            if isinstance(expr, sp.MatrixSymbol):
                symbols.add(expr)
    for symbol in sorted(symbols, key=lambda s: s.name):
        for axis, size in enumerate(symbol.shape):
            if isinstance(size, sp.Symbol) and size not in dims:
                dims[size] = f"{identifier(symbol.name)}.shape[{axis}]"
    return dims


def numpy_matrix_code(expr, dims: dict | None = None, shape: tuple | None = None) -> str:
    """One NumPy expression for ``expr``; with ``shape``, a scalar result is made that shape."""
    printer = MatrixNumpyPrinter(dims if dims is not None else dims_of(expr))
    text = printer.doprint(expr)
    if shape is not None and not is_matrix(expr):
        rows, cols = (printer._dim(s) for s in shape)
        text = f"np.reshape({text}, ({rows}, {cols}))"
    return text


__all__ = ["MatrixLatexPrinter", "MatrixNumpyPrinter", "latex_matrix", "numpy_matrix_code",
           "dims_of", "identifier", "hadamard_order", "join_terms", "textbook_terms"]
