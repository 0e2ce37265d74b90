r"""Entrywise algebra: simplify a matrix expression that is built entry by entry.

Sums, Hadamard products, scalar multiples, the ones matrix and elementwise functions act on
each entry separately, so such an expression is a *scalar* function of the entries of its
atoms (the matrices inside it that are not built entrywise: ``y``, ``W x``).  Written as that
scalar function, it can be simplified by SymPy: with σ' = σ(1 − σ),

    y ⊙ σ'(z) ⊙ (1/σ(z)) − (1 − y) ⊙ σ'(z) ⊙ 1/(1 − σ(z))   becomes   y − σ(z),

which is how the sigmoid/cross-entropy gradient simplifies (as the Mines course writes it).  The
result is turned back into a matrix expression and kept only when it is strictly shorter.

Glossary: an *atom* is a matrix sub-expression not built entrywise, replaced by a scalar
symbol; ``d`` the dummy argument of an elementwise function.  Scalar nodes (vᵀAv, ‖x‖) become
symbols too, and never enter the body of an elementwise function (they may contain elementwise
functions themselves, whose bound dummy is the same one).
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from .constructors import hadamard, madd, mm
from .matrix_nodes import ActivationPrime, elementwise, is_matrix

_SCALAR_NODES = ("AsScalar", "MatNorm", "LogSumExp", "Determinant", "Trace")


class _NotEntrywise(Exception):
    """The expression cannot be written as a function of its atoms' entries."""


class _Scalarizer:
    """Matrix expression ⇄ scalar expression in one symbol per atom and per scalar factor."""

    def __init__(self):
        self.atoms: dict = {}          # matrix atom → Dummy
        self.scalars: dict = {}        # scalar node (vᵀAv, ‖x‖, ...) → Dummy

    def atom(self, matrix) -> sp.Dummy:
        if matrix not in self.atoms:
            self.atoms[matrix] = sp.Dummy(f"e{len(self.atoms)}", real=True)
        return self.atoms[matrix]

    def scalar(self, coeff) -> sp.Expr:
        """``coeff`` with its outermost scalar nodes (vᵀAv, ‖x‖, det X, …) as symbols."""
        coeff = sp.sympify(coeff)
        mapping, stack = {}, [coeff]
        while stack:
            node = stack.pop()
            if type(node).__name__ in _SCALAR_NODES:
                if node not in self.scalars:
                    self.scalars[node] = sp.Dummy(f"c{len(self.scalars)}", real=True)
                mapping[node] = self.scalars[node]
            else:
                stack.extend(node.args)
        return coeff.xreplace(mapping)

    def to_scalar(self, expr) -> sp.Expr:
        if isinstance(expr, sp.MatAdd):
            return sp.Add(*[self.to_scalar(t) for t in expr.args])
        if isinstance(expr, sp.HadamardProduct):
            return sp.Mul(*[self.to_scalar(t) for t in expr.args])
        if isinstance(expr, sp.HadamardPower):
            return self.to_scalar(expr.base) ** expr.exp
        if isinstance(expr, ElementwiseApplyFunction):
            (var,), body = expr.function.variables, expr.function.expr
            argument = expr.expr
            # a pre-activation W x + b stays one atom: σ(W x + b), not σ of two entries
            inner = self.to_scalar(argument) if argument.has(ElementwiseApplyFunction) \
                else self.atom(argument)
            return body.xreplace({var: inner})
        if isinstance(expr, sp.OneMatrix):
            return sp.S.One
        if isinstance(expr, sp.ZeroMatrix):
            return sp.S.Zero
        if isinstance(expr, sp.MatMul):
            coeff, factors = expr.as_coeff_matrices()
            if len(factors) == 1:
                return self.scalar(coeff) * self.to_scalar(factors[0])
            if coeff != 1:
                return self.scalar(coeff) * self.atom(sp.MatMul(*factors).doit(deep=False))
        if not is_matrix(expr):
            raise _NotEntrywise(expr)
        return self.atom(expr)

    def to_matrix(self, scalar: sp.Expr, shape):
        """The matrix expression of ``scalar`` (entries of shape ``shape``)."""
        back = {d: m for m, d in self.atoms.items()}
        restore = {d: node for node, d in self.scalars.items()}
        depends = [d for d in back if scalar.has(d)]
        if not depends:
            return mm(scalar.xreplace(restore), sp.OneMatrix(*shape))
        if isinstance(scalar, sp.Add):
            return madd(*[self.to_matrix(term, shape) for term in scalar.args])
        factors = sp.Mul.make_args(scalar) if isinstance(scalar, sp.Mul) else (scalar,)
        coeff, by_atom, composite = [], {}, []
        for factor in factors:
            on = [d for d in back if factor.has(d)]
            if not on:
                coeff.append(factor.xreplace(restore))
            elif len(on) == 1 and not factor.has(*restore):
                by_atom.setdefault(on[0], []).append(factor)
            elif isinstance(factor, sp.Add):
                composite.append(self.to_matrix(factor, shape))
            elif isinstance(factor, sp.Pow) and not factor.exp.has(*on):
                d = sp.Dummy("d", real=True)
                composite.append(elementwise(sp.Lambda(d, d ** factor.exp),
                                             self.to_matrix(factor.base, shape)))
            elif isinstance(factor, sp.Function) and len(factor.args) == 1:
                composite.append(elementwise(factor.func, self.to_matrix(factor.args[0], shape)))
            else:
                raise _NotEntrywise(factor)
        parts = []
        for d in sorted(by_atom, key=lambda s: s.name):
            body = sp.Mul(*by_atom[d])
            if body == d:
                parts.append(back[d])
            else:
                lam = sp.Lambda(d, body.xreplace(restore))
                parts.append(elementwise(lam, back[d]))
        return mm(sp.Mul(*coeff), hadamard(*parts, *composite))


def _explicit_primes(scalar: sp.Expr) -> sp.Expr:
    return scalar.replace(lambda f: isinstance(f, ActivationPrime), lambda f: f.explicit())


def _candidates(scalar: sp.Expr):
    cancelled = sp.cancel(scalar)
    return (cancelled, sp.expand(cancelled), sp.factor(cancelled))


@lru_cache(maxsize=4096)
def simplify_entrywise(expr):
    r"""A strictly shorter form of an entrywise-built matrix expression, or ``expr`` itself.

    >>> from derive.calculus.functions import NamedFunction, X
    >>> from derive.calculus.matrix_nodes import prime_function
    >>> class sigmoid(NamedFunction):
    ...     class entry:
    ...         expr, latex = 1 / (1 + sp.exp(-X)), r"\sigma"
    ...         derivative_at = staticmethod(lambda arg: sigmoid(arg) * (1 - sigmoid(arg)))
    >>> n = sp.Symbol("n")
    >>> z, y = sp.MatrixSymbol("z", n, 1), sp.MatrixSymbol("y", n, 1)
    >>> s, ds = elementwise(sigmoid, z), elementwise(prime_function(sigmoid), z)
    >>> d = sp.Dummy()
    >>> simplify_entrywise(sp.hadamard_product(ds, elementwise(sp.Lambda(d, 1 / d), s)))
    -Lambda(_d, sigmoid(_d)).(z) + 1
    """
    if not is_matrix(expr) or not expr.has(ElementwiseApplyFunction):
        return expr
    scalarizer = _Scalarizer()
    try:
        scalar = scalarizer.to_scalar(expr)
    except _NotEntrywise:
        return expr
    if any(isinstance(node, sp.MatrixExpr) for node in sp.preorder_traversal(scalar)):
        return expr                  # a matrix left inside a function body: not entrywise
    cost = sp.count_ops(scalar)
    best = min(_candidates(_explicit_primes(scalar)), key=sp.count_ops)
    if sp.count_ops(best) >= cost:
        return expr
    try:
        return scalarizer.to_matrix(best, expr.shape)
    except _NotEntrywise:
        return expr


__all__ = ["simplify_entrywise"]
