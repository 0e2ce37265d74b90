r"""Names as LaTeX: a user's activation or loss, a profile, a spec file, a graph node.

Steps carry data, not prose, and every printer words them itself, so the only text a LaTeX
document takes from outside is a *name*: ``x/(1+exp(-x))``, ``cs229+custom``,
``examples/réseau.toml``, a node ``alpha``.  :func:`latex_text` writes one in text mode
(LaTeX's specials escaped, Greek letters and accents as inline math, any other character as its
Unicode name); :func:`math_name` writes a graph node's name in math mode (``z1`` → ``z_{1}``).

>>> print(latex_text("relu,x**2 network, 50% of n_0"))
relu,x**2 network, 50\% of n\_0
>>> math_name("wA"), math_name("alpha"), math_name("loss")
('w_{A}', '\\alpha', '\\mathrm{loss}')
"""

from __future__ import annotations

import re
import unicodedata

import sympy as sp

#: LaTeX's special characters in text mode.
_SPECIALS = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&",
             "#": r"\#", "%": r"\%", "_": r"\_", "^": r"\textasciicircum{}",
             "~": r"\textasciitilde{}", "<": r"\textless{}", ">": r"\textgreater{}",
             "|": r"\textbar{}"}
#: Combining accents (after NFD decomposition) as math accents: ŷ → \hat{y}, ṽ → \tilde{v};
#: any other accent is dropped (é → e).
_ACCENTS = {0x0302: r"\hat", 0x0303: r"\tilde", 0x0304: r"\bar", 0x0305: r"\bar",
            0x0307: r"\dot", 0x20D7: r"\vec"}
_GREEK_NAMES = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron "
                "pi rho sigma tau upsilon phi chi psi omega").split()
#: Greek capitals with a command of their own; the others look Latin (Α is A).
_GREEK_CAPITALS = {"Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi",
                   "Psi", "Omega"}
_GREEK_LATIN = {"Alpha": "A", "Beta": "B", "Epsilon": "E", "Zeta": "Z", "Eta": "H", "Iota": "I",
                "Kappa": "K", "Mu": "M", "Nu": "N", "Omicron": "O", "Rho": "P", "Tau": "T",
                "Chi": "X"}

#: Signs a user's name may carry (an activation called "ℓ₁", a loss "f∘g").
_NAME_MATH = {"∂": r"\partial", "∇": r"\nabla", "⊙": r"\odot", "∘": r"\circ", "·": r"\cdot",
              "×": r"\times", "ℓ": r"\ell", "∞": r"\infty", "′": "'", "±": r"\pm"}
_NAME_TEXT = {"−": "-", "–": "--", "—": "---", "…": r"\ldots{}", "’": "'", "\u00a0": "~"}


def _greek() -> dict:
    table = {"\u03c2": r"\varsigma", "\u03d5": r"\phi", "\u03f5": r"\epsilon"}
    for name in _GREEK_NAMES:
        unicode_name = name.upper().replace("LAMBDA", "LAMDA")
        small = unicodedata.lookup(f"GREEK SMALL LETTER {unicode_name}")
        capital = unicodedata.lookup(f"GREEK CAPITAL LETTER {unicode_name}")
        table[small] = "o" if name == "omicron" else "\\" + name
        title = name.capitalize()
        table[capital] = "\\" + title if title in _GREEK_CAPITALS else \
            rf"\mathrm{{{_GREEK_LATIN[title]}}}"
    return table


_MATH = {**_greek(), **_NAME_MATH}


def _math_for(char: str) -> str | None:
    """Math-mode LaTeX of one non-ASCII character (a Greek letter, a sub- or superscript
    letter or digit), or ``None`` when it has none."""
    if char in _MATH:
        return _MATH[char]
    name = unicodedata.name(char, "")
    compatible = unicodedata.normalize("NFKD", char)
    if compatible.isascii() and compatible.isalnum():
        if name.startswith("SUBSCRIPT"):
            return f"_{{{compatible}}}"
        if name.startswith(("SUPERSCRIPT", "MODIFIER LETTER")):
            return f"^{{{compatible}}}"
    return None


def latex_text(text: str) -> str:
    r"""A name (a user's activation, loss or network description) as LaTeX text mode.

    LaTeX's special characters are escaped; Greek letters and sub- or superscripts become
    inline math (``Φ`` → ``$\Phi$``, ``ŷ`` → ``$\hat{y}$``, ``Aᵀ`` → ``A$^{T}$``); any other
    character without a LaTeX spelling is written as its Unicode name in brackets.  Adjacent
    math is merged, so the result never holds ``$$``.

    >>> print(latex_text("Φ'(ζ) of ŷ in n_0 & réseau ☃"))
    $\Phi$'($\zeta$) of $\hat{y}$ in n\_0 \& reseau [snowman]
    """
    segments: list[tuple[bool, str]] = []          # (is math, LaTeX)

    def emit(is_math: bool, piece: str) -> None:
        if segments and segments[-1][0] == is_math and is_math:
            segments[-1] = (True, segments[-1][1] + piece)
        else:
            segments.append((is_math, piece))

    decomposed = unicodedata.normalize("NFD", text)
    position = 0
    while position < len(decomposed):
        char = decomposed[position]
        accents = []
        while position + 1 < len(decomposed) and unicodedata.combining(decomposed[position + 1]):
            accents.append(ord(decomposed[position + 1]))
            position += 1
        position += 1
        accents = [a for a in accents if a in _ACCENTS]
        if accents and (char.isascii() and char.isalpha() or _math_for(char)):
            body = char if char.isascii() else _math_for(char)
            for accent in accents:
                body = f"{_ACCENTS[accent]}{{{body}}}"
            emit(True, body)
            continue
        if char.isascii():
            emit(False, _SPECIALS.get(char, char))
        elif char in _NAME_TEXT:
            emit(False, _NAME_TEXT[char])
        elif _math_for(char) is not None:
            math = _math_for(char)
            emit(True, math if math.startswith(("^", "_")) or not math[-1].isalpha()
                 else math + " ")
        else:
            name = unicodedata.name(char, f"U+{ord(char):04X}").lower()
            emit(False, f"[{name}]")
    return "".join(f"${piece.rstrip()}$" if is_math else piece for is_math, piece in segments)


_SUFFIXED_NAME = re.compile(r"^([A-Za-z])([0-9]+|[A-Z]+)$")


def math_name(name: str) -> str:
    """A graph node's name as a reader writes it in math mode: ``z1`` → ``z_{1}``,
    ``wA`` → ``w_{A}``, ``alpha`` → ``\\alpha``, ``loss`` → ``\\mathrm{loss}``."""
    match = _SUFFIXED_NAME.match(name)
    if match:
        return f"{match.group(1)}_{{{match.group(2)}}}"
    text = sp.latex(sp.Symbol(name))
    if text == name and len(name) > 1 and name.isalnum():
        return rf"\mathrm{{{name}}}"
    return text


__all__ = ["latex_text", "math_name"]
