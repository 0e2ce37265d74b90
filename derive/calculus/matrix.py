r"""The matrix-expression calculus: derivatives in closed matrix form, with symbolic sizes.

SymPy's own MatrixSymbol calculus fails on the expressions of neural networks (elementwise
activations, norms of residuals, log-determinants, sums of traces), so this engine is our own.
It works in reverse mode: the cotangent of the expression is pushed to its arguments by one rule
per node (:mod:`.vjp_rules`; each rule is a Magnus–Neudecker differential identity in adjoint
form), and the result is brought into textbook form (:mod:`.tidy`).

- a scalar f: ∇_X f (the shape of X) is the VJP of f with upstream 1; it is the denominator
  layout, and numerator layout is its transpose (SPEC §3.1);
- a vector y ∈ R^m (a row vector counts as the vector of its entries): the VJP with a symbolic
  upstream column g is linear in g, Jᵀ g; the Jacobian is read off it (u ⊙ (N g) = diag(u) N g,
  L gᵀ R = L Rᵀ g, tr(L g R) = R L g; :mod:`.linear`);
- a matrix-valued expression differentiated by anything, or a vector by a matrix, is a tensor of
  order 3 or 4: with ``vec=True`` it is d vec(Y)/d vec(X), built in forward mode with Kronecker
  products (:mod:`.vec`); without, it is refused with that advice.

Tidying (:func:`~.tidy.tidy`) pushes transposes to the leaves, collects common factors
and scalar coefficients, and simplifies entrywise algebra (:mod:`.entrywise`: with σ' = σ(1 − σ)
the sigmoid/cross-entropy gradient cancels to σ(z) − y).

Shapes (numerator layout): ∂y/∂x is m×n, ∂f/∂x is 1×n, ∂f/∂X is q×p for X ∈ R^{p×q};
denominator layout transposes each.

Glossary: f a scalar expression, y a vector one, X / x the variable, g the upstream gradient
(cotangent), J the Jacobian, M = Jᵀ.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from ..errors import BadInput
from .constructors import transpose
from .latex_input import read_latex
from .linear import linear_part
from .matrix_input import read_expression
from .matrix_nodes import elementwise, is_column, is_matrix, is_row, is_vector, shape_of
from .matrix_printing import dims_of, identifier, latex_matrix, numpy_matrix_code
from .namespace import Namespace, shape_text
from .result import JacobianResult, check_layout
from .steps import Rewrite
from .sympy_output import to_sympy_syntax
from .tidy import tidy
from .vec import vec_jacobian
from .vjp_rules import backpropagate


@dataclass(frozen=True)
class MatrixJacobianResult(JacobianResult):
    """A :class:`~derive.calculus.result.JacobianResult` of the matrix calculus.

    Adds ``steps`` (the rules and identities applied, each a ``(rule, before, after)`` tuple)
    and prints matrix expressions in textbook LaTeX and as one NumPy expression of exactly
    ``shape``.
    """

    steps: tuple = field(default=(), compare=False)
    dims: tuple = field(default=(), compare=False)

    @property
    def latex(self) -> str:
        return latex_matrix(self.expr)

    @property
    def numpy(self) -> str:
        return numpy_matrix_code(self.expr, dict(self.dims), self.shape)

    @property
    def sympy(self) -> str:
        """The result in SymPy syntax that ``derive jacobian`` reads back to an equal result."""
        return to_sympy_syntax(self.expr)

    @property
    def numpy_names(self) -> dict:
        """Variable name → the Python identifier :attr:`numpy` uses for it, sorted by name
        (``lambda`` → ``lambda_``, ``W^{[2]}`` → ``W_2``)."""
        symbols = _variables(self.of) + [s for s in _variables(self.expr) if s not in
                                         _variables(self.of)]
        return {s.name: identifier(s.name) for s in sorted(set(symbols), key=lambda s: s.name)}


def _resolve_variable(wrt, expr, namespace: Namespace):
    """The Symbol or MatrixSymbol meant by ``wrt`` (a name, LaTeX name or a symbol)."""
    if isinstance(wrt, (sp.MatrixSymbol, sp.Symbol)):
        return wrt
    if not isinstance(wrt, str) or not wrt.strip():
        raise BadInput(f"the variable must be a name or a symbol, got {wrt!r}", "--wrt")
    name = wrt.strip()
    known = {s.name: s for s in _variables(expr)}
    if name in known:
        return known[name]
    try:
        symbol = read_latex(name, namespace, "--wrt")
    except BadInput:
        symbol = None
    if isinstance(symbol, (sp.MatrixSymbol, sp.Symbol)):
        return known.get(symbol.name, symbol)
    raise BadInput(f"cannot read the variable {wrt!r}; give a name such as v or W", "--wrt")


def _variables(expr) -> list:
    symbols = set(expr.atoms(sp.MatrixSymbol)) | {
        s for s in expr.free_symbols if isinstance(s, sp.Symbol)}
    return sorted(symbols, key=lambda s: s.name)


def _prepare(expr, shapes, scalars, functions):
    namespace = Namespace(shapes=dict(shapes or {}), scalars=tuple(scalars or ()),
                          functions=dict(functions or {}))
    if isinstance(expr, str):
        expr = read_expression(expr, namespace)
    elif isinstance(expr, (sp.MatrixExpr, sp.Expr)):
        # Φ applied entrywise by SymPy's own applyfunc: with the calculus' canonical Lambda
        expr = expr.replace(lambda node: isinstance(node, ElementwiseApplyFunction),
                            lambda node: elementwise(node.function, node.expr))
        for symbol in _variables(expr):
            namespace.symbols.setdefault(symbol.name, symbol)
    else:
        raise BadInput(f"cannot differentiate {type(expr).__name__}; give a string or a SymPy "
                       "matrix expression")
    return expr, namespace


def _symmetric_set(symmetric, namespace: Namespace) -> frozenset:
    result = set()
    for item in symmetric or ():
        symbol = namespace.lookup(item) if isinstance(item, str) else item
        if not isinstance(symbol, sp.MatrixSymbol) or symbol.shape[0] != symbol.shape[1]:
            raise BadInput(f"{item} is declared symmetric but is not a square matrix "
                           f"({shape_text(shape_of(symbol))})", "--symmetric")
        result.add(symbol)
    return frozenset(result)


def _upstream_symbol(rows, taken: set) -> sp.MatrixSymbol:
    for name in ("g", "g_0", "u", "u_0", "upstream"):
        if name not in taken:
            return sp.MatrixSymbol(name, rows, 1)
    raise AssertionError("no free name for the upstream gradient")


def matrix_jacobian(expr, wrt, layout: str = "numerator", shapes=None, scalars=(),
                    symmetric=(), vec: bool = False, functions=None) -> MatrixJacobianResult:
    r"""∂expr/∂wrt in closed matrix form, in ``layout``.

    Parameters
    ----------
    expr : str or sympy.MatrixExpr or sympy.Expr
        LaTeX (``v^T A v``, ``\frac{1}{2}\|\sigma(Wa+b) - y\|^2``) or SymPy syntax
        (``v.T*A*v``, ``(A*x + b).applyfunc(tanh)``), or an expression over MatrixSymbols.
        Scalar-valued (1×1 or a scalar) or vector-valued (m×1, or 1×m counted as its entries).
    wrt : str or sympy.MatrixSymbol or sympy.Symbol
        The variable x (n×1 or 1×n), X (p×q) or a scalar declared in ``scalars``.
    layout : {"numerator", "denominator"}
    shapes : dict, optional
        name → (rows, cols), ints or size names (``"n"``, ``"n_j"``).  Undeclared names of a
        string: lowercase initial → n×1 column, otherwise n×n (a note says so).
    scalars : sequence of str
        Names that are real scalars.
    symmetric : sequence of str or MatrixSymbol
        Square matrices known to equal their transpose.
    vec : bool
        The vec convention (:mod:`.vec`): d vec(Y)/d vec(X), rc × pq for Y r×c and X p×q in
        numerator layout (its transpose in denominator layout), with Kronecker products.  Any
        EXPR and variable; needed when the derivative is a tensor of order 3 or 4.
    functions : dict, optional
        name → :class:`~derive.calculus.functions.NamedFunction` class: the named scalar
        functions a string EXPR may call (``derive.jacobian`` passes the activations, so that
        ``\sigma(W x + b)`` reads); SymPy's functions (``\tanh``, ``exp``) need none.

    Returns
    -------
    MatrixJacobianResult
        ``expr`` with exactly the layout's shape: numerator ∂y/∂x m×n, ∂f/∂x 1×n, ∂f/∂X q×p;
        denominator the transposes.  ``steps`` lists the rules applied; ``notes`` remarks.

    Raises
    ------
    BadInput
        Unreadable EXPR, operands of incompatible shapes, or (without ``vec``) a derivative
        that is a tensor of order 3 or 4 (a matrix-valued expression, or a vector by a matrix).

    Examples
    --------
    >>> matrix_jacobian("v^T A v", "v", layout="denominator").expr
    (A + A.T)*v
    >>> matrix_jacobian("v^T A v", "v", symmetric=["A"]).expr
    2*v.T*A
    >>> matrix_jacobian(r"\tanh(W x + b)", "x", shapes={"W": ("m", "n"), "b": ("m", 1)}).shape
    (m, n)
    >>> matrix_jacobian("A X B", "X", shapes={"A": (2, 3), "X": (3, 4), "B": (4, 5)},
    ...                 vec=True).expr
    KroneckerProduct(B.T, A)
    """
    check_layout(layout)
    expr, namespace = _prepare(expr, shapes, scalars, functions)
    variable = _resolve_variable(wrt, expr, namespace)
    sym = _symmetric_set(symmetric, namespace)
    steps: list[Rewrite] = []
    notes = list(namespace.notes)
    out_rows, out_cols = shape_of(expr)
    var_shape = shape_of(variable)
    scalar_out = not is_matrix(expr) or (out_rows == 1 and out_cols == 1)
    scalar_var = not is_matrix(variable) or var_shape == (1, 1)
    vector_var = scalar_var or is_vector(variable)

    if vec:
        jacobian = vec_jacobian(expr, variable, steps)
        rows, cols = out_rows * out_cols, var_shape[0] * var_shape[1]
        shape = (rows, cols) if layout == "numerator" else (cols, rows)
        if jacobian is None:
            result = None
        else:
            jacobian = tidy(jacobian, sym, steps, hadamard_form=False)
            result = jacobian if layout == "numerator" else \
                tidy(transpose(jacobian, sym), sym, steps, hadamard_form=False)
        notes.append("vec convention: d vec(EXPR) / d vec(" + str(variable) + "), columns "
                     "stacked" + ("" if layout == "numerator" else ", transposed (denominator)"))
    elif scalar_out:
        gradient = backpropagate(expr, sp.S.One, variable, steps)
        grad_shape = var_shape
        if gradient is None:
            result = None
        else:
            gradient = tidy(gradient, sym, steps)
            result = gradient if layout == "denominator" else tidy(transpose(gradient, sym), sym,
                                                                   steps)
        shape = grad_shape if layout == "denominator" else (grad_shape[1], grad_shape[0])
    elif is_vector(expr) or (is_matrix(expr) and (out_rows == 1 or out_cols == 1)):
        if not vector_var:
            raise BadInput(f"EXPR is a vector ({shape_text((out_rows, out_cols))}) and "
                           f"{variable} is a {shape_text(var_shape)} matrix: the derivative is "
                           "a 3-tensor; ask for d vec(EXPR)/d vec(" + str(variable) + ") with "
                           "--vec (vec=True), or differentiate a scalar function of EXPR")
        column = expr if is_column(expr) else transpose(expr)
        m = column.shape[0]
        n = var_shape[0] * var_shape[1]
        g = _upstream_symbol(m, {s.name for s in _variables(expr)})
        cotangent = backpropagate(column, g, variable, steps)
        if cotangent is None:
            result = None
        else:
            if is_matrix(cotangent) and is_row(cotangent) and not is_column(cotangent):
                cotangent = transpose(cotangent)
            cotangent = tidy(cotangent, sym, steps)
            transposed_jacobian = tidy(linear_part(cotangent, g, steps), sym, steps,
                                       hadamard_form=False)
            result = transposed_jacobian if layout == "denominator" else \
                tidy(transpose(transposed_jacobian, sym), sym, steps, hadamard_form=False)
        n_rows = var_shape[0] if var_shape[1] == 1 else var_shape[1]
        n = n_rows if not scalar_var else 1
        shape = (m, n) if layout == "numerator" else (n, m)
    else:
        order = 3 if scalar_var or is_vector(variable) else 4
        raise BadInput(f"EXPR is a {shape_text((out_rows, out_cols))} matrix: its derivative "
                       f"with respect to {variable} ({shape_text(var_shape)}) is a "
                       f"{order}-tensor; ask for d vec(EXPR)/d vec({variable}) with --vec "
                       "(vec=True), or differentiate a scalar function of it (a trace, a norm)")

    shape = tuple(sp.sympify(s) if not isinstance(s, int) else s for s in shape)
    shape = tuple(int(s) if getattr(s, "is_Integer", False) else s for s in shape)
    if result is None:
        result = sp.ZeroMatrix(*shape)
        notes.append(f"EXPR does not depend on {variable}: the result is the zero matrix "
                     f"({shape_text(shape)})")
    elif not is_matrix(result) and result == 0 and shape != (1, 1):
        result = sp.ZeroMatrix(*shape)          # e.g. a step function: Φ' = 0 off its kinks
        notes.append(f"the derivative is zero wherever it exists ({shape_text(shape)})")
    if not is_matrix(result) and shape != (1, 1):
        raise AssertionError(f"internal error: scalar result {result} for shape {shape}")
    if is_matrix(result) and tuple(result.shape) != shape:
        raise AssertionError(f"internal error: result shape {result.shape} != {shape}")
    if sym:
        notes.append("symmetric: " + ", ".join(sorted(s.name for s in sym)))
    dims = dims_of(expr, variable, *[s for s in namespace.symbols.values()])
    return MatrixJacobianResult(expr=result, shape=shape, layout=layout, of=expr, wrt=variable,
                                notes=tuple(notes), steps=tuple(steps),
                                dims=tuple(sorted(dims.items(), key=lambda kv: str(kv[0]))))


def vjp(expr, wrt, upstream, symmetric=()):
    r"""The vector-Jacobian product ∇_wrt C from ∇_expr C = ``upstream``, in closed form.

    Parameters
    ----------
    expr : sympy.MatrixExpr or sympy.Expr
        r×c (a vector or a matrix; a scalar with a scalar upstream).
    wrt : sympy.MatrixSymbol or sympy.Symbol
        p×q.
    upstream : sympy.MatrixExpr or sympy.Expr
        r×c: the gradient of some scalar C with respect to ``expr``.
    symmetric : sequence of MatrixSymbol
        Matrices known to be symmetric.

    Returns
    -------
    (sympy.MatrixExpr, list of Rewrite)
        ∇_wrt C, p×q, in textbook form; and the rules and identities applied, each
        ``(rule, before, after)``.

    Examples
    --------
    >>> m, n = sp.symbols("m n")
    >>> W, a = sp.MatrixSymbol("W", m, n), sp.MatrixSymbol("a", n, 1)
    >>> b, delta = sp.MatrixSymbol("b", m, 1), sp.MatrixSymbol("delta", m, 1)
    >>> vjp(W*a + b, W, delta)[0]
    delta*a.T
    >>> vjp(W*a + b, a, delta)[0]
    W.T*delta
    """
    if shape_of(expr) != shape_of(upstream):
        raise BadInput(f"the upstream gradient is {shape_text(shape_of(upstream))} but the "
                       f"expression is {shape_text(shape_of(expr))}")
    sym = frozenset(symmetric or ())
    steps: list[Rewrite] = []
    result = backpropagate(expr, upstream, wrt, steps)
    if result is None:
        return (sp.ZeroMatrix(*wrt.shape) if is_matrix(wrt) else sp.S.Zero), steps
    return tidy(result, sym, steps), steps


__all__ = ["matrix_jacobian", "vjp", "MatrixJacobianResult", "Rewrite"]
