"""Expression nodes of the matrix calculus that SymPy lacks, and shape helpers.

SymPy's matrix expressions (``MatrixSymbol``, ``MatMul``, ``MatAdd``, ``Transpose``, ``Inverse``,
``Trace``, ``Determinant``, ``HadamardProduct``, ``ElementwiseApplyFunction``, ``DiagMatrix``,
``DiagonalOf``) are used as they are.  This module adds:

- :class:`AsScalar` — a 1×1 matrix expression read as a number (``vᵀAv`` inside ``log(·)`` or
  as a coefficient);
- :class:`MatNorm` — the 2-norm of a vector / Frobenius norm of a matrix;
- :class:`Softmax` — softmax of a column, or of each column of a matrix (a batch), same shape;
- :class:`LogSumExp` — log Σ_i exp(z_i) of a column (a scalar);
- :class:`Vec`, :class:`CommutationMatrix` — vec(M) and K_{r,c} of the vec convention;
- :class:`Entrywise2` — f(A, B) applied entry by entry to two matrices of one shape (a loss
  ℓ(Ŷ, Y), its derivative, a fused output signal);
- :func:`prime_function` — the SymPy function Φ' of a named function Φ
  (:class:`~derive.calculus.functions.NamedFunction`), printed ``\\sigma'(z)``;
- :func:`elementwise` / :func:`elementwise_derivative` — Φ(Z) and Φ'(Z) applied entrywise.

Each node's vector-Jacobian rule is in :mod:`.vjp_rules`.

Glossary: ``M``, ``Z`` matrix expressions; ``z`` a column; ``d`` the dummy argument of an
elementwise function; Φ an elementwise function; ``u``, ``v`` (:data:`U`, :data:`V`) the two
scalar arguments of an :class:`Entrywise2` function.
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.hadamard import canonicalize as canonicalize_hadamard

from .functions import NamedFunction

_ARG = sp.Dummy("d", real=True)


def is_matrix(expr) -> bool:
    """True for a matrix expression (any shape, 1×1 included)."""
    return isinstance(expr, sp.MatrixExpr)


def shape_of(expr) -> tuple:
    """(rows, cols) of a matrix expression; (1, 1) for a scalar."""
    return tuple(expr.shape) if is_matrix(expr) else (1, 1)


def is_one_by_one(expr) -> bool:
    return is_matrix(expr) and expr.shape[0] == 1 and expr.shape[1] == 1


def is_column(expr) -> bool:
    return is_matrix(expr) and expr.shape[1] == 1


def is_row(expr) -> bool:
    return is_matrix(expr) and expr.shape[0] == 1


def is_vector(expr) -> bool:
    return is_column(expr) or is_row(expr)


class AsScalar(sp.Expr):
    """A 1×1 matrix expression used as a number: AsScalar(vᵀ A v).

    Prints as its argument; its cotangent is passed to the argument unchanged.
    """

    is_commutative = True

    def __new__(cls, matrix):
        if not is_one_by_one(matrix):
            raise ValueError(f"AsScalar needs a 1×1 matrix expression, got {matrix}")
        return sp.Expr.__new__(cls, matrix)

    @property
    def matrix(self):
        return self.args[0]

    def _eval_is_real(self):
        return True


def to_scalar(matrix) -> sp.Expr:
    """A 1×1 matrix expression as a scalar, scalar coefficients pulled out.

    >>> v = sp.MatrixSymbol("v", 3, 1)
    >>> to_scalar(2 * v.T * v)
    2*AsScalar(v.T*v)
    """
    if not is_matrix(matrix):
        return matrix
    if isinstance(matrix, sp.MatMul):
        coeff, factors = matrix.as_coeff_matrices()
        if coeff != 1:
            return coeff * to_scalar(sp.MatMul(*factors).doit(deep=False))
    if isinstance(matrix, sp.ZeroMatrix):
        return sp.S.Zero
    if isinstance(matrix, sp.Identity) or isinstance(matrix, sp.OneMatrix):
        return sp.S.One
    if isinstance(matrix, sp.Transpose):
        return to_scalar(matrix.arg)
    return AsScalar(matrix)


class MatNorm(sp.Expr):
    """‖M‖: the 2-norm of a vector, the Frobenius norm of a matrix (the same formula)."""

    is_commutative = True

    def __new__(cls, matrix):
        return sp.Expr.__new__(cls, matrix)

    @property
    def matrix(self):
        return self.args[0]

    def _eval_is_real(self):
        return True

    def _eval_is_nonnegative(self):
        return True


class LogSumExp(sp.Expr):
    """lse(z) = log Σ_i exp(z_i) for a column z; its gradient is softmax(z)."""

    is_commutative = True

    def __new__(cls, z):
        if not is_column(z):
            raise ValueError(f"logsumexp needs a column vector, got shape {shape_of(z)}")
        return sp.Expr.__new__(cls, z)

    @property
    def vector(self):
        return self.args[0]

    def _eval_is_real(self):
        return True


class ExplicitWhenConcrete(sp.MatrixExpr):
    """A node whose ``doit()`` gives an explicit matrix once its arguments are explicit
    matrices (``_entry`` is then asked for concrete indices only, never symbolic ones)."""

    def doit(self, **hints):
        args = [a.doit(**hints) if isinstance(a, sp.Basic) and hints.get("deep", True) else a
                for a in self.args]
        node = type(self)(*args)
        if all(isinstance(a, sp.MatrixBase) for a in args if isinstance(a, sp.MatrixExpr)
               or isinstance(a, sp.MatrixBase)):
            rows, cols = node.shape
            return sp.ImmutableMatrix(rows, cols, lambda i, j: node._entry(i, j))
        return node


class Softmax(ExplicitWhenConcrete):
    """softmax of each column: S_ij = exp(Z_ij) / Σ_k exp(Z_kj); same shape as Z.

    For a column z it is the usual softmax(z) = exp(z) / Σ_i exp(z_i); for a batch Z
    (samples as columns) it is the softmax of every sample.
    """

    def __new__(cls, z):
        if not is_matrix(z):
            raise ValueError(f"softmax needs a vector or a matrix, got {z}")
        return sp.MatrixExpr.__new__(cls, z)

    @property
    def vector(self):
        return self.args[0]

    arg = vector

    @property
    def shape(self):
        return self.args[0].shape

    def _entry(self, i, j, **kwargs):
        Z = self.args[0]
        return sp.exp(Z[i, j]) / sp.Add(*[sp.exp(Z[k, j]) for k in range(Z.shape[0])])


class Vec(sp.MatrixExpr):
    """vec(M): the columns of M (r×c) stacked into one column, rc×1."""

    def __new__(cls, matrix):
        return sp.MatrixExpr.__new__(cls, matrix)

    @property
    def arg(self):
        return self.args[0]

    @property
    def shape(self):
        rows, cols = self.args[0].shape
        return (rows * cols, sp.S.One)

    def _entry(self, i, j, **kwargs):
        rows = self.args[0].shape[0]
        return self.args[0][i % rows, i // rows]


class CommutationMatrix(sp.MatrixExpr):
    """K_{r,c}: the rc×rc permutation with K_{r,c} vec(A) = vec(Aᵀ) for every r×c matrix A."""

    def __new__(cls, rows, cols):
        return sp.MatrixExpr.__new__(cls, sp.sympify(rows), sp.sympify(cols))

    @property
    def shape(self):
        rows, cols = self.args
        return (rows * cols, rows * cols)

    def _eval_transpose(self):
        return CommutationMatrix(self.args[1], self.args[0])

    def _entry(self, i, j, **kwargs):
        rows, cols = self.args
        # row i = b + a c holds vec(Aᵀ)'s entry A[a, b], which vec(A) keeps at a + b r
        return sp.KroneckerDelta(j, (i // cols) + (i % cols) * rows)


U = sp.Symbol("u", real=True)
V = sp.Symbol("v", real=True)


class Entrywise2(ExplicitWhenConcrete):
    """f(A, B) entry by entry; ``function`` a Lambda of two variables.

    >>> n = sp.Symbol("n")
    >>> a, y = sp.MatrixSymbol("a", n, 1), sp.MatrixSymbol("y", n, 1)
    >>> Entrywise2(sp.Lambda((U, V), U - V), a, y).shape
    (n, 1)
    """

    def __new__(cls, function: sp.Lambda, first, second):
        if tuple(first.shape) != tuple(second.shape):
            raise ValueError(f"entrywise function of shapes {first.shape} and {second.shape}")
        return sp.MatrixExpr.__new__(cls, function, first, second)

    @property
    def function(self) -> sp.Lambda:
        return self.args[0]

    @property
    def shape(self):
        return self.args[1].shape

    def body(self, first=None, second=None) -> sp.Expr:
        """The scalar body with its variables replaced by ``first`` and ``second``."""
        (u, v), expr = self.function.variables, self.function.expr
        return expr.xreplace({u: first if first is not None else U,
                              v: second if second is not None else V})

    def partial(self, argindex: int) -> "Entrywise2":
        """∂f/∂(argument ``argindex``) as an entrywise function of the same arguments."""
        (u, v), expr = self.function.variables, self.function.expr
        variable = (u, v)[argindex]
        derivative = sp.diff(expr, variable).replace(sp.DiracDelta, lambda *a: sp.S.Zero)
        return Entrywise2(sp.Lambda((u, v), derivative), self.args[1], self.args[2])

    def _entry(self, i, j, **kwargs):
        return self.body(self.args[1][i, j], self.args[2][i, j])


def entrywise2(expr: sp.Expr, first_symbol: sp.Symbol, second_symbol: sp.Symbol, first, second):
    """The matrix f(first, second) for a scalar ``expr`` of two symbols.

    A body free of the second symbol is an ordinary elementwise function of the first.
    """
    function = sp.Lambda((U, V), expr.xreplace({first_symbol: U, second_symbol: V}))
    return Entrywise2(function, first, second)


class ActivationPrime(sp.Function):
    """Base of Φ' functions: ``prime_function(sigmoid)(z)`` prints σ'(z), evaluates Φ'.

    ``base`` is the :class:`~derive.calculus.functions.NamedFunction` class of Φ.
    """

    base: type
    nargs = 1

    def explicit(self) -> sp.Expr:
        return self.base.entry.derivative_at(self.args[0])

    def fdiff(self, argindex=1):
        return sp.diff(self.explicit(), self.args[0]) if self.args[0].is_Symbol else \
            sp.diff(self.explicit().subs(self.args[0], _ARG), _ARG).subs(_ARG, self.args[0])

    def _eval_is_real(self):
        return self.args[0].is_real

    def _latex(self, printer, exp=None):
        name = f"{self.base.entry.latex}'"
        if exp is not None:
            name = f"{{{name}}}^{{{exp}}}"
        return rf"{name}\left({printer._print(self.args[0])}\right)"


_PRIMES: dict = {}


def prime_function(function: type) -> type:
    """The SymPy function Φ' of a named function's class (one class per Φ)."""
    if function not in _PRIMES:
        _PRIMES[function] = type(f"{function.__name__}_prime", (ActivationPrime,),
                                 {"base": function, "__module__": __name__})
    return _PRIMES[function]


def matrix_sum(*terms) -> sp.MatrixExpr:
    """Σ terms in SymPy's canonical form (nested sums flattened, like terms added, zeros
    dropped, terms sorted), built without ``MatAdd.doit``: that re-multiplies each collected
    term with ``*``, a deep ``doit`` that would fuse σ(sin(x)) into one function with a fresh
    dummy and distribute transposes of sums.

    >>> n = sp.Symbol("n")
    >>> x, a = sp.MatrixSymbol("x", n, 1), sp.MatrixSymbol("a", n, 1)
    >>> matrix_sum(x, -a, x)
    -a + 2*x
    """
    flat: list = []
    for term in terms:
        coeff, matrix = term.as_coeff_mmul()
        if isinstance(matrix, sp.MatMul) and len(matrix.args) == 1:
            matrix = matrix.args[0]
        if isinstance(matrix, sp.MatAdd):       # c (A + B) among other terms: c A + c B
            flat.extend(part if coeff == 1 else sp.MatMul(coeff, part).doit(deep=False)
                        for part in matrix.args)
        else:
            flat.append(term)
    coefficients: dict = {}
    for term in flat:
        if isinstance(term, sp.ZeroMatrix):
            continue
        coeff, matrix = term.as_coeff_mmul()
        if isinstance(matrix, sp.MatMul) and len(matrix.args) == 1:
            matrix = matrix.args[0]
        coefficients[matrix] = coefficients.get(matrix, sp.S.Zero) + coeff
    kept = []
    for matrix, coeff in coefficients.items():
        if coeff == 0:
            continue
        if coeff == 1:
            kept.append(matrix)
        elif isinstance(matrix, sp.MatMul):
            kept.append(sp.MatMul(coeff, *matrix.args).doit(deep=False))
        else:
            kept.append(sp.MatMul(coeff, matrix))
    if not kept:
        return sp.ZeroMatrix(*flat[0].shape)
    if len(kept) == 1:
        return kept[0]
    return sp.MatAdd(*sorted(kept, key=sp.default_sort_key))


def hadamard_of(*factors) -> sp.MatrixExpr:
    """A ⊙ B ⊙ … in SymPy's canonical form (flattened, sorted, ones dropped, repeats as
    Hadamard powers), without ``sp.hadamard_product``'s deep ``doit``, which fuses nested
    elementwise functions with a fresh dummy."""
    if len(factors) == 1:
        return factors[0]
    return canonicalize_hadamard(sp.HadamardProduct(*factors))


def canonical_lambda(function) -> sp.Lambda:
    """``function`` (a SymPy function class or a Lambda of one variable) as d ↦ Φ(d) with the
    module's one dummy d, so that equal functions are structurally equal.

    >>> t = sp.Symbol("t", real=True)
    >>> s = sp.Symbol("s")
    >>> canonical_lambda(sp.Lambda(t, t**2)) == canonical_lambda(sp.Lambda(s, s**2))
    True
    """
    if isinstance(function, sp.Lambda):
        (var,), body = function.variables, function.expr
        return function if var == _ARG else sp.Lambda(_ARG, body.xreplace({var: _ARG}))
    return sp.Lambda(_ARG, function(_ARG))


def elementwise(function, matrix) -> sp.MatrixExpr:
    """Φ applied to every entry of ``matrix`` (same shape); ``function`` a SymPy function class
    or a Lambda of one variable.

    >>> n = sp.Symbol("n")
    >>> elementwise(sp.tanh, sp.MatrixSymbol("z", n, 1)).shape
    (n, 1)
    """
    return ElementwiseApplyFunction(canonical_lambda(function), matrix)


def lambda_head(function: sp.Lambda):
    """The function class F when ``function`` is d ↦ F(d), else ``None``."""
    (var,), body = function.variables, function.expr
    if isinstance(body, sp.Function) and body.args == (var,):
        return type(body)
    return None


def scalar_derivative(function: sp.Lambda) -> sp.Lambda:
    """Φ' as a Lambda: a named function's ``derivative_at`` (printed Φ'), else sympy.diff."""
    (var,), body = function.variables, function.expr
    head = lambda_head(function)
    if head is not None and issubclass(head, NamedFunction):
        entry = head.entry
        derivative = entry.printed_derivative
        # Not ``is_constant()``: it differentiates, and step' = 0 would make step(x) "constant".
        if not derivative.free_symbols:
            return sp.Lambda(_ARG, derivative)
        return sp.Lambda(_ARG, prime_function(head)(_ARG))
    derivative = sp.diff(body, var).replace(sp.DiracDelta, lambda *a: sp.S.Zero)
    return sp.Lambda(_ARG, derivative.subs(var, _ARG))


def elementwise_derivative(node: ElementwiseApplyFunction):
    """Φ'(Z) for Φ(Z): a matrix expression, or a number when Φ' is constant (identity)."""
    derivative = scalar_derivative(node.function)
    if not derivative.expr.has(derivative.variables[0]):
        return derivative.expr
    return elementwise(derivative, node.expr)


__all__ = ["AsScalar", "MatNorm", "LogSumExp", "Softmax", "Vec", "CommutationMatrix",
           "ExplicitWhenConcrete", "Entrywise2", "entrywise2", "U", "V", "ActivationPrime",
           "prime_function", "elementwise", "canonical_lambda", "matrix_sum",
           "hadamard_of", "elementwise_derivative", "lambda_head", "scalar_derivative",
           "to_scalar", "is_matrix", "shape_of", "is_column", "is_row", "is_vector",
           "is_one_by_one"]
