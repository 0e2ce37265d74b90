"""Straight-line programs: each symbol defined once, evaluated with NumPy or mpmath.

A derivation's values are written over named intermediate symbols; their definitions, in order,
form a :class:`Program`.  :meth:`Program.evaluate` compiles the statements it needs into one
Python function, once per set of given and wanted symbols.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable

import mpmath
import numpy as np
import sympy as sp
from sympy.printing.pycode import MpmathPrinter

from .activations import expand_activations
from .calculus.numpy_code import NumpyCodePrinter

@dataclass(frozen=True)
class Program:
    """A straight-line program: each symbol defined once, from inputs and earlier symbols.

    :meth:`evaluate` compiles the statements it needs into one Python function (NumPy or
    mpmath), once per set of given and wanted symbols; the compiled functions are kept with the
    program.
    """

    definitions: tuple[tuple[sp.Symbol, sp.Expr], ...]
    _compiled: dict = field(default_factory=dict, init=False, repr=False, compare=False,
                            hash=False)

    def lookup(self) -> dict[sp.Symbol, sp.Expr]:
        return dict(self.definitions)

    def expand(self, expr: sp.Basic) -> sp.Basic:
        """Substitute definitions, latest first, until only inputs and parameters remain."""
        for symbol, value in reversed(self.definitions):
            if expr.has(symbol):
                expr = expr.xreplace({symbol: value})
        return expr

    def evaluate(self, values: dict[sp.Symbol, object], wanted: Iterable[sp.Symbol],
                 digits: int | None = None) -> dict[sp.Symbol, object]:
        """Run the program numerically and return the ``wanted`` symbols' values.

        Parameters
        ----------
        values : dict
            symbol → value for the inputs: floats or NumPy arrays (all of one shape, e.g. (N,)
            for a batch of N samples, broadcast through every statement), or, with ``digits``,
            mpmath numbers.  A symbol given here is not recomputed even if the program
            defines it.
        wanted : iterable of Symbol
        digits : int, optional
            Evaluate with mpmath at this many significant digits instead of NumPy.

        Returns
        -------
        dict
            symbol → value (an array of the inputs' shape, or a scalar for a statement that
            does not depend on them), for each wanted symbol.

        Only the statements needed for ``wanted`` run.
        """
        wanted = tuple(wanted)
        key = (frozenset(values), wanted, digits is not None)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compile(key[0], wanted, digits is not None)
            self._compiled[key] = compiled
        arguments, function = compiled
        inputs = [values[symbol] for symbol in arguments]
        if digits is None:
            results = function(*inputs)
        else:
            with mpmath.workdps(digits):
                results = function(*inputs)
        return dict(zip(wanted, results))

    def _compile(self, given: frozenset, wanted: tuple, multiprecision: bool):
        """(argument symbols, function of them returning the wanted values in order)."""
        needed = set(wanted)
        for symbol, value in reversed(self.definitions):
            if symbol in needed and symbol not in given:
                needed |= value.free_symbols
        arguments = sorted(needed & given, key=sp.default_sort_key)
        names = {symbol: f"_a{i}" for i, symbol in enumerate(arguments)}
        statements = []
        for symbol, value in self.definitions:
            if symbol not in needed or symbol in names:
                continue
            missing = [s for s in value.free_symbols if s not in names]
            if missing:
                raise KeyError(f"no value for {sorted(map(str, missing))[0]} (needed by "
                               f"{symbol})")
            statements.append((symbol, value))
            names[symbol] = f"_s{len(statements) - 1}"
        absent = [s for s in wanted if s not in names]
        if absent:
            raise KeyError(f"no value or definition for {absent[0]}")
        printer, namespace = _numeric_backend(multiprecision, names)
        lines = [f"def _program({', '.join(names[s] for s in arguments)}):"]
        for symbol, value in statements:
            if multiprecision:
                value = expand_activations(value)
            lines.append(f"    {names[symbol]} = {printer.doprint(value)}")
        lines.append(f"    return ({''.join(names[s] + ', ' for s in wanted)})")
        source = "\n".join(lines) + "\n"
        exec(compile(source, "<derive.Program>", "exec"), namespace)
        return arguments, namespace["_program"]


def _numeric_backend(multiprecision: bool, names: dict):
    """A printer that writes each symbol as ``names[symbol]``, and the namespace its code runs
    in (the one ``sympy.lambdify`` builds for the same modules and printer)."""
    if multiprecision:
        base = MpmathPrinter
        settings = {"fully_qualified_modules": False, "inline": True,
                    "allow_unknown_functions": True, "user_functions": {}}
    else:
        base = NumpyCodePrinter
        settings = {}

    class Renaming(base):
        def _print_Symbol(self, expr):
            name = names.get(expr)
            return name if name is not None else super()._print_Symbol(expr)

        _print_Dummy = _print_Symbol

    return Renaming(settings), dict(_lambdify_namespace(multiprecision, base))


@lru_cache(maxsize=None)
def _lambdify_namespace(multiprecision: bool, printer: type) -> dict:
    """The globals ``sympy.lambdify`` gives its functions for these modules (built once)."""
    if multiprecision:
        modules = "mpmath"
    else:
        modules = [{"np": np}, "numpy"]
    return sp.lambdify((), sp.S.Zero, modules=modules, printer=printer).__globals__


