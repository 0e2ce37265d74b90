"""Machinery shared by the activation and loss registries.

Glossary: ``x`` is the scalar argument of an elementwise activation; ``yhat`` and ``y`` are the
prediction and the target of one output component of a loss.
"""

from __future__ import annotations

import random
import re
from typing import Callable, Generic, Iterable, TypeVar

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.parsing.sympy_parser import convert_xor, parse_expr, standard_transformations

from .derivation import Check
from .errors import BadInput, UnknownName

T = TypeVar("T")

TRANSFORMS = standard_transformations + (convert_xor,)
_CALL = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*$")
FORBIDDEN = re.compile(r"__|\blambda\b|\bimport\b|\beval\b|\bexec\b|[;\n]")


class Registry(Generic[T]):
    """Named factories; ``get("huber(2)")`` calls the ``huber`` factory with ``delta=2``.

    Lookup is by table, and an unknown name raises :class:`UnknownName` listing the known ones.
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._factories: dict[str, Callable[..., T]] = {}

    def register(self, name: str, factory: Callable[..., T]) -> None:
        self._factories[name] = factory

    def names(self) -> list[str]:
        return sorted(self._factories)

    def __contains__(self, name: str) -> bool:
        return _CALL.match(name) is not None and _CALL.match(name).group(1) in self._factories

    def get(self, text: str, where: str | None = None, **params) -> T:
        """The entry ``text`` names (``"huber(2)"``); every error carries ``where``.

        >>> from derive.losses import LOSSES
        >>> LOSSES.get("huber(0)", where="net.toml:4: [network] loss")
        Traceback (most recent call last):
        ...
        derive.errors.BadInput: net.toml:4: [network] loss: huber needs delta > 0, got 0
        """
        match = _CALL.match(text) if isinstance(text, str) else None
        if match is None:
            raise BadInput(f"cannot read {self.kind} {text!r}; write a name such as "
                           f"{self.names()[0]!r} or name(parameter)", where)
        name, arglist = match.group(1), match.group(2)
        if name not in self._factories:
            raise UnknownName(self.kind, name, self._factories, where)
        args, kwargs = _parse_arguments(arglist, where) if arglist else ([], {})
        kwargs.update(params)
        try:
            return self._factories[name](*args, **kwargs)
        except TypeError as exc:
            raise BadInput(f"bad parameters for {self.kind} {name!r}: {exc}", where) from None
        except BadInput as exc:
            # A factory refuses a parameter (huber(0)) without knowing where the text came from.
            if exc.where is not None or where is None:
                raise
            raise BadInput(str(exc), where) from None


def _parse_arguments(arglist: str, where: str | None) -> tuple[list, dict]:
    args, kwargs = [], {}
    for part in filter(None, (p.strip() for p in arglist.split(","))):
        key, _, value = part.rpartition("=")
        try:
            number = sp.Rational(value.strip())
        except (TypeError, ValueError, ZeroDivisionError):
            raise BadInput(f"parameter {part!r} is not a number", where) from None
        if key:
            kwargs[key.strip()] = number
        else:
            args.append(number)
    return args, kwargs


def parse_user_expression(text: str, allowed: dict[str, sp.Symbol], functions: dict,
                          what: str, where: str | None = None) -> sp.Expr:
    """Parse a user's SymPy expression that may use only the symbols in ``allowed``.

    ``functions`` are extra callables the text may use (the registry's activations).
    Raises :class:`BadInput` naming the offending variables or functions.
    """
    if not isinstance(text, str) or not text.strip():
        raise BadInput(f"{what} must be a non-empty SymPy expression string", where)
    if FORBIDDEN.search(text):
        raise BadInput(f"{what} {text!r} is not a plain mathematical expression", where)
    names = {**functions, **allowed, "e": sp.E, "pi": sp.pi}
    try:
        expr = parse_expr(text, local_dict=names, transformations=TRANSFORMS)
    except Exception as exc:  # SymPy raises many types (SyntaxError, TokenError, TypeError ...)
        raise BadInput(f"{what} {text!r} does not parse: {type(exc).__name__}: {exc}",
                       where) from None
    if not isinstance(expr, sp.Expr):
        raise BadInput(f"{what} {text!r} is not a scalar expression", where)
    stray = sorted(str(s) for s in expr.free_symbols if s not in set(allowed.values()))
    if stray:
        raise BadInput(f"{what} {text!r} uses {', '.join(stray)}; it may use only "
                       f"{', '.join(allowed)}", where)
    unknown = sorted({type(f).__name__ for f in expr.atoms(AppliedUndef)})
    if unknown:
        raise BadInput(f"{what} {text!r} calls unknown function(s) {', '.join(unknown)}", where)
    return expr


def find_kinks(expr: sp.Expr, var: sp.Symbol) -> tuple[sp.Expr, ...]:
    """Points in ``var`` where ``expr`` may fail to be differentiable.

    Looks at every Abs, sign, Heaviside, Max, Min and Piecewise inside ``expr`` and solves for
    where its argument changes branch.  The result is sorted and may contain expressions of
    other symbols (a loss's kink ``yhat = y``).
    """
    boundaries: list[sp.Expr] = []
    for node in sp.preorder_traversal(expr):
        if isinstance(node, (sp.Abs, sp.sign, sp.Heaviside)):
            boundaries.append(node.args[0])
        elif isinstance(node, (sp.Max, sp.Min)):
            first, *rest = node.args
            boundaries.extend(first - other for other in rest)
        elif isinstance(node, sp.Piecewise):
            for _, cond in node.args:
                for rel in cond.atoms(sp.core.relational.Relational):
                    boundaries.append(rel.lhs - rel.rhs)
    points: set[sp.Expr] = set()
    for boundary in boundaries:
        if not boundary.has(var):
            continue
        try:
            solutions = sp.solve(sp.Eq(boundary, 0), var)
        except NotImplementedError:
            continue
        points.update(s for s in solutions if s.is_real is not False)
    return tuple(sorted(points, key=sp.default_sort_key))


def decide_equal(lhs: sp.Expr, rhs: sp.Expr, variables: Iterable[sp.Symbol],
                 seed: int = 0, trials: int = 12, simplify: bool = True,
                 against: str = "") -> Check | None:
    """Decide ``lhs == rhs`` for all values of ``variables``: the :class:`Check` that decided
    it, or ``None`` when they differ (or no point could be evaluated).

    Exact simplification first (``simplify=False`` tries only expansion, for speed); where that
    does not reach zero, comparison at ``trials`` random rational points with 50 significant
    digits (never a float tolerance).  Points where either side is undefined are skipped.
    ``against`` names what ``rhs`` is (a key of :data:`derive.derivation.COMPARANDS`).

    >>> x = sp.Symbol("x", real=True)
    >>> decide_equal(sp.sin(x)**2 + sp.cos(x)**2, sp.S.One, [x]).method
    'exact'
    """
    difference = sp.simplify(lhs - rhs) if simplify else sp.expand(lhs - rhs)
    if difference == 0:
        return Check("exact", against)
    variables = sorted(variables, key=sp.default_sort_key)
    rng = random.Random(seed)
    checked = 0
    for _ in range(trials * 3):
        point = {v: sp.Rational(rng.randint(-300, 300), rng.randint(7, 97)) for v in variables}
        left = sp.N(lhs.subs(point), DIGITS)
        right = sp.N(rhs.subs(point), DIGITS)
        if not (left.is_number and right.is_number) or left.has(sp.nan, sp.zoo, sp.oo):
            continue
        if abs(left - right) > sp.Float(10) ** -(DIGITS - 15) * max(1, abs(left)):
            return None
        checked += 1
        if checked == trials:
            return Check("rational_points", against, points=trials, digits=DIGITS)
    return None


#: Significant digits of the rational-point comparisons.
DIGITS = 50
