r"""The names a notation profile gives a network's quantities, and the values they denote.

:func:`network_names` maps each name the claim reader gives a profile's LaTeX (``a^{[2]}``,
``alpha^{2}``, ``\\mathcal{B}^{2}``, Ensimag's bold batch ``\\mathbf{B}^{2}``) to the engine
derivation's value of it, for :func:`verify.check_claim`, :func:`verify.check_derivation` and
the web page's preview.
"""

from __future__ import annotations

import re
from functools import lru_cache

from derive.calculus.latex_names import decorated
from derive.calculus.matrix_nodes import is_matrix
from derive.errors import BadInput
from derive.layers.dense import Augment, DropBias
from derive.notation import get_profile

from .latex import parse_latex

__all__ = ["ALIASES", "AUGMENTED", "claim_names", "name_of", "network_names"]

#: Names every profile also accepts for a value kind, besides its own (``{l}`` the profile's
#: layer index): the formal letters of the Ensimag notes, CS229's ŷ.
ALIASES = {
    "ensimag": {"a": ["a{l}"], "W": ["W{l}"], "b": ["b{l}"], "B": ["B{l}"],
                "y": ["y"], "x": ["x"]},
    "cs229": {"x": ["a^{[0]}"]},
}

#: The augmented vectors [1; v] of the augmented convention, by the kind of v.
AUGMENTED = {"a": [r"\tilde{v}{l}", r"\tilde{a}{l}"], "x": [r"\tilde{x}", r"\tilde{v}^{(0)}"],
             "A": [r"\tilde{V}{l}"], "X": [r"\tilde{X}"]}


@lru_cache(maxsize=1024)
def name_of(latex: str, profile: str) -> str | None:
    """The name our reader gives a profile's LaTeX for one value (``a^{[2]}``, ``alpha^{2}``)."""
    try:
        symbols = parse_latex(latex, profile=profile, where="notation").symbols
    except BadInput:
        return None
    return next(iter(symbols)) if len(symbols) == 1 else None


def _bold_name(latex: str, name: str) -> str | None:
    r"""The bold spelling the reader keeps for a declared name (``\mathbf{B}^{2}``,
    ``\boldsymbol{\alpha}^{1}``) when the profile writes ``latex`` in bold, else ``None``: an
    undeclared bold name reads as its plain one, which may be another value (B^j, α^j)."""
    match = re.match(r"\\(?:mathbf|boldsymbol)\{\\?([A-Za-z]+)\}", latex)
    if not match or not name.startswith(match.group(1)):
        return None
    return decorated(r"\mathbf", match.group(1)) + name[len(match.group(1)):]


def network_names(d, profile: str) -> dict:
    """name → the derivation's value each name of ``profile`` denotes (per sample, or per
    batch for a batch derivation).

    ``\\hat{y}`` is the output a^{[L]}; a profile's signal (δ^{[l]}, B^j) is ∂L/∂z^{[l]},
    except in the Mines notes, where E^{(l)} is a row (1 × n_l), its transpose.  For the
    augmented convention, ṽ^{(l)} = [1; v^{(l)}] and x̃ are the augmented vectors and W^{(l)}
    is W̃^{(l)} without its bias column.
    """
    chosen = get_profile(profile, where="notation")
    names = {}
    output = d.network.depth
    rows = chosen.name.startswith("mines")
    for symbol, (kind, layer) in d.symbols.table.items():
        value = symbol.T if rows and kind in ("B", "D") else symbol
        spellings = [chosen.symbol(kind, layer)] if kind in chosen.latex else []
        index = chosen.layer_index(layer) if layer is not None else ""
        spellings += [template.replace("{l}", index)
                      for template in ALIASES.get(chosen.name, {}).get(kind, [])]
        if kind == "a" and layer == output:
            spellings.append(r"\hat{y}")
        for latex in spellings:
            name = name_of(latex, profile)
            if name is not None:
                names.setdefault(name, value)
                bold = _bold_name(latex, name)
                if bold is not None:            # Ensimag's batch 𝐁^j, 𝛂^j: not B^j, α^j
                    names.setdefault(bold, value)
        if d.network.convention == "augmented" and kind in ("a", "x", "A", "X"):
            index = chosen.layer_index(layer) if layer is not None else ""
            for latex in AUGMENTED.get(kind, ()):
                name = name_of(latex.replace("{l}", index), profile)
                if name is not None:
                    names.setdefault(name, Augment(symbol))
        if d.network.convention == "augmented" and kind == "W" and "Wbar" in chosen.latex:
            name = name_of(chosen.symbol("Wbar", layer), profile)
            if name is not None:
                names.setdefault(name, DropBias(symbol))
    if not d.batch and "P" in chosen.latex:
        # The Ensimag row P^{j} = ∂C/∂a^{j-1}: the engine's derivative in the numerator layout.
        for step in d.steps:
            if step.lhs.kind == "dC/da" and isinstance(step.lhs.layer, int):
                row = step.rhs if d.layout == "numerator" else step.rhs.T
                name = name_of(chosen.symbol("P", step.lhs.layer + 1), profile)
                if name is not None:
                    names.setdefault(name, row)
    return names


def claim_names(d, batch, profile: str) -> tuple[dict, dict, dict]:
    """(names, batch_names, shapes) a claim about a network is read with: the names of the
    per-sample derivation ``d``, those only the batch derivation ``batch`` has (X, A^{[l]},
    Δ^{[l]}), and every name's shape."""
    names = network_names(d, profile)
    batch_names = {name: value for name, value in network_names(batch, profile).items()
                   if name not in names}
    shapes = {name: tuple(value.shape) if is_matrix(value) else (1, 1)
              for name, value in {**names, **batch_names}.items()}
    return names, batch_names, shapes
