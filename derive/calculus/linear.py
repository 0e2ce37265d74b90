"""Reading a Jacobian off a vector-Jacobian product: M from an expression M g linear in g.

The Jacobian J of a vector y by x is read off its VJP, Jᵀ g for a symbolic upstream column g:
:func:`linear_part` finds M with ``expr`` = M g, using u ⊙ (N g) = diag(u) N g,
L gᵀ R = L Rᵀ g (gᵀR is 1×1) and tr(L g R) = R L g, each recorded as a
:class:`~derive.calculus.steps.Rewrite`.

Glossary: g the upstream column (m×1); M the matrix read off; L, R the factors left and right
of g in a product; u the other factor of a Hadamard product.
"""

from __future__ import annotations

import sympy as sp

from .constructors import hadamard, madd, mm, split_product, transpose
from .matrix_nodes import (AsScalar, is_column, is_matrix, is_one_by_one, is_row, shape_of,
                           to_scalar)
from .steps import NoClosedForm, Rewrite


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
        steps.append(Rewrite("u ⊙ (N g) = diag(u) N g", expr, mm(result, g)))
        return result
    if isinstance(expr, sp.DiagonalOf):
        coeff, factors = split_product(expr.arg)
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
            steps.append(Rewrite("L gᵀ R = L Rᵀ g (gᵀR is 1×1)", expr, mm(result, g)))
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
        coeff, factors = split_product(expr.arg)
        for i, factor in enumerate(factors):
            if factor.has(g):
                for rotated in (mm(coeff, *factors[i + 1:], *factors[:i + 1]),
                                mm(coeff, *factors[i:], *factors[:i])):
                    if is_one_by_one(rotated):
                        steps.append(Rewrite("tr(AB) = tr(BA)", expr, rotated))
                        return _linear(rotated, g, steps)
        raise NoClosedForm(f"cannot read a Jacobian off {expr}")
    raise NoClosedForm(f"cannot read a Jacobian off {type(expr).__name__}: {expr}")


__all__ = ["linear_part"]
