r"""Display lines of a network's lecture: printed in the course's notation, checked by the engine.

A course structure states each line as a SymPy matrix expression over the symbols of the
engine's derivation (:class:`derive.engine.MatrixDerivation`) together with the quantity its
left side names (the engine's value of it: δ^{[l]}, ∇_W L, ∂L/∂z^{[l]} in the layout, a
Jacobian).  :class:`LineChecker` evaluates both at random rational points with 50-digit
arithmetic — inputs, parameters and targets drawn (targets from the loss's domain), the
forward values and signals computed from the engine's own straight-line program — and records
the :class:`~derive.derivation.Check`; a line that differs is a bug of the course structure and
stops the document (:class:`LineMismatch`).  The engine's values are in turn checked as a whole
(central differences of its gradients), which the closing section says.

Symbolic sizes are instantiated (n_l → small integers) for the check; a symbolic depth is
checked by the engine's instantiation at an explicit depth, recorded on the derivation.

:class:`Writer` prints a line (:func:`derive.printing.latex_matrix.MatrixRenderer`: the
profile's symbols), numbers it, and can set the shape of each factor under it, as the CS229
notes do (``\underbrace{W^{[1]}}_{3 \times 2}``).
"""

from __future__ import annotations

import random
from itertools import count

import sympy as sp

from derive.calculus.explicit import explicit_value
from derive.derivation import Check
from derive.errors import CheckFailed
from derive.engine import CHECK_DEPTH, derive_matrix, instance_mapping
from derive.naming import N
from derive.notation import Profile
from derive.printing.latex_matrix import MatrixRenderer
from derive.targets import target_domain
from verify.claim_points import draw_point, evaluate, same

from .document import Eq

__all__ = ["LineChecker", "LineMismatch", "Writer", "instantiated_sizes"]

#: Rational points each line is compared at.
POINTS = 3
#: Integer sizes a symbolic size n_l is instantiated at, by position (then 2).
SMALL_SIZES = (3, 4, 3, 2, 3)
#: Samples of a batch line.
BATCH = 3


class LineMismatch(CheckFailed):
    """A displayed line differs from the engine's value of its left side (the commands report
    it with exit status 1, as every failed check of the engine)."""


def instantiated_sizes(d) -> dict:
    """Size symbol → integer for checking ``d``'s lines (empty at integer sizes)."""
    net = d.network
    mapping = {}
    for position in range(net.depth + 1):
        size = net.size(position)
        if isinstance(size, sp.Basic) and not size.is_Integer:
            mapping[size] = SMALL_SIZES[position] if position < len(SMALL_SIZES) else 2
    if d.batch:
        mapping[N] = BATCH
    return mapping


class LineChecker:
    """Compare expressions over a derivation's symbols at rational points (module docstring)."""

    def __init__(self, d, seed: int = 0):
        self.d = d
        self.generic = bool(d.network.symbolic_depth)
        if self.generic:
            # Lines stated for any depth are checked at an explicit depth, layer by layer.
            net = d.network.at_depth(CHECK_DEPTH)
            self.explicit = LineChecker(derive_matrix(net, layout=d.layout, batch=d.batch,
                                                      check=False), seed)
            return
        self.sizes = instantiated_sizes(d)
        sym = d.symbols
        inputs = [sym.a(0), sym.y()]
        for position in range(1, d.network.depth + 1):
            inputs += list(sym.params(position).values())
        inputs = [self._sized(symbol) for symbol in inputs]
        domain = target_domain(d.network.loss.targets).name
        rng = random.Random(seed)
        self.points = []
        for _ in range(POINTS):
            point = draw_point(inputs, rng, targets={self._sized(sym.y()): domain})
            for symbol, value in d.definitions.items():
                point[self._sized(symbol)] = evaluate(self._sized(value), point)
            self.points.append(point)
        net = d.network
        self.check = Check("rational_points", "engine", points=POINTS, digits=50,
                           sizes=tuple(int(sp.sympify(net.size(p)).xreplace(self.sizes))
                                       for p in range(net.depth + 1)),
                           batch=BATCH if d.batch else None)

    def _sized(self, expr):
        return expr.xreplace(self.sizes) if self.sizes else expr

    def value(self, expr, point: int = 0):
        """``expr`` at point ``point`` (an ImmutableMatrix of 50-digit numbers)."""
        return evaluate(self._sized(expr), self.points[point])

    def _instance(self, k: int) -> dict:
        """Symbol of the generic derivation → that of the explicit one, at j = k."""
        return instance_mapping(self.d, self.explicit.d, k)

    def _compare_instances(self, shown, truth, what: str) -> Check:
        """A line for any depth: at j = 1 … CHECK_DEPTH where every symbol exists there."""
        known = set(self.explicit.d.symbols.table)
        checked = 0
        for k in range(1, CHECK_DEPTH + 1):
            mapping = self._instance(k)
            pair = [sp.sympify(e).xreplace(mapping) for e in (shown, truth)]
            free = set().union(*(e.atoms(sp.MatrixSymbol) for e in pair))
            if not free <= known:
                continue
            self.explicit.compare(*pair, what=f"{what} at j = {k}")
            checked += 1
        if not checked:
            raise LineMismatch(f"the line for {what} could not be instantiated")
        return Check("instantiation", "explicit_depth", sizes=(CHECK_DEPTH,),
                     parts=(self.explicit.check,))

    def jacobian(self, shown, of, wrt, layout: str, what: str) -> Check:
        """The check that ``shown`` is the Jacobian ∂of/∂wrt in ``layout``: ``of`` evaluated
        with ``wrt`` left as symbols, differentiated entry by entry by ``sympy.diff``, then
        compared with ``shown`` at every point.

        Raises
        ------
        LineMismatch
            They differ somewhere.
        """
        if self.generic:
            checks = [self.explicit.jacobian(*(e.xreplace(self._instance(k)) for e in
                                               (shown, of, wrt)), layout, what)
                      for k in range(1, CHECK_DEPTH) if
                      {e for x in (shown, of, wrt) for e in x.atoms(sp.MatrixSymbol)}
                      <= set(self._instance(k))]
            if not checks:
                raise LineMismatch(f"the Jacobian line for {what} could not be instantiated")
            return Check("instantiation", "explicit_depth", sizes=(CHECK_DEPTH,),
                         parts=(checks[0],))
        wrt = self._sized(wrt)
        rows, cols = (int(n) for n in wrt.shape)
        entries = sp.Matrix(rows, cols, sp.symbols(f"t0:{rows * cols}", real=True))
        for k in range(POINTS):
            point = dict(self.points[k])
            here = {e: v for e, v in zip(entries, point[wrt])}
            point[wrt] = sp.ImmutableMatrix(entries)
            value = explicit_value(self._sized(of), point)
            jac = sp.Matrix(value).reshape(len(value), 1).jacobian(list(entries))
            jac = evaluate(sp.ImmutableMatrix(jac.xreplace(here)), {})
            if layout == "denominator":
                jac = jac.T
            if not same(self.value(shown, k), jac):
                raise LineMismatch(f"the Jacobian line for {what} differs from sympy.diff")
        return Check("rational_points", "sympy_diff", points=POINTS, digits=50,
                     sizes=self.check.sizes)

    def compare(self, shown, truth, what: str) -> Check:
        """The check that ``shown`` equals ``truth`` at every point.

        Raises
        ------
        LineMismatch
            They differ somewhere (the course structure printed a wrong line).
        """
        if self.generic:
            return self._compare_instances(shown, truth, what)
        for k in range(POINTS):
            if not same(self.value(shown, k), self.value(truth, k)):
                raise LineMismatch(f"the line for {what} differs from the engine's value: "
                                   f"{shown} vs {truth}")
        return self.check


class Writer:
    """Numbered, checked display lines of one derivation in one profile."""

    def __init__(self, d, profile: Profile, checker: LineChecker | None = None,
                 tags: count | None = None):
        self.d = d
        self.profile = profile
        self.renderer = MatrixRenderer(d, profile)
        self.checker = checker or LineChecker(d)
        self.tags = tags if tags is not None else count(1)

    def sym(self, kind: str, layer=None) -> str:
        """The profile's symbol of ``kind`` at ``layer`` (``a``, ``W``, ``B``, ``C`` …)."""
        return self.renderer.sym(kind, layer)

    def tex(self, expr) -> str:
        """``expr`` in the profile's notation."""
        return self.renderer.rhs(expr)

    def frac(self, of: str, wrt: str) -> str:
        return rf"\frac{{\partial {of}}}{{\partial {wrt}}}"

    def shape(self, expr) -> str:
        r"""``rows \times cols`` of ``expr`` (sizes instantiated only where they are integers)."""
        rows, cols = (sp.latex(n) if n.is_Atom else rf"({sp.latex(n)})" for n in
                      (sp.sympify(m) for m in expr.shape))
        return rf"{rows} \times {cols}"

    def braced(self, expr) -> str:
        r"""``expr`` with the shape of each factor (each term of a sum) under it."""
        if isinstance(expr, sp.MatAdd):
            return " + ".join(self.braced(term) for term in expr.args)
        if isinstance(expr, sp.MatMul):
            coeff, factors = expr.as_coeff_matrices()
            if coeff == 1 and len(factors) > 1:
                return " ".join(self.underbrace(f) for f in factors)
        return self.underbrace(expr)

    def underbrace(self, expr, bare: bool = False) -> str:
        """``expr`` with its shape under it (in parentheses when it is a compound factor,
        unless ``bare``: the whole right side)."""
        text = self.tex(expr)
        if not bare and isinstance(expr, (sp.MatAdd, sp.MatMul, sp.HadamardProduct)):
            text = rf"\left({text}\right)"
        return rf"\underbrace{{{text}}}_{{{self.shape(expr)}}}"

    def line(self, lhs: str, expr, truth=None, shown: str | None = None, what: str = "",
             relation: str = "=") -> Eq:
        """A numbered line ``lhs = expr`` (printed as ``shown`` when given), checked against
        ``truth`` (an expression over the same symbols); ``truth=None``: a definition."""
        text = shown if shown is not None else self.tex(expr)
        if truth is None:
            return Eq(lhs, f"{relation} {text}", str(next(self.tags)), definition=True)
        check = self.checker.compare(expr, truth, what or lhs)
        return Eq(lhs, f"{relation} {text}", str(next(self.tags)), check=check)

    def jacobian_line(self, lhs: str, expr, of, wrt, layout: str, what: str = "",
                      shown: str | None = None) -> Eq:
        """A numbered line ``lhs = expr`` checked as the Jacobian ∂``of``/∂``wrt`` in
        ``layout`` (:meth:`LineChecker.jacobian`: sympy.diff of the entries)."""
        text = shown if shown is not None else self.tex(expr)
        check = self.checker.jacobian(expr, of, wrt, layout, what or lhs)
        return Eq(lhs, f"= {text}", str(next(self.tags)), check=check)

    def same_as(self, lhs: str, expr, check: Check | None, shown: str | None = None) -> Eq:
        """A numbered line that shows an engine step with the engine's own check of it."""
        text = shown if shown is not None else self.tex(expr)
        return Eq(lhs, f"= {text}", str(next(self.tags)), check=check,
                  definition=check is None)
