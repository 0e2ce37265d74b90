"""Exact evaluation of matrix expressions at random rational points, for verdicts on claims.

A claim and its truth are matrix expressions over the same inputs (x, y, the parameters; or
an identity's variables).  :func:`draw_point` gives every input a small random rational value
(targets from the loss's target domain, symmetric matrices symmetric), :func:`evaluate` the
value of an expression there with every entry at 50 significant digits, and :func:`same`
compares two such values entry by entry — never with a float tolerance: two values agree when
they differ by less than 10^-35 relative, far below what any wrong formula gives at random
rational points and far above the 50-digit rounding.

>>> v = sp.MatrixSymbol("v", 2, 1)
>>> point = draw_point([v], random.Random(0))
>>> same(evaluate(2 * v, point), evaluate(v + v, point))
True
"""

from __future__ import annotations

import random

import numpy as np
import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixExpr

from derive.activations import expand_activations
from derive.calculus.matrix_nodes import ActivationPrime, AsScalar, LogSumExp, MatNorm
from derive.calculus.explicit import explicit_value
from derive.targets import draw_targets

DIGITS = 50
#: Relative agreement two 50-digit values must reach to be equal.
AGREEMENT = sp.Float(10, DIGITS) ** -35


def _rational(rng: random.Random) -> sp.Rational:
    """A small nonzero rational: p/q, |p| ≤ 9, 2 ≤ q ≤ 9 (never an integer, never 0)."""
    while True:
        value = sp.Rational(rng.choice([-1, 1]) * rng.randint(1, 9), rng.randint(2, 9))
        if value.q != 1:
            return value


def draw_point(inputs, rng: random.Random, targets: dict | None = None,
               symmetric=frozenset()) -> dict:
    """Input → value: an ImmutableMatrix of rationals for a MatrixSymbol, a Rational for a
    Symbol.

    Parameters
    ----------
    inputs : iterable of Symbol or MatrixSymbol
        Integer shapes.
    rng : random.Random
    targets : dict, optional
        input → target domain (a key of :data:`derive.targets.TARGET_DOMAINS`) for the inputs
        that are targets; drawn by :func:`derive.targets.draw_targets` (hard draws, which are
        exact in binary floating point and so exact as rationals), except ``real`` targets,
        drawn as the other inputs (small rationals, any real vector being in the domain).
    symmetric : collection of str
        Names of the square matrices to draw symmetric.
    """
    targets = targets or {}
    point = {}
    for symbol in sorted(inputs, key=sp.default_sort_key):
        if not isinstance(symbol, sp.MatrixSymbol):
            point[symbol] = _rational(rng)
            continue
        rows, cols = (int(n) for n in symbol.shape)
        if targets.get(symbol, "real") != "real":
            drawn = draw_targets(targets[symbol], (rows, cols),
                                 np.random.default_rng(rng.randrange(2 ** 32)))
            point[symbol] = sp.ImmutableMatrix(rows, cols,
                                               [sp.Rational(float(t)) for t in drawn.flat])
            continue
        entries = [[_rational(rng) for _ in range(cols)] for _ in range(rows)]
        if symbol.name in symmetric and rows == cols:
            entries = [[entries[min(i, j)][max(i, j)] for j in range(cols)] for i in range(rows)]
        point[symbol] = sp.ImmutableMatrix(entries)
    return point


def evaluate(expr, point: dict) -> sp.ImmutableMatrix:
    """The value of ``expr`` (matrix or scalar expression over the inputs of ``point``) as an
    ImmutableMatrix of 50-digit numbers (1×1 for a scalar).

    Raises
    ------
    ValueError
        When an entry is not a finite number (an input left free, a division by zero).
    """
    value = explicit_value(sp.sympify(expr), point)
    if isinstance(value, MatrixExpr) and not isinstance(value, sp.MatrixBase):
        value = value.as_explicit()
    if not isinstance(value, sp.MatrixBase):
        value = sp.ImmutableMatrix([[value]])
    entries = []
    for entry in value:
        number = sp.N(_explicit(sp.sympify(entry).doit()), DIGITS)
        if not number.is_number or number.has(sp.nan, sp.zoo, sp.oo, -sp.oo) or \
                not number.is_real:
            raise ValueError(f"not a finite real number: {entry}")
        entries.append(number)
    return sp.ImmutableMatrix(value.rows, value.cols, entries)


def _explicit(scalar):
    """A scalar with every activation and activation derivative written out, and every 1×1
    matrix used as a number, norm and log-sum-exp of an explicit matrix made its number."""
    scalar = scalar.replace(lambda f: isinstance(f, AsScalar),
                            lambda f: sp.ImmutableMatrix(f.matrix.doit())[0, 0]
                            if not isinstance(f.matrix.doit(), MatrixExpr) or
                            isinstance(f.matrix.doit(), sp.MatrixBase) else f)
    scalar = scalar.replace(
        lambda f: isinstance(f, MatNorm) and isinstance(f.matrix, sp.MatrixBase),
        lambda f: sp.sqrt(sum(entry ** 2 for entry in f.matrix)))
    scalar = scalar.replace(
        lambda f: isinstance(f, LogSumExp) and isinstance(f.vector, sp.MatrixBase),
        lambda f: sp.log(sum(sp.exp(entry) for entry in f.vector)))
    scalar = scalar.replace(lambda f: isinstance(f, ActivationPrime), lambda f: f.explicit())
    return expand_activations(scalar)


def same(first: sp.MatrixBase, second: sp.MatrixBase) -> bool:
    """Whether two values of :func:`evaluate` are equal: same shape, every entry within
    10^-35 relative."""
    if first.shape != second.shape:
        return False
    return all(abs(a - b) <= AGREEMENT * max(1, abs(a), abs(b)) for a, b in zip(first, second))


def ratio(claimed: sp.MatrixBase, true: sp.MatrixBase):
    """The constant c with claimed = c · true, as a simple rational, or ``None``."""
    if claimed.shape != true.shape:
        return None
    pairs = [(a, b) for a, b in zip(claimed, true) if abs(b) > AGREEMENT]
    if not pairs:
        return None
    c = sp.nsimplify(pairs[0][0] / pairs[0][1], rational=True, tolerance=sp.Float(10) ** -30)
    if c == 0 or not same(claimed, true.applyfunc(lambda t: c * t)):
        return None
    return c


def printed(value: sp.MatrixBase, exact: bool = False) -> list:
    """A value as a nested list of strings (rows), exact or at 15 digits."""
    def text(entry):
        return str(entry) if exact else sp.sstr(sp.N(entry, 15))
    return [[text(value[i, j]) for j in range(value.cols)] for i in range(value.rows)]


__all__ = ["AGREEMENT", "DIGITS", "draw_point", "evaluate", "printed", "ratio", "same"]
