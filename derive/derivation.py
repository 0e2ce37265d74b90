"""A derivation is data: ordered, justified steps plus results.  Rendering lives elsewhere.

A :class:`Step` says that a quantity (a :class:`Label`: "P^3", "∂f^2/∂a^1", "∇_{W^1} E") equals a
SymPy value, by which rule (a key of :data:`RULES`), and how the engine checked it.  Values are
written over *named intermediate symbols* (``z1_2``, ``a1_2``, ``P3_1`` …) whose definitions form a
straight-line program (:attr:`Derivation.program`): the derivation never needs one expanded
expression of the whole network, and :meth:`Derivation.explicit` substitutes back when asked.

Glossary (seed 003): a^j activation, ζ^j (z) pre-activation, P^j = ∂C/∂a^{j-1} a row signal,
B^j = Φ'(ζ^j) ⊙ [P^{j+1}]ᵀ a column signal (δ^{[l]} in cs229), C the per-sample cost, E the
batch cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable

import sympy as sp

#: Every rule a step may cite, with the sentence that justifies it.
RULES: dict[str, str] = {
    "definition": "definition",
    "layer": "the layer function f^j = Φ(ψ(a^{j-1}, W^j, b^j))",
    "loss": "the per-sample cost C = Σ_k ℓ(ŷ_k, y_k)",
    "batch_loss": "the batch cost is the mean (or sum) of the per-sample costs",
    "diff": "entrywise differentiation (sympy.diff)",
    "activation_derivative": "Φ' from sympy.diff, printed in its checked textbook form",
    "chain_rule": "chain rule: the Jacobian of a composition is the product of Jacobians",
    "recursion_start": "P^{L+1} = ∂C/∂a^L (seed 003)",
    "recursion": "P^j = P^{j+1} · ∂f^j/∂a^{j-1} (seed 003; in denominator layout its transpose, "
                 "P^j = ∂f^j/∂a^{j-1} · P^{j+1})",
    "weight_gradient": "∂E/∂w_k^j = P^{j+1} · ∂f^j/∂w_k^j (seed 003; in denominator layout its "
                       "transpose, ∂E/∂w_k^j = ∂f^j/∂w_k^j · P^{j+1})",
    "bias_gradient": "∂E/∂b^j = P^{j+1} · ∂f^j/∂b^j (seed 003; in denominator layout its "
                     "transpose, ∂E/∂b^j = ∂f^j/∂b^j · P^{j+1})",
    "gradient_transpose": "∇_x E = [∂E/∂x]ᵀ in numerator layout, ∂E/∂x itself in denominator "
                          "layout: the gradient has the shape of x (SPEC §3.1)",
    "diag_hadamard": "diag(v) u = v ⊙ u",
    "signal_definition": "B^j := [∂f^j/∂ζ^j]ᵀ [P^{j+1}]ᵀ = Φ'(ζ^j) ⊙ [P^{j+1}]ᵀ (seed 003)",
    "signal_recursion": "B^j = Φ'(ζ^j) ⊙ (Ω^{j+1} B^{j+1}) (seed 003)",
    "signal_gradient": "∇_{W^j} E and ∇_{b^j} E from B^j (seed 003)",
    "simplify": "algebraic simplification of the fused loss and output activation",
    "target_domain": "a property of the loss's targets (e.g. Σ_k y_k = 1 for cross_entropy)",
    "accumulate": "multivariate chain rule: contributions of every path add up (seed 001)",
    "reduction": "the gradient of a mean (sum) is the mean (sum) of the gradients",
    "layout": "layout conversion: denominator layout is the transpose of numerator layout",
    "vjp": "chain rule in reverse mode: the gradient of an input is the transposed Jacobian "
           "applied to the gradient of the output, ∇_x C = (∂y/∂x)ᵀ ∇_y C",
    "loss_gradient": "the cost is a sum of per-entry losses, so ∇_ŷ C = ℓ'(ŷ, y) entrywise "
                     "(ℓ' from sympy.diff)",
}


@dataclass(frozen=True)
class Label:
    """What a step defines: a kind plus the layer / neuron / node it belongs to.

    ``kind`` is one of :data:`LABEL_TEXT`; ``layer`` is the layer j; ``index`` a neuron k;
    ``of`` and ``wrt`` name graph nodes or parameters.
    """

    kind: str
    layer: int | None = None
    index: int | None = None
    of: str | None = None
    wrt: str | None = None

    def __str__(self) -> str:
        return LABEL_TEXT[self.kind].format(j=self.layer, jm=(self.layer or 0) - 1,
                                            jp=(self.layer or 0) + 1, k=self.index,
                                            of=self.of, wrt=self.wrt)


#: Plain-text form of every label kind (profiles for LaTeX live in the notation module).
LABEL_TEXT: dict[str, str] = {
    "input": "a^0",
    "target": "y",
    "z": "z^{j}",
    "a": "a^{j}",
    "C": "C",
    "E": "E",
    "dphi/dz": "dPhi^{j}/dz^{j}",
    "df/da": "df^{j}/da^{jm}",
    "df/dw": "df^{j}/dw_{k}^{j}",
    "df/db": "df^{j}/db^{j}",
    "dC/da": "dC/da^{j}",
    "dC/dz": "dC/dz^{j}",
    "P": "P^{j}",
    "B": "B^{j}",
    "dE/dw": "dE/dw_{k}^{j}",
    "dE/dW": "dE/dW^{j}",
    "dE/db": "dE/db^{j}",
    "grad": "grad_{wrt} E",
    "partial": "d{of}/d{wrt}",
    "node": "{of}",
    "D": "Delta^{j}",
}


@dataclass(frozen=True)
class Step:
    """One equation of a derivation: ``lhs = rhs`` by ``rule``.

    Attributes
    ----------
    lhs : Label
        The quantity defined or derived.
    rhs : sympy.Basic
        Its value (an explicit Matrix at concrete sizes, or a matrix expression).
    rule : str
        A key of :data:`RULES`.
    check : str
        How the engine checked this equality ("" for definitions).
    form : str
        The general formula this step instantiates, in plain text ("P^3 = P^4 · df^3/da^2").
    """

    lhs: Label
    rhs: sp.Basic
    rule: str
    check: str = ""
    form: str = ""

    def __post_init__(self):
        if self.rule not in RULES:
            raise KeyError(f"unknown rule {self.rule!r}")

    def as_dict(self) -> dict:
        layer = self.lhs.layer
        layer = layer if layer is None or isinstance(layer, int) else str(layer)   # j, L
        return {"lhs": str(self.lhs), "kind": self.lhs.kind, "layer": layer,
                "index": self.lhs.index, "rhs": sp.sstr(self.rhs, order="none"),
                "rule": self.rule, "justification": RULES[self.rule], "form": self.form,
                "check": self.check}


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
            import mpmath

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
        if multiprecision:
            from .activations import expand_activations
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
        from sympy.printing.pycode import MpmathPrinter as base

        settings = {"fully_qualified_modules": False, "inline": True,
                    "allow_unknown_functions": True, "user_functions": {}}
    else:
        from .printing.numpy_printer import NumpyCodePrinter as base

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
        import numpy as np

        modules = [{"np": np}, "numpy"]
    return sp.lambdify((), sp.S.Zero, modules=modules, printer=printer).__globals__


@dataclass
class DerivationBase:
    """What every derivation has: steps and a program (MLP and graph derivations extend it)."""

    steps: list[Step] = field(default_factory=list)
    program: Program = field(default_factory=lambda: Program(()))

    def add(self, lhs: Label, rhs: sp.Basic, rule: str, check: str = "", form: str = "") -> Step:
        step = Step(lhs=lhs, rhs=rhs, rule=rule, check=check, form=form)
        self.steps.append(step)
        return step

    def explicit(self, expr: sp.Basic) -> sp.Basic:
        """``expr`` with every intermediate symbol replaced by its definition."""
        return self.program.expand(expr)

    # Renderings live in the printers; these are the SPEC §5a shortcuts.
    def to_latex(self, notation=None) -> str:
        """The derivation as LaTeX in a notation profile (default: the network's own)."""
        from .printing.latex import render_latex

        return render_latex(self, notation)

    def to_numpy(self, notation=None, dtype: str = "float64") -> str:
        """The generated NumPy module of this derivation's network (SPEC §6), checked."""
        from .codegen import generate_numpy

        return generate_numpy(self.network, notation=notation, dtype=dtype).source

    def to_text(self) -> str:
        """The derivation as plain text (what ``python -m derive`` prints)."""
        from .printing.text import render

        return render(self)
