r"""Matrix-expression nodes that networks need beyond the general matrix calculus.

- :class:`Entrywise2` — f(A, B) applied entry by entry to two matrices of one shape: a loss
  ℓ(Ŷ, Y), its derivative ℓ'(Ŷ, Y), or a fused output signal h(A^L, Y);
- :class:`Augment` — Ṽ = [1ᵀ; V], the inputs with a row of ones on top (seed 002's ṽ);
- :class:`DropBias` — W̃ without its column 0, "the weight matrix without its bias column";
- :class:`DropFirstRow` — G without its row 0 (the cotangent of V inside Ṽ).

Each node has its vector-Jacobian rule registered in :data:`derive.calculus.matrix_rules.RULES`
(the rule table of the calculus: one entry per node) and explicit entries (``_entry``), so an
expression instantiated at concrete sizes expands to explicit SymPy matrices.

Glossary: ``u``, ``v`` the two scalar arguments of an entrywise function; ``G`` a cotangent.
"""

from __future__ import annotations

import sympy as sp

from .calculus import matrix_rules
from .calculus.matrix_nodes import ExplicitWhenConcrete
from .calculus.matrix_rules import hadamard, mm, transpose

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


class _OfOneMatrix(ExplicitWhenConcrete):
    """A node of one matrix argument whose shape follows from the argument's by ``resize``."""

    resize = staticmethod(lambda rows, cols: (rows, cols))

    def __new__(cls, argument):
        return sp.MatrixExpr.__new__(cls, argument)

    @property
    def arg(self):
        return self.args[0]

    @property
    def shape(self):
        return self.resize(*self.args[0].shape)


class Augment(_OfOneMatrix):
    """Ṽ = [1ᵀ; V]: a row of ones on top of V ((1 + n) × N for V n × N)."""

    resize = staticmethod(lambda rows, cols: (rows + 1, cols))

    def _entry(self, i, j, **kwargs):
        return sp.S.One if i == 0 else self.args[0][i - 1, j]


class DropBias(_OfOneMatrix):
    """W̃ without its column 0 (the bias column): n × m for W̃ n × (1 + m)."""

    resize = staticmethod(lambda rows, cols: (rows, cols - 1))

    def _entry(self, i, j, **kwargs):
        return self.args[0][i, j + 1]


class DropFirstRow(_OfOneMatrix):
    """G without its row 0."""

    resize = staticmethod(lambda rows, cols: (rows - 1, cols))

    def _entry(self, i, j, **kwargs):
        return self.args[0][i + 1, j]


# --- vector-Jacobian rules -------------------------------------------------------------------

def _rule_entrywise2(node, G):
    return [(node.args[1], lambda: hadamard(node.partial(0), G)),
            (node.args[2], lambda: hadamard(node.partial(1), G))]


def _rule_augment(node, G):
    def cotangent():
        # G = W̃ᵀ Δ: its rows 1… are (W̃ without its bias column)ᵀ Δ.
        if isinstance(G, sp.MatMul):
            coeff, factors = G.as_coeff_matrices()
            first = factors[0]
            if isinstance(first, sp.Transpose) and first.arg.shape[1] == node.shape[0]:
                return mm(coeff, transpose(DropBias(first.arg)), *factors[1:])
        return DropFirstRow(G)
    return [(node.arg, cotangent)]


def _rule_drop_bias(node, G):
    raise matrix_rules.NoClosedForm("DropBias is only produced by the engine, never "
                                    "differentiated")


matrix_rules.RULES.update({
    Entrywise2: ("chain rule d f(A, B) = ∂₁f(A, B) ⊙ dA + ∂₂f(A, B) ⊙ dB", _rule_entrywise2),
    Augment: ("ṽ = [1; v]: ∂ṽ/∂v drops the first row", _rule_augment),
    DropBias: ("W̃ without its bias column", _rule_drop_bias),
})


__all__ = ["Entrywise2", "entrywise2", "Augment", "DropBias", "DropFirstRow",
           "U", "V"]
