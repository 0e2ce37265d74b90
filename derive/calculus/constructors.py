"""Constructors of matrix expressions in one canonical form, scalars and 1×1 matrices apart.

SymPy's ``*``, ``+`` and ``hadamard_product`` call ``doit`` deeply: that distributes transposes
of sums, fuses σ(sin(x)) into one function with a fresh dummy, and multiplies a 1×1 matrix into
a product it does not align with.  Every part of the calculus builds its expressions with these
instead:

- :func:`mm` — a product of scalars and matrices (a 1×1 matrix that does not align is a scalar:
  ``(vᵀv) x``);
- :func:`madd` — a sum (1×1 matrices added to scalars become scalars);
- :func:`transpose` — Xᵀ pushed to the leaves ((AB)ᵀ = BᵀAᵀ), entrywise nodes kept whole;
- :func:`hadamard` — A ⊙ B ⊙ …, scalar coefficients pulled out, entrywise functions of one
  argument merged when that simplifies them (z ⊙ (1/z) = 1; :func:`merge_entrywise`);
- :func:`inner` — ⟨G, P⟩ = tr(GᵀP) as a scalar; :func:`diagonal_of` — diag(G) as a column.

Glossary: ``G`` a cotangent; ``c`` a scalar coefficient; :data:`ENTRY` the dummy d of the
entrywise bodies these functions compare.
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.kronecker import KroneckerProduct

from .matrix_nodes import (CommutationMatrix, elementwise, hadamard_of, is_column, is_matrix,
                           is_one_by_one, is_row, matrix_sum, to_scalar)


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


#: The dummy d of the bodies :func:`as_entrywise` returns, so that bodies of one argument compare.
ENTRY = sp.Dummy("d", real=True)


def as_entrywise(matrix):
    """(argument, body in d) with ``matrix`` = body(argument) entrywise."""
    if isinstance(matrix, ElementwiseApplyFunction):
        (var,), body = matrix.function.variables, matrix.function.expr
        return matrix.expr, body.xreplace({var: ENTRY})
    if isinstance(matrix, sp.HadamardPower):
        return matrix.base, ENTRY ** matrix.exp
    return matrix, ENTRY


def merge_entrywise(matrices):
    """Hadamard factors that are functions of one argument, merged when that simplifies them:
    returns (factors, scalar factors)."""
    groups: dict = {}
    order = []
    for matrix in matrices:
        argument, body = as_entrywise(matrix)
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
        if sp.count_ops(body) >= cost and body.has(ENTRY):
            result.extend(m for m, _ in members)
        elif not body.has(ENTRY):
            scalars.append(body)
        elif body == ENTRY:
            result.append(argument)
        else:
            result.append(elementwise(sp.Lambda(ENTRY, body), argument))
    return result, scalars


def inner(G, P):
    """⟨G, P⟩ = tr(Gᵀ P) as a scalar."""
    if not is_matrix(G):
        return G * to_scalar(P) if is_matrix(P) else G * P
    if is_column(P) or is_row(P):
        product = mm(transpose(G), P) if is_column(P) else mm(P, transpose(G))
        return to_scalar(product)
    return sp.Trace(mm(transpose(G), P))


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


def split_product(term):
    """(c, [F1, F2, …]) with ``term`` = c F1 F2 …; a term that is not a product is (1, [term])."""
    if isinstance(term, sp.MatMul):
        coeff, factors = term.as_coeff_matrices()
        return coeff, list(factors)
    return sp.S.One, [term]


__all__ = ["mm", "madd", "transpose", "hadamard", "merge_entrywise", "as_entrywise", "ENTRY",
           "inner", "diagonal_of", "split_product"]
