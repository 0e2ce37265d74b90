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

:data:`VJP_RULES` is the table (node class → (identity, rule)), filled by :func:`register_vjp`:
below for SymPy's nodes and the calculus's own, and by any module that defines a node of its own
(a layer), in that module.  :func:`backpropagate` walks an expression with it; bringing the
result into textbook form is :func:`~derive.calculus.tidy.tidy`'s job, not the walk's.

A rule takes ``(node, G)`` and returns ``[(child, thunk)]``, the thunk giving the child's
cotangent; it is evaluated only for children that depend on the variable.  Every rule applied is
recorded as a :class:`~derive.calculus.steps.Rewrite` ``(identity, node, cotangent)``.

Glossary: ``G`` the cotangent of the node (``g`` when scalar); ``L``, ``R`` the factors left and
right of a factor in a product; ``c`` a scalar coefficient.
"""

from __future__ import annotations

from typing import Callable

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from .constructors import diagonal_of, hadamard, inner, madd, mm, transpose
from .matrix_nodes import (AsScalar, Entrywise2, LogSumExp, MatNorm, Softmax,
                           elementwise_derivative, is_column, is_matrix, to_scalar)
from .steps import NoClosedForm, Rewrite

_DUMMY_PREFIX = "arg"

Rule = Callable[[sp.Basic, sp.Basic], list]

#: node class → (identity, rule): the vector-Jacobian rule of each node, by :func:`register_vjp`.
VJP_RULES: dict[type, tuple[str, Rule]] = {}


def register_vjp(node_class: type, identity: str, rule: Rule) -> None:
    """Make ``rule`` the vector-Jacobian rule of ``node_class`` (and of its subclasses).

    Parameters
    ----------
    node_class : type
        A SymPy expression class (``sp.MatMul``, a node of one's own).
    identity : str
        The differential identity the rule applies, as a step records it
        (``"d(Xᵀ) = (dX)ᵀ"``).
    rule : callable
        ``rule(node, G) -> [(child, thunk)]``: for each child of ``node`` (r×c cotangent ``G``),
        a thunk returning the child's cotangent (the child's shape).

    Raises
    ------
    ValueError
        ``node_class`` already has a rule for another identity.
    """
    known = VJP_RULES.get(node_class)
    if known is not None and known[0] != identity:
        raise ValueError(f"{node_class.__name__} already has the VJP rule {known[0]!r}")
    VJP_RULES[node_class] = (identity, rule)


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
    if not exponent.is_Integer and tuple(base.shape) == (1, 1):
        # a number to any power, (xᵀx)^{1/2}: d(sᵏ) = k sᵏ⁻¹ ds
        return [(base, lambda: mm(exponent * to_scalar(base) ** (exponent - 1), G))]
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


def _rule_entrywise2(node, G):
    return [(node.args[1], lambda: hadamard(node.partial(0), G)),
            (node.args[2], lambda: hadamard(node.partial(1), G))]


register_vjp(sp.MatAdd, "sum rule d(X + Y) = dX + dY", _rule_matadd)
register_vjp(sp.MatMul, "product rule d(XY) = dX Y + X dY", _rule_matmul)
register_vjp(sp.Transpose, "d(Xᵀ) = (dX)ᵀ", _rule_transpose)
register_vjp(sp.Inverse, "d(X⁻¹) = −X⁻¹ dX X⁻¹", _rule_inverse)
register_vjp(sp.MatPow, "d(Xᵏ) = Σ Xⁱ dX Xᵏ⁻¹⁻ⁱ", _rule_matpow)
register_vjp(sp.HadamardProduct, "d(X ⊙ Y) = dX ⊙ Y + X ⊙ dY", _rule_hadamard)
register_vjp(sp.HadamardPower, "d(X^∘k) = k X^∘(k−1) ⊙ dX", _rule_hadamard_power)
register_vjp(ElementwiseApplyFunction, "chain rule d Φ(Z) = Φ'(Z) ⊙ dZ", _rule_elementwise)
register_vjp(Entrywise2, "chain rule d f(A, B) = ∂₁f(A, B) ⊙ dA + ∂₂f(A, B) ⊙ dB",
             _rule_entrywise2)
register_vjp(Softmax, "d softmax(z) = (diag(s) − s sᵀ) dz, column by column", _rule_softmax)
register_vjp(sp.DiagMatrix, "d diag(v) = diag(dv)", _rule_diag_matrix)
register_vjp(sp.DiagonalOf, "d diag(X) = diag(dX)", _rule_diagonal_of)
register_vjp(sp.Trace, "d tr(X) = tr(dX)", _rule_trace)
register_vjp(sp.Determinant, "d det X = det X tr(X⁻¹ dX)", _rule_determinant)
register_vjp(MatNorm, "d‖X‖ = ⟨X, dX⟩ / ‖X‖", _rule_norm)
register_vjp(LogSumExp, "d lse(z) = softmax(z)ᵀ dz", _rule_logsumexp)
register_vjp(AsScalar, "a 1×1 matrix is its entry", _rule_as_scalar)
# Not by class: ‖X‖² is a Pow of a norm, and any other scalar expression goes to sympy.diff.
_NORM_SQUARED = ("d‖X‖² = 2⟨X, dX⟩", _rule_norm_squared)
_SCALAR = ("scalar chain rule", _rule_scalar_function)


def rule_for(node) -> tuple[str, Rule]:
    """The (identity, rule) for a node, looked up by class (and its bases); ‖X‖² and any other
    scalar expression of scalars by their form."""
    if isinstance(node, sp.Pow) and isinstance(node.base, MatNorm) and node.exp == 2:
        return _NORM_SQUARED
    for klass in type(node).__mro__:
        if klass in VJP_RULES:
            return VJP_RULES[klass]
    if isinstance(node, sp.Expr) and not is_matrix(node):
        return _SCALAR
    known = ", ".join(sorted(k.__name__ for k in VJP_RULES))
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
        Receives a :class:`Rewrite` per rule applied.

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
            steps.append(Rewrite(name, node, value))
            _walk(child, value, wrt, steps, out)


__all__ = ["VJP_RULES", "Rule", "register_vjp", "rule_for", "backpropagate"]
