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
    "recursion": "P^j = P^{j+1} · ∂f^j/∂a^{j-1} (seed 003)",
    "weight_gradient": "∂E/∂w_k^j = P^{j+1} · ∂f^j/∂w_k^j (seed 003)",
    "bias_gradient": "∂E/∂b^j = P^{j+1} · ∂f^j/∂b^j (seed 003)",
    "gradient_transpose": "∇_x E = [∂E/∂x]ᵀ: the gradient has the shape of x (SPEC §3.1)",
    "diag_hadamard": "diag(v) u = v ⊙ u",
    "signal_definition": "B^j := [∂f^j/∂ζ^j]ᵀ [P^{j+1}]ᵀ = Φ'(ζ^j) ⊙ [P^{j+1}]ᵀ (seed 003)",
    "signal_recursion": "B^j = Φ'(ζ^j) ⊙ (Ω^{j+1} B^{j+1}) (seed 003)",
    "signal_gradient": "∇_{W^j} E and ∇_{b^j} E from B^j (seed 003)",
    "simplify": "algebraic simplification of the fused loss and output activation",
    "target_domain": "a property of the loss's targets (e.g. Σ_k y_k = 1 for cross_entropy)",
    "accumulate": "multivariate chain rule: contributions of every path add up (seed 001)",
    "reduction": "the gradient of a mean (sum) is the mean (sum) of the gradients",
    "layout": "layout conversion: denominator layout is the transpose of numerator layout",
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
        return {"lhs": str(self.lhs), "kind": self.lhs.kind, "layer": self.lhs.layer,
                "index": self.lhs.index, "rhs": sp.sstr(self.rhs, order="none"),
                "rule": self.rule, "justification": RULES[self.rule], "form": self.form,
                "check": self.check}


@dataclass(frozen=True)
class Program:
    """A straight-line program: each symbol defined once, from inputs and earlier symbols."""

    definitions: tuple[tuple[sp.Symbol, sp.Expr], ...]

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

        ``values`` gives the inputs: NumPy arrays (broadcast over a batch), or, with ``digits``,
        mpmath numbers evaluated with that many significant digits.  Only the statements needed
        for ``wanted`` run, each compiled once.
        """
        import numpy as np

        from .activations import expand_activations
        from .printing.numpy_printer import NumpyCodePrinter

        wanted = list(wanted)
        needed = set(wanted)
        for symbol, value in reversed(self.definitions):
            if symbol in needed:
                needed |= value.free_symbols
        env = dict(values)
        printer = NumpyCodePrinter()
        for symbol, value in self.definitions:
            if symbol not in needed or symbol in env:
                continue
            args = sorted(value.free_symbols, key=sp.default_sort_key)
            if digits is None:
                function = sp.lambdify(args, value, modules=[{"np": np}, "numpy"],
                                       printer=printer)
            else:
                function = sp.lambdify(args, expand_activations(value), modules="mpmath")
            env[symbol] = function(*(env[a] for a in args))
        return {symbol: env[symbol] for symbol in wanted}


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
