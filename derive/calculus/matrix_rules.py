"""Reverse-mode rules of the matrix calculus: one vector-Jacobian product (VJP) rule per node.

A rule says how the cotangent ``G`` of a node (∇_node C for some scalar C; the node's shape, a
plain number for a scalar node) becomes the cotangent of each child.  The rules are the
differential identities of Magnus–Neudecker written in their adjoint form, e.g.

- d(XY) = dX Y + X dY            →  ∇_X = G Yᵀ,  ∇_Y = Xᵀ G
- d tr(X) = tr(dX)               →  ∇_X = g I
- d X⁻¹ = −X⁻¹ dX X⁻¹            →  ∇_X = −X⁻ᵀ G X⁻ᵀ
- d det X = det X tr(X⁻¹ dX)     →  ∇_X = g det(X) X⁻ᵀ
- d Φ(Z) = Φ'(Z) ⊙ dZ            →  ∇_Z = Φ'(Z) ⊙ G
- d softmax(z) = (diag(s) − s sᵀ) dz  →  ∇_z = s ⊙ G − s sᵀ G

:data:`RULES` is the table (node class → (rule name, function)); :func:`backpropagate` walks an
expression with it.  :func:`tidy` brings a result into the form a textbook prints (transposes
pushed to the leaves, entrywise nodes in one orientation, symmetric matrices used, like terms
collected, common factors pulled out, vᵀ(1/v) = k and 1ᵀ softmax(z) = 1 used, diag(v) u written
v ⊙ u) and :func:`linear_part` reads M off an expression M g that is linear in a column g
(how a Jacobian is read off a VJP).

Every rule and identity applied is recorded as a :class:`Step` ``(rule, before, after)``.  For a
chain-rule step ``before`` is the sub-expression differentiated through and ``after`` the
cotangent it hands to its argument; for an identity the two sides are equal expressions.

Glossary: ``G`` the cotangent of the node (``g`` when scalar); ``L``, ``R`` the factors left and
right of a factor in a product; ``c`` a scalar coefficient.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from typing import Callable, NamedTuple

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.kronecker import KroneckerProduct

from ..errors import BadInput
from .entrywise import simplify_entrywise
from .matrix_nodes import (AsScalar, CommutationMatrix, LogSumExp, MatNorm, Softmax,
                           elementwise, elementwise_derivative, is_column, is_matrix,
                           hadamard_of, is_one_by_one, is_row, matrix_sum, shape_of,
                           to_scalar)

_DUMMY_PREFIX = "arg"


class Step(NamedTuple):
    """One rule or identity applied: ``(rule, before, after)``."""

    rule: str
    before: sp.Basic
    after: sp.Basic


class NoClosedForm(BadInput):
    """The derivative exists but the engine cannot write it as a matrix expression."""


# --- algebra that keeps scalars and 1×1 matrices apart -------------------------------------------

def mm(*factors):
    """The product of scalars and matrices, canonicalised; a 1×1 matrix that does not align is
    used as a scalar (``(vᵀv) x``)."""
    scalars, matrices = [], []
    for factor in factors:
        if factor is None:
            continue
        if is_matrix(factor):
            matrices.append(factor)
        else:
            scalars.append(sp.sympify(factor))
    aligned: list = []
    for i, matrix in enumerate(matrices):
        following = matrices[i + 1] if i + 1 < len(matrices) else None
        prev = aligned[-1] if aligned else None
        fits_prev = prev is None or prev.shape[1] == matrix.shape[0]
        fits_next = following is None or matrix.shape[1] == following.shape[0]
        if is_one_by_one(matrix) and not (fits_prev and fits_next) and len(matrices) > 1:
            scalars.append(to_scalar(matrix))
        else:
            aligned.append(matrix)
    coeff = sp.Mul(*scalars)
    if not aligned:
        return coeff
    if coeff == 0:
        return sp.ZeroMatrix(aligned[0].shape[0], aligned[-1].shape[1])
    if coeff == 1 and len(aligned) == 1:
        return aligned[0]
    if len(aligned) == 1 and isinstance(aligned[0], sp.MatAdd):
        return sp.MatMul(coeff, aligned[0])      # 2 (x − a), not SymPy's 2 x − 2 a
    return sp.MatMul(coeff, *aligned).doit(deep=False)


def madd(*terms):
    """The sum of matrices (or of scalars); 1×1 matrices added to scalars become scalars."""
    terms = [t for t in terms if t is not None]
    if not terms:
        return sp.S.Zero
    if all(is_matrix(t) for t in terms):
        if len(terms) == 1:
            return terms[0]
        return matrix_sum(*terms)
    return sp.Add(*[to_scalar(t) if is_matrix(t) else t for t in terms])


def transpose(expr, symmetric=frozenset(), entrywise=False):
    """Xᵀ pushed down to the leaves: (AB)ᵀ = BᵀAᵀ, (A + B)ᵀ = Aᵀ + Bᵀ, (Aᵀ)ᵀ = A, Aᵀ = A for a
    symmetric A.  Entrywise nodes (Φ(Z), A ⊙ B) keep the transpose outside, as a textbook
    writes (σ'(z) ⊙ g)ᵀ, unless ``entrywise``."""
    if not is_matrix(expr):
        return expr
    if isinstance(expr, sp.MatrixSymbol):
        return expr if expr in symmetric else sp.Transpose(expr)
    if isinstance(expr, sp.Transpose):
        return expr.arg
    if isinstance(expr, sp.MatMul):
        coeff, factors = expr.as_coeff_matrices()
        return mm(coeff, *[transpose(f, symmetric) for f in reversed(factors)])
    if isinstance(expr, sp.MatAdd):
        # (A + Aᵀ)ᵀ = A + Aᵀ, but (X w − y)ᵀ stays: distribute only if that adds no transpose.
        distributed = madd(*[transpose(t, symmetric, entrywise) for t in expr.args])
        if entrywise or _count_transposes(distributed) <= _count_transposes(expr) + 1:
            return distributed
        return sp.Transpose(expr)
    if isinstance(expr, sp.HadamardProduct) and entrywise:
        return sp.HadamardProduct(*[transpose(t, symmetric) for t in expr.args])
    if isinstance(expr, sp.Inverse):
        # X⁻ᵀ = (Xᵀ)⁻¹, but (AXB)⁻ᵀ stays whole rather than (BᵀXᵀAᵀ)⁻¹.
        inner = transpose(expr.arg, symmetric, entrywise)
        if _count_transposes(inner) <= _count_transposes(expr.arg) + 1:
            return sp.Inverse(inner)
        return sp.Transpose(expr)
    if isinstance(expr, sp.MatPow):
        return sp.MatPow(transpose(expr.base, symmetric), expr.exp)
    if isinstance(expr, ElementwiseApplyFunction) and entrywise:
        return elementwise(expr.function, transpose(expr.expr, symmetric))
    if isinstance(expr, sp.HadamardPower) and entrywise:
        return sp.HadamardPower(transpose(expr.base, symmetric), expr.exp)
    if isinstance(expr, (sp.Identity, sp.DiagMatrix)):
        return expr
    if isinstance(expr, KroneckerProduct):
        return KroneckerProduct(*[transpose(f, symmetric, entrywise) for f in expr.args])
    if isinstance(expr, CommutationMatrix):
        return CommutationMatrix(expr.args[1], expr.args[0])
    if isinstance(expr, sp.ZeroMatrix):
        return sp.ZeroMatrix(expr.shape[1], expr.shape[0])
    if isinstance(expr, sp.OneMatrix):
        return sp.OneMatrix(expr.shape[1], expr.shape[0])
    return sp.Transpose(expr)


def _count_transposes(expr) -> int:
    return sum(1 for node in sp.preorder_traversal(expr) if isinstance(node, sp.Transpose))


def _printed_transposes(expr) -> int:
    """The transposes a reader sees: Transpose nodes and rows of ones 1ᵀ (X Wᵀ + 1 bᵀ has two,
    as many as W Xᵀ + b 1ᵀ)."""
    return sum(1 for node in sp.preorder_traversal(expr)
               if isinstance(node, sp.Transpose)
               or (isinstance(node, sp.OneMatrix) and node.shape[0] == 1 and node.shape[1] != 1))


@lru_cache(maxsize=4096)
def _canonical_orientation(expr, symmetric):
    """``expr`` itself, or Fᵀ when the entrywise node ``expr`` = Fᵀ and F shows fewer
    transposes, or as many and ``expr`` is a row (see :meth:`_Tidier.orient`)."""
    if not isinstance(expr, (ElementwiseApplyFunction, sp.HadamardProduct, sp.HadamardPower)):
        return expr
    count = _printed_transposes(expr)
    if count == 0:
        return expr
    flipped = _flip_entrywise(expr, symmetric)
    flipped_count = _printed_transposes(flipped)
    row = is_row(expr) and not is_column(expr)
    if flipped_count > count or (flipped_count == count and not row):
        return expr
    return sp.Transpose(flipped)


def _flip_entrywise(expr, symmetric=frozenset()):
    """The entrywise node E with E = Fᵀ, F returned: Φ(Z) → Φ(Zᵀ), A ⊙ B → Aᵀ ⊙ Bᵀ,
    A^∘k → (Aᵀ)^∘k (transposes pushed down as :func:`transpose` does)."""
    if isinstance(expr, ElementwiseApplyFunction):
        return elementwise(expr.function, transpose(expr.expr, symmetric))
    if isinstance(expr, sp.HadamardPower):
        return sp.HadamardPower(transpose(expr.base, symmetric), expr.exp)
    return hadamard_of(*[transpose(t, symmetric) for t in expr.args])


def hadamard(*args):
    """A ⊙ B ⊙ …; numbers scale, a 1×1 product is an ordinary product, scalar coefficients
    come out ((c A) ⊙ B = c (A ⊙ B)) and entrywise functions of one argument that simplify
    together are merged (z ⊙ (1/z) = 1)."""
    scalars = [a for a in args if not is_matrix(a)]
    matrices = []
    for arg in args:
        if not is_matrix(arg):
            continue
        if isinstance(arg, sp.HadamardProduct):
            parts = arg.args
        else:
            parts = [arg]
        for part in parts:
            if isinstance(part, sp.MatMul):
                coeff, factors = part.as_coeff_matrices()
                if coeff != 1:
                    scalars.append(coeff)
                    part = mm(*factors)
            matrices.append(part)
    if not matrices:
        return sp.Mul(*scalars)
    shape = matrices[0].shape
    merged, extra = merge_entrywise(matrices)
    scalars.extend(extra)
    if not merged:
        return mm(*scalars, sp.OneMatrix(*shape))
    product = hadamard_of(*merged)
    return mm(*scalars, product)


def _as_entrywise(matrix):
    """(argument, body in d) with ``matrix`` = body(argument) entrywise."""
    if isinstance(matrix, ElementwiseApplyFunction):
        (var,), body = matrix.function.variables, matrix.function.expr
        return matrix.expr, body.xreplace({var: _ENTRY})
    if isinstance(matrix, sp.HadamardPower):
        return matrix.base, _ENTRY ** matrix.exp
    return matrix, _ENTRY


_ENTRY = sp.Dummy("d", real=True)


def merge_entrywise(matrices):
    """Hadamard factors that are functions of one argument, merged when that simplifies them:
    returns (factors, scalar factors)."""
    groups: dict = {}
    order = []
    for matrix in matrices:
        argument, body = _as_entrywise(matrix)
        if argument not in groups:
            groups[argument] = []
            order.append(argument)
        groups[argument].append((matrix, body))
    result, scalars = [], []
    for argument in order:
        members = groups[argument]
        if len(members) == 1:
            result.append(members[0][0])
            continue
        body = sp.powsimp(sp.Mul(*[b for _, b in members]))
        cost = sum(sp.count_ops(b) for _, b in members)
        if sp.count_ops(body) >= cost and body.has(_ENTRY):
            result.extend(m for m, _ in members)
        elif not body.has(_ENTRY):
            scalars.append(body)
        elif body == _ENTRY:
            result.append(argument)
        else:
            result.append(elementwise(sp.Lambda(_ENTRY, body), argument))
    return result, scalars


def inner(G, P):
    """⟨G, P⟩ = tr(Gᵀ P) as a scalar."""
    if not is_matrix(G):
        return G * to_scalar(P) if is_matrix(P) else G * P
    if is_column(P) or is_row(P):
        product = mm(transpose(G), P) if is_column(P) else mm(P, transpose(G))
        return to_scalar(product)
    return sp.Trace(mm(transpose(G), P))


def zero_like(expr):
    return sp.ZeroMatrix(*expr.shape) if is_matrix(expr) else sp.S.Zero


# --- the rules -----------------------------------------------------------------------------------
# A rule takes (node, G) and returns [(child, thunk)], the thunk giving the child's cotangent; it
# is evaluated only for children that depend on the variable.

Rule = Callable[[sp.Basic, sp.Basic], list]


def _rule_matadd(node, G):
    return [(term, lambda: G) for term in node.args]


def _rule_matmul(node, G):
    coeff, factors = node.as_coeff_matrices()
    children = []
    for i, factor in enumerate(factors):
        left, right = factors[:i], factors[i + 1:]

        def cotangent(left=left, right=right):
            return mm(coeff, *[transpose(f) for f in reversed(left)], G,
                      *[transpose(f) for f in reversed(right)])
        children.append((factor, cotangent))
    if coeff != 1:
        product = mm(*factors)
        children.append((coeff, lambda: inner(G, product)))
    return children


def _rule_transpose(node, G):
    return [(node.arg, lambda: transpose(G))]


def _rule_inverse(node, G):
    inverse_t = transpose(node)
    return [(node.arg, lambda: mm(-1, inverse_t, G, inverse_t))]


def _rule_matpow(node, G):
    base, exponent = node.base, node.exp
    if not (exponent.is_Integer):
        raise NoClosedForm(f"cannot differentiate the matrix power {node} (exponent {exponent} "
                           "is not an integer)")
    k = int(exponent)
    if k < 0:
        rewritten = sp.Inverse(base) if k == -1 else sp.MatPow(sp.Inverse(base), -k)
        return [(rewritten, lambda: G)]
    if k == 0:
        return []
    children = []
    for i in range(k):
        def cotangent(i=i):
            left = [transpose(base)] * i
            right = [transpose(base)] * (k - 1 - i)
            return mm(*left, G, *right)
        children.append((base, cotangent))
    return children


def _rule_hadamard(node, G):
    children = []
    for i, arg in enumerate(node.args):
        others = node.args[:i] + node.args[i + 1:]
        children.append((arg, lambda others=others: hadamard(*others, G)))
    return children


def _rule_hadamard_power(node, G):
    base, k = node.base, node.exp
    power = base if k == 2 else sp.HadamardPower(base, k - 1)
    return [(base, lambda: hadamard(k, power, G))]


def _rule_elementwise(node, G):
    return [(node.expr, lambda: hadamard(elementwise_derivative(node), G))]


def _rule_softmax(node, G):
    # Per column s: J = diag(s) − s sᵀ, so Jᵀ g = s ⊙ g − s (sᵀ g); for a batch S, column by
    # column, s ⊙ (g − 1 1ᵀ (s ⊙ g)).
    S = node

    def cotangent():
        rows, cols = S.shape
        if cols == 1:
            return madd(hadamard(S, G), mm(-1, S, transpose(S), G))
        weighted = hadamard(S, G)
        column_sums = mm(sp.OneMatrix(rows, 1), sp.OneMatrix(1, rows), weighted)
        return madd(weighted, mm(-1, hadamard(S, column_sums)))
    return [(node.vector, cotangent)]


def _rule_diag_matrix(node, G):
    v = node.args[0]
    if is_column(v):
        return [(v, lambda: diagonal_of(G))]
    return [(v, lambda: transpose(diagonal_of(G)))]


def _rule_diagonal_of(node, G):
    return [(node.arg, lambda: sp.DiagMatrix(G))]


def _rule_trace(node, G):
    return [(node.arg, lambda: mm(G, sp.Identity(node.arg.shape[0])))]


def _rule_determinant(node, G):
    X = node.arg
    return [(X, lambda: mm(G, node, transpose(sp.Inverse(X))))]


def _rule_norm(node, G):
    return [(node.matrix, lambda: mm(G / node, node.matrix))]


def _rule_norm_squared(node, G):
    # ‖M‖² = ⟨M, M⟩ differentiates without the square root: ∇ = 2 g M.
    return [(node.base.matrix, lambda: mm(2 * G, node.base.matrix))]


def _rule_logsumexp(node, G):
    return [(node.vector, lambda: mm(G, Softmax(node.vector)))]


def _rule_as_scalar(node, G):
    return [(node.matrix, lambda: G)]


def _rule_scalar_function(node, G):
    """Any scalar expression of scalar arguments (+, ×, powers, log, exp, …): sympy.diff."""
    args = node.args
    if any(is_matrix(a) for a in args):
        raise NoClosedForm(f"no rule for {type(node).__name__} of a matrix in {node}")
    dummies = [sp.Dummy(f"{_DUMMY_PREFIX}{i}", real=True) for i in range(len(args))]
    local = node.func(*dummies)
    back = dict(zip(dummies, args))
    children = []
    for arg, dummy in zip(args, dummies):
        def cotangent(dummy=dummy):
            partial = sp.diff(local, dummy).replace(sp.DiracDelta, lambda *a: sp.S.Zero)
            # sign(u) = |u|/u away from the kink: then d log|u| = du/u cancels as it should.
            partial = partial.replace(sp.sign, lambda u: sp.Abs(u) / u)
            return G * partial.xreplace(back)
        children.append((arg, cotangent))
    return children


RULES: dict[type, tuple[str, Rule]] = {
    sp.MatAdd: ("sum rule d(X + Y) = dX + dY", _rule_matadd),
    sp.MatMul: ("product rule d(XY) = dX Y + X dY", _rule_matmul),
    sp.Transpose: ("d(Xᵀ) = (dX)ᵀ", _rule_transpose),
    sp.Inverse: ("d(X⁻¹) = −X⁻¹ dX X⁻¹", _rule_inverse),
    sp.MatPow: ("d(Xᵏ) = Σ Xⁱ dX Xᵏ⁻¹⁻ⁱ", _rule_matpow),
    sp.HadamardProduct: ("d(X ⊙ Y) = dX ⊙ Y + X ⊙ dY", _rule_hadamard),
    sp.HadamardPower: ("d(X^∘k) = k X^∘(k−1) ⊙ dX", _rule_hadamard_power),
    ElementwiseApplyFunction: ("chain rule d Φ(Z) = Φ'(Z) ⊙ dZ", _rule_elementwise),
    Softmax: ("d softmax(z) = (diag(s) − s sᵀ) dz, column by column", _rule_softmax),
    sp.DiagMatrix: ("d diag(v) = diag(dv)", _rule_diag_matrix),
    sp.DiagonalOf: ("d diag(X) = diag(dX)", _rule_diagonal_of),
    sp.Trace: ("d tr(X) = tr(dX)", _rule_trace),
    sp.Determinant: ("d det X = det X tr(X⁻¹ dX)", _rule_determinant),
    MatNorm: ("d‖X‖ = ⟨X, dX⟩ / ‖X‖", _rule_norm),
    LogSumExp: ("d lse(z) = softmax(z)ᵀ dz", _rule_logsumexp),
    AsScalar: ("a 1×1 matrix is its entry", _rule_as_scalar),
}
_NORM_SQUARED = ("d‖X‖² = 2⟨X, dX⟩", _rule_norm_squared)
_SCALAR = ("scalar chain rule", _rule_scalar_function)


def diagonal_of(G):
    """diag(G) as a column; diag(u vᵀ) = u ⊙ v."""
    if isinstance(G, sp.MatMul):
        coeff, factors = G.as_coeff_matrices()
        if len(factors) == 2 and is_column(factors[0]) and is_row(factors[1]):
            return mm(coeff, hadamard(factors[0], transpose(factors[1])))
    if isinstance(G, sp.DiagMatrix):
        v = G.args[0]
        return v if is_column(v) else transpose(v)
    if isinstance(G, sp.Identity):
        return sp.OneMatrix(G.shape[0], 1)
    if isinstance(G, sp.Transpose):
        return diagonal_of(G.arg)                  # diag(Mᵀ) = diag(M)
    return sp.DiagonalOf(G)


def rule_for(node) -> tuple[str, Rule]:
    """The (name, rule) for a node, looked up by class (and its bases)."""
    if isinstance(node, sp.Pow) and isinstance(node.base, MatNorm) and node.exp == 2:
        return _NORM_SQUARED
    for klass in type(node).__mro__:
        if klass in RULES:
            return RULES[klass]
    if isinstance(node, sp.Expr) and not is_matrix(node):
        return _SCALAR
    known = ", ".join(sorted(k.__name__ for k in RULES))
    raise NoClosedForm(f"no differentiation rule for {type(node).__name__} ({node}); "
                       f"known: {known}")


def backpropagate(expr, G, wrt, steps: list | None = None):
    """∇_wrt C given ∇_expr C = G: the sum over every occurrence of ``wrt`` in ``expr``.

    Parameters
    ----------
    expr : sympy.MatrixExpr or sympy.Expr
        The expression (r×c matrix expression, or a scalar).
    G : sympy.MatrixExpr or sympy.Expr
        Its cotangent, r×c (a number for a scalar or 1×1 ``expr``).
    wrt : sympy.MatrixSymbol or sympy.Symbol
        The variable (p×q).
    steps : list, optional
        Receives a :class:`Step` per rule applied.

    Returns
    -------
    sympy.MatrixExpr or sympy.Expr
        p×q (a scalar for a scalar ``wrt``), untidied; ``None`` when ``expr`` does not depend on
        ``wrt``.
    """
    contributions: list = []
    _walk(expr, G, wrt, steps if steps is not None else [], contributions)
    if not contributions:
        return None
    if is_matrix(wrt):
        contributions = [c if is_matrix(c) else mm(c, sp.Identity(1)) for c in contributions]
    return madd(*contributions)


def _walk(node, G, wrt, steps, out):
    if node == wrt:
        out.append(G)
        return
    if not node.has(wrt) or (is_matrix(G) is False and G == 0):
        return
    name, rule = rule_for(node)
    for child, cotangent in rule(node, G):
        if child == wrt or child.has(wrt):
            value = cotangent()
            steps.append(Step(name, node, value))
            _walk(child, value, wrt, steps, out)


# --- tidying ------------------------------------------------------------------------------------

def tidy(expr, symmetric=frozenset(), steps: list | None = None, hadamard_form: bool = True):
    """The textbook form of ``expr`` (equal to it).

    Transposes are pushed to the leaves (and dropped on symmetric matrices), except that an
    entrywise node keeps one orientation, Φ(Zᵀ) = Φ(Z)ᵀ and Aᵀ ⊙ Bᵀ = (A ⊙ B)ᵀ, so that equal
    terms look equal; like terms are collected (also entrywise functions of one argument,
    −1/z + 1/z = 0), common leading/trailing factors of a sum pulled out (A v + Aᵀ v → (A + Aᵀ) v),
    and common Hadamard factors too (P ⊙ v + Q ⊙ v → (P + Q) ⊙ v); inner products that are
    sums of entries simplify (vᵀ(1/v) = k for k entries, 1ᵀ softmax(z) = 1); and, when
    ``hadamard_form``, diag(u) w (w a column) is written u ⊙ w.
    """
    steps = steps if steps is not None else []
    return _Tidier(frozenset(symmetric), steps, hadamard_form).run(expr)


class _Tidier:
    def __init__(self, symmetric, steps, hadamard_form):
        self.symmetric, self.steps, self.hadamard_form = symmetric, steps, hadamard_form

    def run(self, expr):
        before = expr
        for _ in range(4):
            after = self.visit(before)
            if after == before:
                break
            before = after
        return before

    def visit(self, expr):
        if isinstance(expr, (sp.MatrixSymbol, sp.Symbol, sp.Number, sp.Identity, sp.ZeroMatrix,
                             sp.OneMatrix, sp.Dummy)) or not expr.args:
            return expr
        method = getattr(self, f"visit_{type(expr).__name__}", None)
        if method is not None:
            return method(expr)
        if isinstance(expr, ElementwiseApplyFunction):
            return self.orient(elementwise(expr.function, self.visit(expr.expr)))
        args = [self.visit(a) for a in expr.args]
        if is_matrix(expr):
            return expr.func(*args)
        return expr.func(*args)

    def visit_Transpose(self, expr):
        arg = self.visit(expr.arg)
        result = transpose(arg, self.symmetric)
        if result != sp.Transpose(arg) and not (isinstance(arg, sp.MatrixSymbol)
                                                 and arg not in self.symmetric):
            rule = ("A = Aᵀ (symmetric)" if arg in self.symmetric
                    else "(AB)ᵀ = BᵀAᵀ, (A + B)ᵀ = Aᵀ + Bᵀ, (Aᵀ)ᵀ = A")
            self.steps.append(Step(rule, sp.Transpose(arg), result))
        return result

    def visit_Inverse(self, expr):
        return sp.Inverse(self.visit(expr.arg))

    def visit_Determinant(self, expr):
        arg = self.visit(expr.arg)
        if isinstance(arg, sp.Transpose):
            self.steps.append(Step("det Aᵀ = det A", sp.Determinant(arg), sp.Determinant(arg.arg)))
            arg = arg.arg
        return sp.Determinant(arg)

    def visit_Trace(self, expr):
        arg = self.visit(expr.arg)
        if isinstance(arg, sp.Transpose):
            arg = arg.arg
        return sp.Trace(arg)

    def visit_AsScalar(self, expr):
        return to_scalar(self.visit(expr.matrix))

    def visit_MatMul(self, expr):
        coeff, factors = expr.as_coeff_matrices()
        factors = [self.visit(f) for f in factors]
        coeff = self.visit(coeff) if isinstance(coeff, sp.Basic) else coeff
        result = mm(coeff, *factors)
        if isinstance(result, sp.MatMul):
            result = self._softmax_sums(result)
        if isinstance(result, sp.MatMul):
            result = self._row_into_hadamard(result)
        if isinstance(result, sp.MatMul):
            result = self._trailing_scalar(result)
        if self.hadamard_form and isinstance(result, sp.MatMul):
            result = self._diag_to_hadamard(result)
        return result

    def _row_into_hadamard(self, product):
        """aᵀ (b ⊙ c) = (a ⊙ b)ᵀ c when a ⊙ b simplifies (sᵀ (y ⊙ 1/s) = 1ᵀ y); with no c,
        aᵀ b = 1ᵀ (a ⊙ b), and 1ᵀ1 = k for k entries (sᵀ (1/s) = k, xᵀAᵀ (1/(A x)) = k)."""
        coeff, factors = product.as_coeff_matrices()
        for start, stop, a, column in _inner_products(factors):
            parts = column.args if isinstance(column, sp.HadamardProduct) else (column,)
            for j, part in enumerate(parts):
                merged, extra = merge_entrywise([a, part])
                if len(merged) >= 2:
                    continue
                rest = parts[:j] + parts[j + 1:]
                left, right = factors[:start], factors[stop:]
                if merged or rest:
                    ones = merged[0] if merged else sp.OneMatrix(*a.shape)
                    inner_column = hadamard(*rest) if rest else sp.OneMatrix(*a.shape)
                    new = mm(coeff, *extra, *left, transpose(ones), inner_column, *right)
                    rule = "aᵀ (b ⊙ c) = (a ⊙ b)ᵀ c"
                else:
                    # a ⊙ b is a constant c: aᵀ b = c 1ᵀ1 = c k
                    new = mm(coeff, *extra, a.shape[0], *left, *right,
                             *([] if left or right else [sp.OneMatrix(1, 1)]))
                    rule = "aᵀ b = 1ᵀ (a ⊙ b), 1ᵀ1 = k (k entries)"
                self.steps.append(Step(rule, product, new))
                return new
        return product

    def _softmax_sums(self, product):
        """1ᵀ S = 1ᵀ and Sᵀ 1 = 1 for S = softmax(Z): every column of a softmax sums to 1
        (1ᵀ softmax(z) = 1)."""
        coeff, factors = product.as_coeff_matrices()
        for i in range(len(factors) - 1):
            left, right = factors[i], factors[i + 1]
            if isinstance(left, sp.OneMatrix) and is_row(left) and isinstance(right, Softmax):
                ones = sp.OneMatrix(1, right.shape[1])
            elif (isinstance(left, sp.Transpose) and isinstance(left.arg, Softmax)
                  and isinstance(right, sp.OneMatrix) and is_column(right)):
                ones = sp.OneMatrix(left.shape[0], 1)
            else:
                continue
            outside = [*factors[:i], *factors[i + 2:]]
            if is_one_by_one(ones) and outside:
                new = mm(coeff, *outside)            # the 1×1 sum is the number 1
            else:
                new = mm(coeff, *factors[:i], ones, *factors[i + 2:])
            self.steps.append(Step("1ᵀ softmax(Z) = 1ᵀ (each column sums to 1)", product, new))
            return new
        return product

    def _trailing_scalar(self, product):
        """M aᵀ b = (aᵀ b) M: a 1×1 product at the right end is a scalar coefficient
        (s 1ᵀ y = (1ᵀ y) s)."""
        coeff, factors = product.as_coeff_matrices()
        for i in range(1, len(factors) - 1):
            tail = mm(*factors[i:])
            if is_one_by_one(tail) and is_row(factors[i]):
                new = mm(coeff, to_scalar(tail), *factors[:i])
                self.steps.append(Step("a 1×1 product is a scalar: M (aᵀ b) = (aᵀ b) M",
                                       product, new))
                return new
        return product

    def _diag_to_hadamard(self, product):
        coeff, factors = product.as_coeff_matrices()
        for i, factor in enumerate(factors):
            if isinstance(factor, sp.DiagMatrix) and is_column(factor.args[0]) and i + 1 < len(factors):
                rest = mm(*factors[i + 1:])
                if is_column(rest):
                    new = mm(coeff, *factors[:i], hadamard(factor.args[0], rest))
                    self.steps.append(Step("diag(v) u = v ⊙ u", product, new))
                    return new
            if isinstance(factor, sp.DiagMatrix) and is_column(factor.args[0]) and i > 0:
                before = mm(*factors[:i])
                if is_row(before):
                    new = mm(coeff, transpose(hadamard(factor.args[0], transpose(before))),
                             *factors[i + 1:])
                    self.steps.append(Step("uᵀ diag(v) = (v ⊙ u)ᵀ", product, new))
                    return new
        return product

    def visit_MatAdd(self, expr):
        terms = [self.visit(t) for t in expr.args]
        summed = madd(*terms)
        if not isinstance(summed, sp.MatAdd):
            return summed
        like = add_entrywise_terms(list(summed.args))
        if like != summed:
            self.steps.append(Step("like terms: c Φ(Z) + d Ψ(Z) = (c Φ + d Ψ)(Z)", summed, like))
            if not isinstance(like, sp.MatAdd):
                return like
            summed = like
        by_hadamard = summed
        if sum(isinstance(_split(t)[1][-1], sp.HadamardProduct) for t in summed.args) >= 2:
            by_hadamard = collect_hadamard_factors(list(summed.args))
        if by_hadamard != summed:
            self.steps.append(Step("common entrywise factor: A ⊙ C + B ⊙ C = (A + B) ⊙ C",
                                   summed, by_hadamard))
            if not isinstance(by_hadamard, sp.MatAdd):
                return self.entrywise(by_hadamard)
            summed = by_hadamard
        collected = collect_factors(list(summed.args))
        if collected != summed:
            self.steps.append(Step("collect common factors: A C + B C = (A + B) C", summed,
                                   collected))
        factored = pull_common_coefficient(collected)
        if factored != collected:
            self.steps.append(Step("common factor: c A + c B = c (A + B)", collected, factored))
        return self.entrywise(factored)

    def visit_HadamardProduct(self, expr):
        return self.orient(self.entrywise(hadamard(*[self.visit(a) for a in expr.args])))

    def visit_HadamardPower(self, expr):
        return self.orient(sp.HadamardPower(self.visit(expr.base), expr.exp))

    def orient(self, expr):
        """An entrywise node in its one canonical orientation, so that equal terms look equal:
        Φ(Zᵀ) = Φ(Z)ᵀ and Aᵀ ⊙ Bᵀ = (A ⊙ B)ᵀ whenever that leaves fewer transposes inside
        (σ(aᵀWᵀ + bᵀ) = σ(W a + b)ᵀ, σ(Xᵀ) = σ(X)ᵀ), or as many and the node is a row (vectors
        are columns: exp(xᵀA) = exp(Aᵀx)ᵀ); never the other way."""
        result = _canonical_orientation(expr, self.symmetric)
        if result == expr:
            return expr
        self.steps.append(Step("Φ(Zᵀ) = Φ(Z)ᵀ, Aᵀ ⊙ Bᵀ = (A ⊙ B)ᵀ (entrywise operations commute "
                               "with ᵀ)", expr, result))
        return result

    def entrywise(self, expr):
        simpler = simplify_entrywise(expr)
        if simpler != expr:
            self.steps.append(Step("entrywise algebra (Φ' written out, terms cancelled)", expr,
                                   simpler))
        return simpler

    def visit_DiagonalOf(self, expr):
        return diagonal_of(self.visit(expr.arg))

    def visit_MatPow(self, expr):
        return sp.MatPow(self.visit(expr.base), expr.exp).doit(deep=False)


_ENTRYWISE_NODES = (ElementwiseApplyFunction, sp.HadamardProduct, sp.HadamardPower)


def _inner_products(factors):
    """The inner products aᵀ b inside a product of ``factors``, as (start, stop, a, b) with
    factors[start:stop] = aᵀ b and one side a single factor: aᵀ then a column factor or the
    column the remaining factors make; an entrywise column after the row the factors from a
    row onwards make (xᵀAᵀ Φ(A x): a = A x)."""
    for i, factor in enumerate(factors[:-1]):
        if isinstance(factor, sp.Transpose) and is_column(factor.arg):
            if is_column(factors[i + 1]):
                yield i, i + 2, factor.arg, factors[i + 1]
            elif i + 2 < len(factors) and is_column(factors[-1]):
                yield i, len(factors), factor.arg, mm(*factors[i + 1:])
    for k, factor in enumerate(factors):
        if k < 2 or not (isinstance(factor, _ENTRYWISE_NODES) and is_column(factor)):
            continue
        start = next((j for j in range(k) if is_row(factors[j])), None)
        if start is not None and k - start >= 2:
            yield start, k + 1, transpose(mm(*factors[start:k])), factor


def _split(term):
    if isinstance(term, sp.MatMul):
        coeff, factors = term.as_coeff_matrices()
        return coeff, list(factors)
    return sp.S.One, [term]


def collect_factors(terms: list):
    """Σ terms with the most frequent common trailing (then leading) factor pulled out.

    A term that is the factor itself (times a scalar) joins the group as c I:
    (xᵀx) Aᵀ + 2 x xᵀ Aᵀ = ((xᵀx) I + 2 x xᵀ) Aᵀ.
    """
    if len(terms) < 2:
        return madd(*terms)
    parts = [_split(t) for t in terms]
    for side in (-1, 0):
        counts: Counter = Counter()
        for coeff, factors in parts:
            if len(factors) >= 2:
                counts[factors[side]] += 1
        for coeff, factors in parts:
            if len(factors) == 1 and counts[factors[0]]:
                counts[factors[0]] += 1
        candidates = [k for k, n in counts.items() if n >= 2]
        if not candidates:
            continue
        best = sorted(candidates, key=lambda k: (-counts[k], sp.default_sort_key(k)))[0]
        grouped, others = [], []
        for term, (coeff, factors) in zip(terms, parts):
            if len(factors) >= 2 and factors[side] == best:
                rest = factors[:-1] if side == -1 else factors[1:]
                grouped.append(mm(coeff, *rest))
            elif len(factors) == 1 and factors[0] == best:
                grouped.append(mm(coeff, sp.Identity(best.shape[0 if side == -1 else 1])))
            else:
                others.append(term)
        inside = pull_common_coefficient(collect_factors(grouped))
        product = mm(inside, best) if side == -1 else mm(best, inside)
        return madd(product, *([collect_factors(others)] if others else []))
    return madd(*terms)


def add_entrywise_terms(terms: list):
    """Σ terms with the entrywise functions of one argument added up when their sum simplifies
    (something cancels): −(1/z) + 1/z = 0, (2/z) + 1/z = 3/z.  Terms that are not entrywise
    functions are kept as they are."""
    groups: dict = {}
    for index, term in enumerate(terms):
        coeff, factors = _split(term)
        if len(factors) != 1 or not isinstance(factors[0], (ElementwiseApplyFunction,
                                                            sp.HadamardPower)):
            continue
        if coeff.has(_ENTRY) or not coeff.is_number:
            continue
        argument, body = _as_entrywise(factors[0])
        groups.setdefault(argument, []).append((index, coeff * body))
    replaced: dict = {}
    for argument, members in groups.items():
        if len(members) < 2:
            continue
        total = sp.Add(*[body for _, body in members])
        if sp.count_ops(total) >= sum(sp.count_ops(body) for _, body in members):
            continue
        indices = [index for index, _ in members]
        if total == 0:
            value = None
        elif not total.has(_ENTRY):
            value = mm(total, sp.OneMatrix(*argument.shape))
        elif total == _ENTRY:
            value = argument
        else:
            value = elementwise(sp.Lambda(_ENTRY, total), argument)
        replaced[indices[0]] = value
        replaced.update({index: None for index in indices[1:]})
    if not replaced:
        return madd(*terms)
    kept = [replaced[i] if i in replaced else term for i, term in enumerate(terms)]
    kept = [term for term in kept if term is not None]
    return madd(*kept) if kept else sp.ZeroMatrix(*terms[0].shape)


def collect_hadamard_factors(terms: list):
    """Σ terms with the most frequent common Hadamard factor pulled out, the rest of each such
    term summed with :func:`collect_factors`:
    (A u) ⊙ v + (Aᵀ u) ⊙ v = ((A + Aᵀ) u) ⊙ v, c σ'(z) ⊙ a + σ'(z) ⊙ b = σ'(z) ⊙ (c a + b).
    """
    if len(terms) < 2:
        return madd(*terms)
    parts = []
    for term in terms:
        coeff, factors = _split(term)
        matrix = factors[0] if len(factors) == 1 else None
        parts.append((coeff, list(matrix.args) if isinstance(matrix, sp.HadamardProduct)
                      else None))
    counts: Counter = Counter()
    for _, factors in parts:
        for factor in dict.fromkeys(factors or ()):
            counts[factor] += 1
    candidates = [k for k, n in counts.items() if n >= 2]
    if not candidates:
        return madd(*terms)
    best = sorted(candidates, key=lambda k: (-counts[k], sp.default_sort_key(k)))[0]
    grouped, others = [], []
    for term, (coeff, factors) in zip(terms, parts):
        if factors is not None and best in factors:
            rest = list(factors)
            rest.remove(best)
            grouped.append(mm(coeff, hadamard(*rest)))
        else:
            others.append(term)
    inside = collect_hadamard_factors(grouped)
    if isinstance(inside, sp.MatAdd):
        inside = pull_common_coefficient(collect_factors(list(inside.args)))
    product = hadamard(best, inside)
    return madd(product, *([collect_hadamard_factors(others)] if others else []))


def _scalar_factors(coeff) -> tuple:
    """(rational, {base: exponent}) of a scalar coefficient."""
    number, rest = sp.sympify(coeff).as_coeff_Mul()
    powers: dict = {}
    for factor in (sp.Mul.make_args(rest) if rest != 1 else ()):
        base, exponent = factor.as_base_exp()
        powers[base] = powers.get(base, 0) + exponent
    return number, powers


def _shared_powers(first: dict, second: dict) -> dict:
    """The factors two coefficients share: b^min(e1, e2) when both exponents have one sign."""
    shared = {}
    for base, e1 in first.items():
        e2 = second.get(base)
        if e2 is None or not (e1.is_Rational and e2.is_Rational) or (e1 > 0) != (e2 > 0):
            if e2 is not None and e1 == e2:
                shared[base] = e1
            continue
        shared[base] = min(e1, e2) if e1 > 0 else max(e1, e2)
    return shared


def pull_common_coefficient(expr):
    """c A + c B → c (A + B) for the scalar c common to every term of a sum of matrices: the
    largest common rational (negative when every term is negative) times the powers every
    coefficient shares; 2 x − 2 a = 2 (x − a), e^s A + e^s Aᵀ = e^s (A + Aᵀ)."""
    if not isinstance(expr, sp.MatAdd):
        return expr
    numbers, shared = [], None
    for term in expr.args:
        number, powers = _scalar_factors(_split(term)[0])
        if not number.is_Rational:
            return expr
        numbers.append(number)
        shared = powers if shared is None else _shared_powers(shared, powers)
    common = numbers[0]
    for number in numbers[1:]:
        common = sp.gcd(common, number)
    common = abs(common)
    if all(number < 0 for number in numbers):
        common = -common
    common = common * sp.Mul(*[base ** exponent for base, exponent in sorted(
        shared.items(), key=lambda item: sp.default_sort_key(item[0]))])
    if common == 1:
        return expr
    return mm(common, madd(*[mm(1 / common, term) for term in expr.args]))


# --- reading a Jacobian off a VJP -----------------------------------------------------------------

def linear_part(expr, g, steps: list | None = None):
    """M such that ``expr`` = M g, for ``expr`` linear in the column ``g`` (m×1).

    ``expr`` is a column (r×1 → M is r×m) or a scalar (→ M is 1×m).  Uses
    u ⊙ (N g) = diag(u) N g, L gᵀ R = L Rᵀ g (gᵀR is 1×1) and tr(L g R) = R L g.
    """
    steps = steps if steps is not None else []
    result = _linear(expr, g, steps)
    if result is None:
        rows = shape_of(expr)[0]
        return sp.ZeroMatrix(rows, g.shape[0])
    return result


def _linear(expr, g, steps):
    if not expr.has(g):
        return None
    if expr == g:
        return sp.Identity(g.shape[0])
    if not is_matrix(expr):
        return _linear_scalar(expr, g, steps)
    if isinstance(expr, sp.MatAdd):
        parts = [_linear(t, g, steps) for t in expr.args]
        return madd(*[p for p in parts if p is not None])
    if isinstance(expr, sp.Transpose):
        pushed = transpose(expr.arg, entrywise=True)
        if pushed == expr:
            raise NoClosedForm(f"cannot read a Jacobian off {expr}")
        return _linear(pushed, g, steps)
    if isinstance(expr, sp.HadamardProduct):
        with_g = [a for a in expr.args if a.has(g)]
        others = [a for a in expr.args if not a.has(g)]
        if len(with_g) != 1 or not is_column(expr):
            raise NoClosedForm(f"cannot read a Jacobian off {expr}")
        inner_part = _linear(with_g[0], g, steps)
        result = mm(sp.DiagMatrix(hadamard(*others)), inner_part)
        steps.append(Step("u ⊙ (N g) = diag(u) N g", expr, mm(result, g)))
        return result
    if isinstance(expr, sp.DiagonalOf):
        coeff, factors = _split(expr.arg)
        for i, factor in enumerate(factors):
            if factor == g:
                right = mm(*factors[i + 1:])
                if is_row(right):
                    return mm(coeff, sp.DiagMatrix(transpose(right)), *factors[:i])
        raise NoClosedForm(f"cannot read a Jacobian off {expr}")
    if isinstance(expr, sp.MatMul):
        return _linear_product(expr, g, steps)
    raise NoClosedForm(f"cannot read a Jacobian off {type(expr).__name__}: {expr}")


def _linear_product(expr, g, steps):
    coeff, factors = expr.as_coeff_matrices()
    if coeff.has(g):
        rest = mm(*factors)
        return mm(rest, _linear_scalar(coeff, g, steps))
    for i, factor in enumerate(factors):
        if not factor.has(g):
            continue
        left, right = factors[:i], factors[i + 1:]
        if isinstance(factor, sp.MatAdd):
            return madd(*[p for p in (_linear(mm(coeff, *left, t, *right), g, steps)
                                      for t in factor.args) if p is not None])
        if is_column(factor):
            right_value = mm(*right) if right else None
            scale = to_scalar(right_value) if right_value is not None else 1
            if right and not is_one_by_one(right_value):
                break
            return mm(coeff, scale, *left, _linear(factor, g, steps))
        if is_row(factor):
            # L gᵀNᵀ R = L (Rᵀ N g): gᵀ(NᵀR) is 1×1.
            n_part = _linear(transpose(factor, entrywise=True), g, steps)
            right_t = transpose(mm(*right)) if right else None
            result = mm(coeff, *left, right_t, n_part)
            steps.append(Step("L gᵀ R = L Rᵀ g (gᵀR is 1×1)", expr, mm(result, g)))
            return result
        break
    raise NoClosedForm(f"cannot read a Jacobian off {expr}")


def _linear_scalar(expr, g, steps):
    if isinstance(expr, AsScalar):
        return _linear(expr.matrix, g, steps)
    if isinstance(expr, sp.Add):
        return madd(*[p for p in (_linear(a, g, steps) for a in expr.args) if p is not None])
    if isinstance(expr, sp.Mul):
        with_g = [a for a in expr.args if a.has(g)]
        if len(with_g) != 1:
            raise NoClosedForm(f"{expr} is not linear in the upstream gradient")
        rest = sp.Mul(*[a for a in expr.args if not a.has(g)])
        return mm(rest, _linear(with_g[0], g, steps))
    if isinstance(expr, sp.Trace):
        coeff, factors = _split(expr.arg)
        for i, factor in enumerate(factors):
            if factor.has(g):
                for rotated in (mm(coeff, *factors[i + 1:], *factors[:i + 1]),
                                mm(coeff, *factors[i:], *factors[:i])):
                    if is_one_by_one(rotated):
                        steps.append(Step("tr(AB) = tr(BA)", expr, rotated))
                        return _linear(rotated, g, steps)
        raise NoClosedForm(f"cannot read a Jacobian off {expr}")
    raise NoClosedForm(f"cannot read a Jacobian off {type(expr).__name__}: {expr}")


__all__ = ["Step", "RULES", "NoClosedForm", "backpropagate", "tidy", "linear_part", "mm", "madd",
           "transpose", "hadamard", "inner", "add_entrywise_terms", "collect_factors",
           "collect_hadamard_factors", "pull_common_coefficient", "rule_for", "zero_like"]
