r"""Names as courses write them in LaTeX: decorations, layer indices, and spellings of one name.

What a decoration does to a name:

- a **typeface** (``\mathbf``, ``\boldsymbol``, ``\bm``, ``\vec``, ``\mathit``, ``\mathrm``,
  ``\mathsf``) only sets the type: ``\mathbf{x}`` is ``x`` — unless the bold spelling is itself
  declared (a profile may give the bold letter a meaning of its own, as Ensimag's batch
  ``\boldsymbol{\alpha}^j``);
- an **accent or alphabet** (``\hat``, ``\tilde``, ``\bar``, ``\check``, ``\breve``, ``\dot``,
  ``\ddot``, ``\mathcal``, ``\mathscr``, ``\mathfrak``, ``\mathbb``) makes another name:
  ``\hat{y}`` is not ``y``, ``\tilde{W}`` (Mines' augmented weights) is not ``W``.  Wide forms
  are spelled as the narrow ones (``\widehat`` → ``\hat``, ``\overline`` → ``\bar``);
- a **subscript** is part of the name, and ``W_1``, ``W_{1}`` and ``W1`` are one name
  (:func:`name_key`): a declared ``W1`` answers ``W_1`` and the reverse;
- a **layer index** ``^{[l]}`` or ``^{(l)}`` is part of the name (``a^{[3]}`` is not a power);
  a plain superscript is a layer index only where a profile says so (:class:`Dialect`:
  Ensimag's ``\alpha^{j}``).

:class:`ClaimNamespace` is the namespace of a claim read by the front end: on top of
:class:`~derive.calculus.namespace.Namespace` it resolves spellings, takes undeclared names as
scalars where the reading requires it (and records which), and reads an auxiliary definition
(``\delta = …``) when its name is first used, so that the name gets the definition's shape.

Glossary: a *base* is the letter or Greek name under the decorations (``y`` in ``\hat{y}_i``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sympy as sp

from ..errors import BadInput
from .matrix_nodes import is_matrix
from .namespace import DEFAULT_SIZE, Namespace, shape_text

#: Typeface commands: the name under them is the same name.
TYPEFACES = frozenset({r"\mathbf", r"\boldsymbol", r"\bm", r"\vec", r"\mathit", r"\mathrm",
                       r"\mathsf", r"\pmb"})
#: The one spelling of a bold name (for the names a profile gives a bold letter).
BOLD = {r"\mathbf": r"\mathbf", r"\boldsymbol": r"\mathbf", r"\bm": r"\mathbf",
        r"\pmb": r"\mathbf"}
#: Accents and alphabets: another name.  Value: the one spelling.
ACCENTS = {r"\hat": r"\hat", r"\widehat": r"\hat", r"\tilde": r"\tilde",
           r"\widetilde": r"\tilde", r"\bar": r"\bar", r"\overline": r"\bar",
           r"\check": r"\check", r"\breve": r"\breve", r"\dot": r"\dot", r"\ddot": r"\ddot",
           r"\mathcal": r"\mathcal", r"\mathscr": r"\mathscr", r"\mathfrak": r"\mathfrak",
           r"\mathbb": r"\mathbb", r"\mathbbm": r"\mathbb", r"\mathds": r"\mathbb"}
GREEK = frozenset({
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta",
    "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "pi", "rho", "varrho", "sigma",
    "varsigma", "tau", "upsilon", "phi", "varphi", "chi", "psi", "omega", "ell", "Gamma", "Delta",
    "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega"})
#: Greek letters that name hyperparameters (λ, η, μ, …): scalars unless declared.
HYPERPARAMETERS = frozenset({"lambda", "eta", "mu", "gamma", "epsilon", "varepsilon", "kappa",
                             "nu", "tau"})
#: A layer index as a profile writes it: j, l, L, 2, j+1, l-1.
LAYER_INDEX = re.compile(r"(?:[A-Za-z]|[0-9]+)(?:[+-](?:[A-Za-z]|[0-9]+))?")


def name_key(name: str) -> str:
    """The spelling-free key of a name: ``W_1``, ``W_{1}`` and ``W1`` share ``W1``.

    >>> name_key("W_{1}") == name_key("W1") == name_key("W_1")
    True
    >>> name_key(r"\\hat{y}") == name_key("y")
    False
    """
    return re.sub(r"[{}_\s]", "", name)


def base_letter(name: str) -> str:
    r"""The letter a default shape is chosen by: ``L`` for ``\mathcal{L}``, ``W`` for
    ``\tilde{W}^{(2)}``, ``alpha`` for ``alpha^{j}``."""
    bare = re.sub(r"\\[A-Za-z]+\{", "", name).lstrip("\\{")
    match = re.match(r"[A-Za-z]+", bare)
    word = match.group() if match else bare[:1]
    return word if word in GREEK else word[:1]


def decorated(decoration: str | None, base: str) -> str:
    r"""The one spelling of ``base`` under ``decoration`` (``\widehat``, ``y`` → ``\hat{y}``;
    a Greek base keeps its backslash inside: ``\mathcal{\ell}``; a bold one is spelled
    ``\mathbf{x}``, found as ``x`` unless declared; other typefaces are the bare name)."""
    if decoration is None:
        return base
    inner = "\\" + base if base in GREEK else base
    if decoration in BOLD:
        return rf"\boldsymbol{{{inner}}}" if base in GREEK else rf"\mathbf{{{inner}}}"
    if decoration in TYPEFACES:                    # \vec{x}, \mathit{x}: x
        return base
    return f"{ACCENTS.get(decoration, decoration)}{{{inner}}}"


def undecorated(name: str) -> str | None:
    r"""The name without its bold typeface (``\mathbf{x}^{(2)}`` → ``x^{(2)}``), or ``None``
    when it has none."""
    match = re.match(r"\\(?:mathbf|boldsymbol)\{\\?([A-Za-z]+)\}", name)
    return match.group(1) + name[match.end():] if match else None


def scalar_candidates(namespace, *values, columns_only=False) -> tuple:
    """Names among ``values`` that took a default shape, which a failed reading suggests were
    meant as scalars (the front end retries with them as scalars)."""
    defaulted = {entry.rsplit(" ", 1)[0] for entry in namespace.defaulted}
    names = []
    for value in values:
        if not is_matrix(value):
            continue
        for symbol in sorted(value.atoms(sp.MatrixSymbol), key=lambda s: s.name):
            if symbol.name in defaulted and (not columns_only or symbol.shape[1] == 1):
                names.append(symbol.name)
    return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class Dialect:
    r"""How one course's LaTeX is read, beyond what every course shares.

    Attributes
    ----------
    superscript_names : frozenset
        Names whose plain superscript is a layer index (Ensimag: ``alpha``, ``zeta``,
        ``Omega``, …): ``\alpha^{j}`` is the name ``alpha^{j}``, while ``x^{2}`` stays a power.
    small_t_transpose : bool
        ``^t`` is a transpose (Mines); elsewhere a power.
    function_names : frozenset
        Names of a function the course writes without saying which (cs229's ``g``, Ensimag's
        ``Phi``, Mines' ``h``): ``g(z)`` and ``g'(z)`` call it, as an undefined SymPy function
        of that name the checker resolves later.
    """

    superscript_names: frozenset = frozenset()
    small_t_transpose: bool = False
    function_names: frozenset = frozenset()


PLAIN = Dialect()


def resolve(namespace: Namespace, name: str) -> str:
    """The name ``name`` stands for in ``namespace``: itself when declared, else a declared name
    of the same key (``W1`` for ``W_1``), else the unbold name, else a name already used.

    >>> resolve(Namespace(shapes={"W1": (2, 3)}), "W_1"), resolve(Namespace(), r"\\mathbf{x}")
    ('W1', 'x')
    """
    definitions = getattr(namespace, "definitions", {})
    if name in namespace.shapes or name in namespace.scalars or name in definitions:
        return name
    key = name_key(name)
    for known in [*namespace.shapes, *namespace.scalars, *definitions, *namespace.symbols]:
        if name_key(known) == key:
            return known
    plain = undecorated(name)
    return resolve(namespace, plain) if plain is not None else name


@dataclass
class ClaimNamespace(Namespace):
    """A :class:`Namespace` that resolves spellings and infers scalars (the front end's).

    Attributes
    ----------
    scalar_default : bool
        Every undeclared name is a scalar (a scalar formula: ``4 \\sin^3(x) \\cos(x)``);
        otherwise the undeclared hyperparameters (:data:`HYPERPARAMETERS`: λ, η, μ, …) are.
    inferred : list of str
        Names not declared that were taken as scalars, in the order first used.
    forced : set of str
        Names to take as scalars when undeclared (learnt from a failed reading).
    definitions : dict
        name → a callable reading that name's auxiliary definition; called on first use, it
        declares the name with its definition's shape.
    """

    scalar_default: bool = False
    inferred: list = field(default_factory=list)
    forced: set = field(default_factory=set)
    definitions: dict = field(default_factory=dict)
    reading: list = field(default_factory=list)        # definitions being read (cycles)

    def declared(self, name: str) -> bool:
        return name in self.shapes or name in self.scalars or name in self.definitions

    def lookup(self, name: str):
        name = resolve(self, name)
        if name in self.symbols:
            return self.symbols[name]
        if name in self.reading:
            cycle = " → ".join([*self.reading[self.reading.index(name):], name])
            raise BadInput(f"{name} is defined in terms of itself ({cycle})")
        if name in self.definitions:
            self.reading.append(name)
            try:
                self.definitions.pop(name)()
            finally:
                self.reading.pop()
            return self.lookup(name)
        if name not in self.shapes and name not in self.scalars and \
                (self.scalar_default or name in self.forced or name in HYPERPARAMETERS):
            self.inferred.append(name)
            self.scalars = (*self.scalars, name)
        if name in self.scalars or name in self.shapes or self.scalar_only:
            return super().lookup(name)
        shape = (DEFAULT_SIZE, 1) if base_letter(name)[:1].islower() else \
            (DEFAULT_SIZE, DEFAULT_SIZE)
        kind = "a column" if shape[1] == 1 else "a square matrix"
        self.notes.append(f"{name} has no declared shape: taken as {kind} {shape_text(shape)}")
        self.defaulted.append(f"{name} {shape_text(shape)}")
        symbol = sp.MatrixSymbol(name, *shape)
        self.symbols[name] = symbol
        return symbol

    def define(self, name: str, value) -> None:
        """Declare ``name`` with the shape of ``value`` (a scalar when it is one)."""
        shape = tuple(value.shape) if isinstance(value, sp.MatrixExpr) else (1, 1)
        if shape == (1, 1) and not isinstance(value, sp.MatrixExpr):
            self.scalars = (*self.scalars, name)
        else:
            self.shapes[name] = shape


__all__ = ["Dialect", "PLAIN", "ClaimNamespace", "resolve", "TYPEFACES", "ACCENTS", "BOLD",
           "GREEK", "HYPERPARAMETERS", "LAYER_INDEX", "scalar_candidates", "name_key",
           "base_letter", "decorated", "undecorated"]
