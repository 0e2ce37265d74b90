"""A derivation is data: ordered steps, each an equation, a rule and a check.  Nothing else.

A :class:`Step` says that a quantity (a :class:`Label`: P^3, ∂f^2/∂a^1, ∇_{W^1} E) equals a
SymPy value, by which rule (a key of :data:`RULES`), and how the engine checked it (a
:class:`Check`: method, points, digits, what it was compared with).  A step carries no prose:
each printer words rules and checks its own way.  Values are written over *named intermediate
symbols* (``z1_2``, ``B2``, ``P3_1`` …) whose definitions form a straight-line program
(:class:`derive.program.Program`), so no step needs one expanded expression of the network.

This module imports no printer, engine or code generator: the engines build derivations, the
printers read them (:func:`derive.render.render`).

Glossary (Ensimag notes): a^j activation, ζ^j (z) pre-activation, P^j = ∂C/∂a^{j-1} a row
signal, B^j = Φ'(ζ^j) ⊙ [P^{j+1}]ᵀ a column signal (δ^{[l]} in CS229), C the per-sample cost,
E the batch cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from .naming import fill


@dataclass(frozen=True)
class Rule:
    """One rule a step may cite.

    Attributes
    ----------
    name : str
        Its identifier, the key in :data:`RULES`.
    statement : str
        The rule as a plain-text formula (printers may word it otherwise).
    definition : bool
        Steps by this rule define a quantity: there is nothing to check.
    """

    name: str
    statement: str
    definition: bool = False


#: The one table of rules that steps cite.
RULES: dict[str, Rule] = {r.name: r for r in (
    Rule("definition", "definition", definition=True),
    Rule("layer", "the layer function f^j = Φ(ψ(a^{j-1}, W^j, b^j))", definition=True),
    Rule("loss", "the per-sample cost C = Σ_k ℓ(ŷ_k, y_k)", definition=True),
    Rule("batch_loss", "the batch cost is the mean (or sum) of the per-sample costs",
         definition=True),
    Rule("reduction", "the gradient of a mean (sum) is the mean (sum) of the gradients",
         definition=True),
    Rule("diff", "entrywise differentiation (sympy.diff)"),
    Rule("activation_derivative", "Φ' from sympy.diff, printed in its checked textbook form"),
    Rule("chain_rule", "chain rule: the Jacobian of a composition is the product of Jacobians"),
    Rule("recursion_start", "P^{L+1} = ∂C/∂a^L"),
    Rule("recursion", "P^j = P^{j+1} · ∂f^j/∂a^{j-1}"),
    Rule("weight_gradient", "∂E/∂w_k^j = P^{j+1} · ∂f^j/∂w_k^j"),
    Rule("bias_gradient", "∂E/∂b^j = P^{j+1} · ∂f^j/∂b^j"),
    Rule("gradient_transpose", "∇_x E = [∂E/∂x]ᵀ: the gradient has the shape of x"),
    Rule("diag_hadamard", "diag(v) u = v ⊙ u"),
    Rule("signal_definition", "B^j := [∂f^j/∂ζ^j]ᵀ [P^{j+1}]ᵀ = Φ'(ζ^j) ⊙ [P^{j+1}]ᵀ"),
    Rule("signal_recursion", "B^j = Φ'(ζ^j) ⊙ (Ω^{j+1} B^{j+1})"),
    Rule("signal_gradient", "∇_{W^j} E and ∇_{b^j} E from B^j"),
    Rule("simplify", "algebraic simplification of the fused loss and output activation"),
    Rule("target_domain", "a property of the loss's targets (Σ_k y_k = 1 for cross_entropy)"),
    Rule("accumulate", "multivariate chain rule: the contributions of every path add up"),
    Rule("layout", "layout conversion: denominator layout is the transpose of numerator layout"),
    Rule("vjp", "chain rule in reverse mode: ∇_x C = (∂y/∂x)ᵀ ∇_y C"),
    Rule("loss_gradient", "the cost is a sum of per-entry losses, so ∇_ŷ C = ℓ'(ŷ, y) entrywise"),
)}


#: How an equality can be checked.
CHECK_METHODS = {
    "sympy_diff": "differentiation by sympy.diff",
    "structural": "the two sides are the same expression",
    "exact": "exact simplification: the difference is zero",
    "rational_points": "evaluation at random rational points in high precision",
    "central_differences": "float64 central differences",
    "instantiation": "the generic rule instantiated at an explicit depth",
}

#: What a step can be compared with, when it is not the line it follows.
COMPARANDS = {
    "": "the expression it was derived from",
    "sympy_diff": "sympy.diff of the formula",
    "p_form": "the P recursion",
    "unfused": "Φ'(z) ⊙ ℓ'(Φ(z), y), with a = Φ(z) written out",
    "residual": "a − y",
    "cost": "the cost",
    "engine": "the matrix-form derivation instantiated at these sizes",
    "explicit_depth": "the derivation of an explicit-depth network",
}


@dataclass(frozen=True)
class Check:
    """How the engine checked one equality.

    Attributes
    ----------
    method : str
        A key of :data:`CHECK_METHODS`.
    against : str
        A key of :data:`COMPARANDS`: what the value was compared with.
    points : int or None
        How many random points (rational points, or random directions for central
        differences).
    digits : int or None
        Significant digits of the arithmetic (rational points).
    max_error : float or None
        The largest relative error found (central differences).
    sizes : tuple
        The integer sizes a symbolic derivation was instantiated at (n_0, …), and ``batch`` N.
    batch : int or None
    condition : str
        A target domain the equality assumes (``"simplex"``: Σ_k y_k = 1), or "".
    parts : tuple of Check
        Checks this one rests on (a generic rule: instantiated, then that derivation checked
        by central differences).
    """

    method: str
    against: str = ""
    points: int | None = None
    digits: int | None = None
    max_error: float | None = None
    sizes: tuple = ()
    batch: int | None = None
    condition: str = ""
    parts: tuple = ()

    def __post_init__(self):
        if self.method not in CHECK_METHODS:
            raise KeyError(f"unknown check method {self.method!r}; known: "
                           f"{', '.join(CHECK_METHODS)}")
        if self.against not in COMPARANDS:
            raise KeyError(f"unknown comparand {self.against!r}; known: "
                           f"{', '.join(COMPARANDS)}")

    def compared_with(self, against: str) -> "Check":
        """The same check, stated against another comparand."""
        return Check(self.method, against, self.points, self.digits, self.max_error,
                     self.sizes, self.batch, self.condition, self.parts)

    def under(self, condition: str) -> "Check":
        """The same check, assuming a target domain."""
        return Check(self.method, self.against, self.points, self.digits, self.max_error,
                     self.sizes, self.batch, condition, self.parts)

    def methods(self) -> tuple[str, ...]:
        """Every method this check used, its parts' included, in order of first use."""
        out = [self.method]
        for part in self.parts:
            out += [m for m in part.methods() if m not in out]
        return tuple(out)

    def as_dict(self) -> dict:
        out = {"method": self.method}
        for key in ("against", "points", "digits", "max_error", "sizes", "batch", "condition"):
            value = getattr(self, key)
            if value not in ("", None, ()):
                out[key] = list(value) if isinstance(value, tuple) else value
        if self.parts:
            out["parts"] = [part.as_dict() for part in self.parts]
        return out


def combine(checks) -> Check | None:
    """One check standing for several of the same kind: the weakest method wins (rational
    points over exact), points added up; ``None`` if there are none."""
    checks = [c for c in checks if c is not None]
    if not checks:
        return None
    order = list(CHECK_METHODS)
    weakest = max(checks, key=lambda c: order.index(c.method))
    same = [c for c in checks if c.method == weakest.method]
    points = sum(c.points for c in same if c.points) or None
    return Check(weakest.method, weakest.against, points, weakest.digits, weakest.max_error,
                 weakest.sizes, weakest.batch, weakest.condition, weakest.parts)


@dataclass(frozen=True)
class Label:
    """What a step defines: a kind plus the layer / neuron / node it belongs to.

    ``kind`` is one of :data:`LABEL_TEXT`; ``layer`` is the layer j (an int, or an expression
    of j and L); ``index`` a neuron k; ``of`` and ``wrt`` name graph nodes or parameters.
    """

    kind: str
    layer: object = None
    index: int | None = None
    of: str | None = None
    wrt: str | None = None

    def __post_init__(self):
        if self.kind not in LABEL_TEXT:
            raise KeyError(f"unknown label kind {self.kind!r}; known: {', '.join(LABEL_TEXT)}")

    def __str__(self) -> str:
        return fill(LABEL_TEXT[self.kind], l=self.layer if self.layer is not None else 0,
                    k=self.index, of=self.of, wrt=self.wrt)


#: Plain name of every label kind (each profile's LaTeX lives in the notation module).
LABEL_TEXT: dict[str, str] = {
    "input": "a^0",
    "target": "y",
    "z": "z^{l}",
    "a": "a^{l}",
    "C": "C",
    "E": "E",
    "dphi/dz": "dPhi^{l}/dz^{l}",
    "df/da": "df^{l}/da^{l-1}",
    "df/dw": "df^{l}/dw_{k}^{l}",
    "df/db": "df^{l}/db^{l}",
    "dC/da": "dC/da^{l}",
    "dC/dz": "dC/dz^{l}",
    "P": "P^{l}",
    "B": "B^{l}",
    "dE/dw": "dE/dw_{k}^{l}",
    "dE/dW": "dE/dW^{l}",
    "dE/db": "dE/db^{l}",
    "grad": "grad_{wrt} E",
    "partial": "d{of}/d{wrt}",
    "node": "{of}",
    "D": "Delta^{l}",
}


@dataclass(frozen=True)
class Step:
    """One equation of a derivation: ``lhs = rhs`` by ``rule``, checked by ``check``.

    Attributes
    ----------
    lhs : Label
        The quantity defined or derived.
    rhs : sympy.Basic
        Its value (an explicit Matrix at concrete sizes, or a matrix expression).
    rule : str
        A key of :data:`RULES`.
    check : Check or None
        How the engine checked this equality (``None``: a definition, or a step whose
        correctness rests on the derivation's final check).
    uses : tuple of str
        The identities of the matrix calculus this step applied (a reverse-mode step:
        ``product rule``, ``d Φ(Z) = Φ'(Z) ⊙ dZ`` …), in order.
    """

    lhs: Label
    rhs: sp.Basic
    rule: str
    check: Check | None = None
    uses: tuple = ()

    def __post_init__(self):
        if self.rule not in RULES:
            raise KeyError(f"unknown rule {self.rule!r}; known: {', '.join(RULES)}")


@dataclass
class Derivation:
    """What every derivation has: its steps and their layout.

    The engine (:mod:`derive.engine`), the per-neuron presentation
    (:mod:`derive.presentations.per_neuron`) and computation graphs (:mod:`derive.graphs`)
    extend it with their results.

    Attributes
    ----------
    steps : list of Step
    layout : {"numerator", "denominator"}
        The layout of every derivative step (gradients always have their variable's shape).
    """

    steps: list = field(default_factory=list)
    layout: str = "numerator"

    def add(self, lhs: Label, rhs: sp.Basic, rule: str, check: Check | None = None,
            uses: tuple = ()) -> Step:
        step = Step(lhs=lhs, rhs=rhs, rule=rule, check=check, uses=tuple(uses))
        self.steps.append(step)
        return step


__all__ = ["Check", "CHECK_METHODS", "COMPARANDS", "Derivation", "Label", "LABEL_TEXT", "RULES",
           "Rule", "Step", "combine"]
