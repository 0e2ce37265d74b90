r"""Matrix-expression nodes that networks need beyond the general matrix calculus.

- :class:`Entrywise2` (from the calculus, :mod:`derive.calculus.matrix_nodes`) — f(A, B)
  applied entry by entry: a loss ℓ(Ŷ, Y), its derivative ℓ'(Ŷ, Y), or a fused output signal;
- :class:`Augment` — Ṽ = [1ᵀ; V], the inputs with a row of ones on top (the Mines course's ṽ);
- :class:`DropBias` — W̃ without its column 0, "the weight matrix without its bias column";
- :class:`DropFirstRow` — G without its row 0 (the cotangent of V inside Ṽ).

Each node has its vector-Jacobian rule registered below with
:func:`derive.calculus.vjp_rules.register_vjp` (the rule table of the calculus: one entry per
node) and explicit entries (``_entry``), so an expression instantiated at concrete sizes expands
to explicit SymPy matrices.

Glossary: ``u``, ``v`` the two scalar arguments of an entrywise function; ``G`` a cotangent.
"""

from __future__ import annotations

import sympy as sp

from .calculus.constructors import mm, transpose
from .calculus.matrix_nodes import Entrywise2, ExplicitWhenConcrete, U, V, entrywise2
from .calculus.steps import NoClosedForm
from .calculus.vjp_rules import register_vjp


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
    raise NoClosedForm("DropBias is only produced by the engine, never differentiated")


register_vjp(Augment, "ṽ = [1; v]: ∂ṽ/∂v drops the first row", _rule_augment)
register_vjp(DropBias, "W̃ without its bias column", _rule_drop_bias)


__all__ = ["Entrywise2", "entrywise2", "Augment", "DropBias", "DropFirstRow",
           "U", "V"]
