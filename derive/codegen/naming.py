r"""Names in a generated module: the plan every section of the source is printed from.

:func:`make_plan` reads the batch derivation once and decides

- the code name of each of its symbols, from the notation profile (``a1, z1, delta1`` for
  cs229; ``alpha1, zeta1, B1`` for ensimag), never one of :data:`RESERVED`;
- the name of each activation's module-level helper (``relu``, ``leaky_relu_1_5``);
- the equation number of each step, cited by the line that implements it;
- the stable Φ' formulas (:func:`~derive.codegen.stable_forms.stable_derivatives`) and the
  printer that uses all of these.

:func:`plain_name` writes a profile's LaTeX symbol as the plain text of code comments
(``\delta^{[1]}`` → ``δ^[1]``); :func:`wrap_words` lays out docstring text.
"""

from __future__ import annotations

import builtins
import keyword
import re
from dataclasses import dataclass

import sympy as sp

from ..calculus.matrix_printing import identifier
from .derivation_input import batch_size, layer_activations
from .printer import CodePrinter
from .stable_forms import stable_derivatives

#: Names the derivation's names and the helpers must avoid: the module's functions and
#: constants, the locals of forward/loss/gradients, and Python's builtins (the loss may call
#: ``abs``).  The optimisers' locals need not be avoided: they use none of these names.
RESERVED = frozenset({
    "np", "PARAM_SHAPES", "SIZES", "LOSS", "TARGETS", "CONVENTION", "DTYPE", "SUM_TOL",
    "hint", "labels", "transposed", "one_row",
    "_checked", "_forward",
    "init_params", "forward", "loss", "gradients", "sgd_step", "momentum_step", "adam_step",
    "softmax", "log_softmax", "MOMENTUM_FORMS", "N", "params", "cache", "X", "Y", "yhat",
    "entries", "grads", "state", "lr", "t", "_"}) | frozenset(dir(builtins)) | \
    frozenset(keyword.kwlist)


@dataclass
class Plan:
    """What every section of a module's source is printed from.

    Attributes
    ----------
    derivation
        The batch matrix derivation (its ``network``, ``symbols``, ``definitions``,
        ``gradients``, ``steps``, ``check``).
    activations : list
        Φ of layers 1 … L.
    profile
        The notation profile the names come from.
    numbers : dict
        Step label (kind, layer, wrt) → equation number (the last step of that label).
    names : dict
        MatrixSymbol → its code name.
    renamed : dict
        MatrixSymbol → a MatrixSymbol of the same shape named with its code name.
    helpers : dict
        Activation function class → helper name.
    derivatives : dict
        Φ' function class → its stable formula (where there is one).
    printer : CodePrinter
    check
        How the derivation was checked (a :class:`~derive.derivation.Check`, or text).
    """

    derivation: object
    activations: list
    profile: object
    numbers: dict
    names: dict
    renamed: dict
    helpers: dict
    derivatives: dict
    printer: CodePrinter
    check: object = None

    @property
    def net(self):
        return self.derivation.network

    @property
    def depth(self) -> int:
        return len(self.activations)

    def params(self) -> list:
        """(parameter name, MatrixSymbol) of every layer, in order (W1, b1, W2, …)."""
        sym = self.derivation.symbols
        return [(name, symbol) for layer in range(1, self.depth + 1)
                for name, symbol in sym.params(layer).items()]


def _free(name: str, taken: set) -> str:
    while name in taken or name in RESERVED:
        name += "_"
    taken.add(name)
    return name


def make_plan(d, profile, check=None) -> Plan:
    """The :class:`Plan` of derivation ``d`` with names from ``profile``; ``check`` is how
    the derivation was checked (default: ``d.check``)."""
    numbers = {}
    for number, step in enumerate(d.steps, start=1):
        numbers[(step.lhs.kind, step.lhs.layer, step.lhs.wrt)] = number
    names, taken = {}, set()
    for symbol, (kind, layer) in d.symbols.table.items():
        code = {"X": "X", "Y": "Y"}.get(kind) or identifier(profile.name_in_code(kind, layer))
        names[symbol] = _free(code, taken) if code not in ("X", "Y") else code
        taken.add(code)
    renamed = {s: sp.MatrixSymbol(code, *s.shape) for s, code in names.items()}
    # A helper is module-level: named like a module function, constant, builtin or local
    # variable it would shadow it or be shadowed (``def forward(z)``, ``a1 = a1(z1)``).
    # One helper per activation entry (the same inline expression in every layer is one entry);
    # a parametrised entry is named after its family, leaky_relu, while that name is free.
    activations = layer_activations(d.network)
    helpers, family_names = {}, set()
    for activation in activations:
        if activation.vector_valued or activation.function in helpers:
            continue
        family = activation.family[0] if activation.family else None
        helper = identifier(family if family is not None and family not in family_names
                            else activation.name)
        if family is not None:
            family_names.add(family)
        helpers[activation.function] = _free(helper, taken)
    derivatives = stable_derivatives(activations, helpers)
    printer = CodePrinter(helpers, {batch_size(d): "N"}, derivatives)
    return Plan(d, activations, profile, numbers, names, renamed, helpers, derivatives,
                printer, check if check is not None else d.check)


_GREEK = {r"\alpha": "α", r"\beta": "β", r"\gamma": "γ", r"\delta": "δ", r"\Delta": "Δ",
          r"\zeta": "ζ", r"\Omega": "Ω", r"\omega": "ω", r"\rho": "ρ", r"\Phi": "Φ",
          r"\sigma": "σ", r"\ell": "ℓ", r"\cdot": "·"}
_GROUP = r"\{((?:[^{}]|\{[^{}]*\})*)\}"


def plain_name(profile, kind, layer) -> str:
    """A profile's LaTeX symbol as plain text: ``\\delta^{[1]}`` → ``δ^[1]``,
    ``\\frac{\\partial J}{\\partial s_{2}}`` → ``∂J/∂s_2``."""
    text = profile.symbol(kind, layer)
    for command, letter in _GREEK.items():
        text = text.replace(command, letter)
    text = re.sub(r"\\partial\s*", "∂", text)
    text = re.sub(r"\\frac\s*" + _GROUP + r"\s*" + _GROUP, r"\1/\2", text)
    text = re.sub(r"\\[A-Za-z]+\s*", "", text)       # \mathbf, \tilde, \operatorname, …
    return text.replace("{", "").replace("}", "").replace(" ", "").replace("\\", "")


def wrap_words(text: str, indent: str = "    ", width: int = 92) -> list:
    """``text`` as lines of at most ``width`` characters, each starting with ``indent``
    (docstrings and the header of a generated module)."""
    lines, current = [], ""
    for word in text.split(" "):
        if current and len(indent) + len(current) + 1 + len(word) > width:
            lines.append(indent + current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    return lines + [indent + current]


__all__ = ["Plan", "make_plan", "plain_name", "wrap_words", "RESERVED"]
