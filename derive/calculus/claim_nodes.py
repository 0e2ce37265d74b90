r"""Nodes of a claim that only a checker can resolve: derivatives named, sums over samples.

A hand-derived gradient names derivatives of the network's quantities (``\frac{\partial
\mathcal{L}}{\partial z^{[2]}}``, ``\nabla_{W} L``) and sums over the samples of a batch
(``\frac{1}{N}\sum_{i=1}^{N} \delta^{(i)} x^{(i)T}``).  The reader cannot evaluate them — it does
not know the network — so it builds these nodes, each with its shape, and the checker replaces
them by their values:

- :class:`Partial` — ∂(of)/∂(by) in a layout (SPEC §3.1): numerator ∂y/∂x is m×n, ∂f/∂x 1×n,
  ∂f/∂X the shape of Xᵀ; denominator the transposes;
- :class:`Gradient` — ∇_(by) (of), a scalar's gradient: the shape of ``by`` whatever the layout;
- :class:`SampleSum` — Σ_{i=1}^{N} body, ``body`` written for one sample (``x^{(i)}`` read as
  ``x``), with the names that vary by sample.

(A sum over the entries of a vector, ``\sum_i y_i \log a_i``, needs no network: the reader
writes it as 1ᵀ(y ⊙ log a).)

>>> n = sp.Symbol("n")
>>> L, W = sp.Symbol("L", real=True), sp.MatrixSymbol("W", 3, 2)
>>> Partial(L, W, "numerator").shape, Gradient(L, W).shape
((2, 3), (3, 2))
"""

from __future__ import annotations

import sympy as sp

from .matrix_nodes import is_matrix

LAYOUTS = ("numerator", "denominator")


def _shape(expr) -> tuple:
    return tuple(expr.shape) if is_matrix(expr) else (1, 1)


def _vector(shape) -> bool:
    return shape[0] == 1 or shape[1] == 1


def _length(shape):
    return shape[0] if shape[1] == 1 else shape[1]


def partial_shape(of_shape, by_shape, layout: str):
    """The shape of ∂(of)/∂(by) in ``layout``, or ``None`` when it has no matrix form (a matrix
    by a vector, a vector by a matrix: a 3- or 4-tensor)."""
    if of_shape == (1, 1):
        shape = (by_shape[1], by_shape[0])                     # numerator: shape of Xᵀ
    elif by_shape == (1, 1):
        shape = tuple(of_shape)
    elif _vector(of_shape) and _vector(by_shape):
        shape = (_length(of_shape), _length(by_shape))
    else:
        return None
    return shape if layout == "numerator" else (shape[1], shape[0])


class Partial(sp.MatrixExpr):
    r"""∂(of)/∂(by) as the reader found it, in ``layout`` (``"numerator"``/``"denominator"``).

    ``of`` is a scalar or matrix expression (``L``, ``a^{[2]}``, ``x^T A x``); ``by`` a Symbol
    or MatrixSymbol.  Prints as ``\frac{\partial of}{\partial by}``.
    """

    def __new__(cls, of, by, layout):
        layout = getattr(layout, "name", layout)          # a Symbol when SymPy rebuilds it
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
        if partial_shape(_shape(of), _shape(by), layout) is None:
            raise ValueError(f"∂({of})/∂({by}) has no matrix form")
        return sp.MatrixExpr.__new__(cls, sp.sympify(of), by, sp.Symbol(layout))

    of = property(lambda self: self.args[0])
    by = property(lambda self: self.args[1])
    layout = property(lambda self: self.args[2].name)

    @property
    def shape(self):
        return partial_shape(_shape(self.of), _shape(self.by), self.layout)

    def _latex(self, printer):
        return (rf"\frac{{\partial {printer._print(self.of)}}}"
                rf"{{\partial {printer._print(self.by)}}}")


class Gradient(sp.MatrixExpr):
    r"""∇_(by) (of) of a scalar ``of``: the shape of ``by`` (SPEC §3.1).  Prints
    ``\nabla_{by} of``."""

    def __new__(cls, of, by):
        if _shape(of) != (1, 1):
            raise ValueError(f"the gradient of {of}, which is not a scalar")
        return sp.MatrixExpr.__new__(cls, sp.sympify(of), by)

    of = property(lambda self: self.args[0])
    by = property(lambda self: self.args[1])

    @property
    def shape(self):
        return _shape(self.by)

    def _latex(self, printer):
        return rf"\nabla_{{{printer._print(self.by)}}} {printer._print(self.of)}"


class SampleSum(sp.MatrixExpr):
    r"""Σ_{index=1}^{count} body over the samples of a batch.

    ``body`` is written for one sample: the names in ``sampled`` (Symbols or MatrixSymbols)
    are the sample's own quantities (``x`` for ``x^{(i)}``), the others are shared (``W``).
    The shape is the body's (1×1 for a scalar body).
    """

    def __new__(cls, body, index: sp.Symbol, count, sampled=()):
        return sp.MatrixExpr.__new__(cls, sp.sympify(body), index, sp.sympify(count),
                                     sp.Tuple(*sampled))

    body = property(lambda self: self.args[0])
    index = property(lambda self: self.args[1])
    count = property(lambda self: self.args[2])
    sampled = property(lambda self: tuple(self.args[3]))

    @property
    def shape(self):
        return _shape(self.body)

    def _latex(self, printer):
        return (rf"\sum_{{{printer._print(self.index)}=1}}^{{{printer._print(self.count)}}} "
                rf"{printer._print(self.body)}")


__all__ = ["Partial", "Gradient", "SampleSum", "partial_shape", "LAYOUTS"]
