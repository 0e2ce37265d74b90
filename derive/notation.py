r"""Notation profiles (SPEC §3.4): how each course writes the objects of a network.

A :class:`Profile` maps the abstract objects of a derivation — activation, pre-activation,
weights, bias, backprop signal, loss, cost, the activation function, transpose and Hadamard
marks — to LaTeX templates and to code identifiers.  Templates take ``{l}``, the layer index
(``1``, ``j``, ``j+1``, ``L``), already formatted by the profile's index style.  Every template
of a profile lives in one place, :data:`PROFILES`; renderers never spell a symbol themselves.

Object kinds (the keys of :attr:`Profile.latex` and :attr:`Profile.code`):

=============  ============================================================================
``a``          activation of layer l (one sample, a column); ``A`` the batch (n_l × N)
``z``          pre-activation; ``Z`` the batch
``W``          weight matrix in the network's convention; ``Wbar`` W̃ without its bias column
``b``          bias vector
``B``          backprop signal ∇_{z^l} C (a column, the Ensimag B^j, CS229's δ^{[l]}); ``D``
               the batch of signals (n_l × N)
``P``          ∂C/∂a^{l-1} in numerator layout (the Ensimag row P^j)
``x``, ``y``   input and target (``X``, ``Y`` batches)
``C``, ``E``   the per-sample loss and the batch cost
``phi``        the activation function's name (Φ, g, h_{(l)}, f)
=============  ============================================================================

>>> cs229 = get_profile("cs229")
>>> cs229.symbol("W", 2), cs229.symbol("B", "l"), cs229.name_in_code("B", 2)
('W^{[2]}', '\\delta^{[l]}', 'delta2')
>>> get_profile("ensimag").symbol("z", "j+1")
'\\zeta^{j+1}'
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .errors import BadInput, UnknownName
from .naming import fill, index_text
from .printing.mathml import check_symbol

#: The object kinds a profile must give a LaTeX template for.
KINDS = ("a", "A", "z", "Z", "W", "Wbar", "b", "B", "D", "P", "x", "X", "y", "Y", "C", "E",
         "phi")
#: Object kinds that carry a layer index.
INDEXED = {"a", "A", "z", "Z", "W", "Wbar", "b", "B", "D", "P"}


@dataclass(frozen=True)
class Profile:
    r"""One course's notation.

    Attributes
    ----------
    name : str
    index : str
        How a layer index l is decorated, e.g. ``"^{{l}}"`` (superscript) or ``"^{[{l}]}"``.
    latex : dict
        kind → LaTeX template in which ``{l}`` is the decorated index of the layer and
        ``{l-1}`` that of the layer before (:func:`derive.naming.fill`; other braces are
        literal).
    code : dict
        kind → identifier template with ``{l}`` for the plain layer number (``delta{l}``).
    transpose, hadamard, diag : str
        The transpose mark (``^{T}``, ``^{t}``), the diagonal matrix of a vector
        (``\operatorname{diag}``, the Mines notes' ``\operatorname{Diag}``) and the Hadamard
        product (``\odot``,
        ``\circ``).
    source : str
        Where the notation comes from.
    """

    name: str
    index: str
    latex: dict = field(default_factory=dict)
    code: dict = field(default_factory=dict)
    transpose: str = "^{T}"
    diag: str = r"\operatorname{diag}"
    hadamard: str = r"\odot"
    source: str = ""

    def layer_index(self, layer) -> str:
        """Layer ``layer`` decorated in this profile's style (``2`` → ``^{[2]}``)."""
        return fill(self.index, l=layer)

    def symbol(self, kind: str, layer=None) -> str:
        """LaTeX of object ``kind`` of ``layer`` (``None`` for unindexed objects).

        ``{l}`` in the template is the decorated index of ``layer`` and ``{l-1}`` that of the
        layer before (P^l = ∂C/∂a^{l-1}).
        """
        if kind not in self.latex:
            raise UnknownName("notation object", kind, self.latex)
        indexed = kind in INDEXED and layer is not None
        if not indexed:
            return fill(self.latex[kind], l="", decorate=lambda _: "")
        return fill(self.latex[kind], l=layer, decorate=self.layer_index)

    def name_in_code(self, kind: str, layer=None) -> str:
        """The identifier of object ``kind`` of ``layer`` in generated code (``a1``, ``delta2``)."""
        template = self.code.get(kind, DEFAULT_CODE.get(kind, kind))
        return fill(template, l="" if layer is None else layer, decorate=_code_index)

    def override(self, overrides: dict, where: str | None = None) -> "Profile":
        """A copy with some templates replaced (a spec's ``[notation]`` table)."""
        latex, code = dict(self.latex), dict(self.code)
        changes = {}
        for key, value in overrides.items():
            if not isinstance(value, str):
                raise BadInput(f"notation template for {key!r} must be a string", where)
            if key in ("transpose", "hadamard", "diag", "index"):
                check_symbol(value, f"notation.{key}", where)   # before any LaTeX is compiled
                changes[key] = value
            elif key.startswith("code."):
                code[key[5:]] = value
            elif key in KINDS:
                check_symbol(value, f"notation.{key}", where)
                latex[key] = value
            else:
                raise UnknownName("notation object", key,
                                  [*KINDS, "transpose", "hadamard", "diag", "index",
                                   "code.<kind>"],
                                  where)
        profile = replace(self, name=f"{self.name}+custom", latex=latex, code=code, **changes)
        for key in overrides:                      # a template that cannot be filled in fails now
            kind = key[5:] if key.startswith("code.") else key
            try:
                if key.startswith("code."):
                    profile.name_in_code(kind, 1)
                elif kind in KINDS:
                    profile.symbol(kind, 1)
                else:
                    profile.layer_index(1)
            except (KeyError, IndexError, ValueError) as exc:
                raise BadInput(f"notation template for {key!r} cannot be filled in ({exc}); "
                               "write {l} for the layer index", where) from None
            if (kind in INDEXED or key == "index") and "{l" not in overrides[key]:
                raise BadInput(f"notation template for {key!r} has no {{l}}: every layer "
                               f"would print the same; write {{l}} where the layer index goes "
                               f"(e.g. {overrides[key]}{{l}})", where)
        return profile


def _code_index(layer) -> str:
    """A layer in an identifier: ``j+1`` → ``jp1``."""
    return index_text(layer).replace("+", "p").replace("-", "m")


#: Identifiers used in generated code unless a profile says otherwise.
DEFAULT_CODE = {"a": "a{l}", "A": "a{l}", "z": "z{l}", "Z": "z{l}", "W": "W{l}", "b": "b{l}",
                "B": "delta{l}", "D": "delta{l}", "P": "P{l}", "x": "x", "X": "X", "y": "y",
                "Y": "Y", "C": "loss", "E": "cost", "Wbar": "W{l}_no_bias"}


def _profile(name, index, source, code=None, transpose="^{T}", hadamard=r"\odot",
             diag=r"\operatorname{diag}", **latex):
    missing = [k for k in KINDS if k not in latex]
    if missing:
        raise AssertionError(f"profile {name} lacks {missing}")
    return Profile(name=name, index=index, latex=latex, code={**DEFAULT_CODE, **(code or {})},
                   transpose=transpose, hadamard=hadamard, diag=diag, source=source)


PROFILES: dict[str, Profile] = {p.name: p for p in [
    _profile("ensimag", "^{{l}}", "Ensimag (formal f^j, P^j, B^j)",
             code={"a": "alpha{l}", "A": "alpha{l}", "z": "zeta{l}", "Z": "zeta{l}",
                   "B": "B{l}", "D": "B{l}", "W": "Omega{l}", "b": "beta{l}", "P": "P{l}",
                   "Wbar": "Omega{l}_no_bias"},
             a=r"\alpha{l}", A=r"\boldsymbol{\alpha}{l}", z=r"\zeta{l}", Z=r"\mathbf{Z}{l}",
             W=r"\Omega{l}", Wbar=r"\bar{\Omega}{l}", b=r"\beta{l}", B=r"\mathcal{B}{l}",
             D=r"\mathbf{B}{l}", P=r"\mathcal{P}{l}", x=r"\alpha^{0}", X=r"\mathbf{X}",
             y=r"\rho", Y=r"\mathbf{R}", C=r"\mathcal{C}", E=r"\mathcal{E}", phi=r"\Phi"),
    _profile("cs229", "^{[{l}]}", "CS229 (z^{[l]}, a^{[l]}, delta^{[l]})",
             a="a{l}", A="A{l}", z="z{l}", Z="Z{l}", W="W{l}", Wbar=r"\bar{W}{l}",
             b="b{l}", B=r"\delta{l}", D=r"\Delta{l}",
             P=r"\frac{\partial \mathcal{L}}{\partial a{l-1}}",
             x="x", X="X", y="y", Y="Y", C=r"\mathcal{L}", E="J", phi="g"),
    _profile("mines", "^{({l})}", "Mines (augmented bias, v^{(l)}, s^{(l)}, E^{(l)})",
             transpose="^{t}", diag=r"\operatorname{Diag}",
             code={"a": "v{l}", "A": "v{l}", "z": "s{l}", "Z": "s{l}", "B": "E{l}",
                   "D": "E{l}", "W": "W{l}"},
             a=r"\mathbf{v}{l}", A=r"V{l}", z=r"\mathbf{s}{l}", Z=r"S{l}",
             W=r"\tilde{W}{l}", Wbar=r"W{l}", b=r"\omega_{\cdot,0}{l}", B=r"E{l}",
             D=r"\mathbf{E}{l}", P=r"\frac{d\delta}{d\mathbf{v}{l-1}}", x=r"\mathbf{x}",
             X=r"X", y=r"\mathbf{y}", Y=r"Y", C=r"\delta", E=r"\mathcal{L}",
             phi=r"h"),
    _profile("cmu", "_{{l}}", "CMU 10-315 (z_i = f_i(w_i, z_{i-1}), J)",
             code={"a": "z{l}", "A": "z{l}", "z": "s{l}", "Z": "s{l}", "W": "w{l}"},
             a="z{l}", A="Z{l}", z="s{l}", Z="S{l}", W="w{l}", Wbar=r"\bar{w}{l}",
             b="b{l}", B=r"\frac{\partial J}{\partial s{l}}",
             D=r"\frac{\partial J}{\partial S{l}}", P=r"\frac{\partial J}{\partial z{l-1}}",
             x="x", X="X", y="y", Y="Y", C=r"\ell", E="J", phi="g"),
    _profile("durham", "_{{l}}", "Durham (x, y = f(x) = Wx + b, J_f)",
             a="y{l}", A="Y{l}", z="u{l}", Z="U{l}", W="W{l}", Wbar=r"\bar{W}{l}",
             b="b{l}", B=r"\delta{l}", D=r"\Delta{l}", P=r"J_{f}{l}", x="x", X="X",
             y="t", Y="T", C="C", E="E", phi="f"),
]}


def get_profile(name: str | Profile, overrides: dict | None = None,
                where: str | None = None) -> Profile:
    """The profile called ``name`` (a key of :data:`PROFILES`), with optional overrides."""
    if isinstance(name, Profile):
        profile = name
    elif name in PROFILES:
        profile = PROFILES[name]
    else:
        raise UnknownName("notation profile", str(name), PROFILES, where)
    return profile.override(overrides, where) if overrides else profile


__all__ = ["Profile", "PROFILES", "KINDS", "get_profile"]
