r"""LaTeX of a derivation in a course's notation (SPEC §3.4, §5a ``d.to_latex``, §8).

:func:`render_latex` turns the steps of a derivation into a LaTeX fragment (no preamble) for a
document that loads amsmath and amssymb:

- a matrix-form derivation (:class:`~derive.layer_rules.MatrixDerivation`: symbolic or integer
  sizes, one sample or a batch);
- a concrete-size derivation (:class:`~derive.backprop.MLPDerivation`: explicit matrices over
  entry symbols, printed as ``bmatrix``);
- a computation graph (:class:`~derive.graph.GraphDerivation`, seed 001).

The fragment has a short header, one ``align*`` per part of the derivation (forward pass,
backward pass, …) with one line per step, tagged with the step's number, and before every line
an ``\intertext`` (the first line: a paragraph) naming the rule that gives it and how the engine
checked it (SPEC §8); the derivation's overall check closes the fragment.  Nothing is computed
here: every equality shown is one the engine recorded.

Notation: every symbol comes from the profile (:mod:`derive.notation`), never spelled here.  A
matrix symbol is printed through the derivation's symbol table (kind, layer) and the profile;
an entry symbol (``W1_2_3``, ``a1_2``, ``P3_1``) as the profile's symbol with the entry's
indices (``W^{[1]}_{23}``).  Conventions of the rendering, chosen as a lecturer writes them:

- the transpose of a symbol whose layer index is bracketed joins its superscript (cs229
  ``W^{[2]T}``, mines ``\tilde{W}^{(2)T}``); with a bare superscript it is bracketed as in
  seed 003 (``[\Omega^{2}]^{T}``); otherwise the profile's mark is appended (``x^{T}``);
- the network's activation Φ is printed with the profile's name (``g``, ``\Phi``, ``h``),
  indexed by layer only when the layers use different activations, and its derivative with a
  prime (``g'(z^{[1]})``); the header says which function Φ is.  An identity activation
  prints as its argument; softmax as ``\operatorname{softmax}``; any other function keeps its
  registry LaTeX name (σ, tanh);
- a per-entry loss ℓ(A, Y) is written out with its arguments substituted: products of two
  matrix-valued factors with the profile's Hadamard mark, quotients as ``\frac``, powers as
  ``^{\odot 2}``, functions applied entry by entry — the header says so;
- ∂C/∂a is a fraction in numerator layout and ``\nabla_{a} C`` in denominator layout; seed
  003's row signal P^j = ∂C/∂a^{j-1} keeps its name when the profile gives it one
  (ensimag ``\mathcal{P}^{j}``); gradients are ``\nabla_{W^{[l]}} J``.

Glossary: ``d`` a derivation; ``l``, ``j`` a layer index; ``k`` a neuron; ``C`` the per-sample
cost, ``E`` the batch cost (the profile's ``C`` and ``E``); ``P`` the row signal, ``B`` the
column signal (``D`` in batch form).
"""

from __future__ import annotations

import re
import unicodedata

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from ..activations import ActivationFunction, x as ACTIVATION_VARIABLE
from ..backprop import MLPDerivation
from ..calculus.matrix_nodes import ActivationPrime, AsScalar, lambda_head
from ..calculus.matrix_printing import (MatrixLatexPrinter, _hadamard_order, _join_terms,
                                         _textbook_terms)
from ..derivation import RULES
from ..errors import BadInput
from ..graph import GraphDerivation
from ..layer_rules import J as LAYER_J, MatrixDerivation
from ..calculus.matrix_nodes import Softmax
from ..matrix_nodes_nn import Augment, DropBias, Entrywise2
from ..notation import Profile, get_profile

__all__ = ["render_latex", "NotationLatexPrinter", "latex_text", "RULE_LATEX"]


# --- text mode ----------------------------------------------------------------------------------

_TEXT_SPECIALS = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&",
                  "#": r"\#", "%": r"\%", "_": r"\_", "^": r"\textasciicircum{}",
                  "~": r"\textasciitilde{}", "<": r"\textless{}", ">": r"\textgreater{}",
                  "|": r"\textbar{}"}
#: Non-ASCII characters of engine messages, in math mode.
_TEXT_MATH = {"∂": r"\partial", "∇": r"\nabla", "⊙": r"\odot", "∘": r"\circ", "·": r"\cdot",
              "×": r"\times", "≥": r"\geq", "≤": r"\leq", "→": r"\to", "↦": r"\mapsto",
              "∈": r"\in", "≈": r"\approx", "≠": r"\neq", "ℓ": r"\ell", "∞": r"\infty",
              "Σ": r"\Sigma", "∑": r"\sum", "√": r"\surd", "±": r"\pm", "′": "'", "⊘": r"\oslash",
              "⁻": "^{-}", "ᵀ": "^{T}"}
#: Non-ASCII characters of engine messages, in text mode.
_TEXT_PLAIN = {"−": "-", "–": "--", "—": "---", "…": r"\ldots{}", "§": r"\S{}", "’": "'",
               "‘": "`", "“": "``", "”": "''", "\u00a0": "~", "\n": " "}
#: Combining accents (after NFD decomposition) as math accents: ŷ → \hat{y}, ṽ → \tilde{v}.
_ACCENTS = {0x0302: r"\hat", 0x0303: r"\tilde", 0x0304: r"\bar", 0x0305: r"\bar",
            0x0307: r"\dot", 0x20D7: r"\vec"}
#: Greek letters (after NFD decomposition) in math mode; capitals without a command of their own
#: look Latin.
_GREEK_NAMES = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron "
                "pi rho sigma tau upsilon phi chi psi omega").split()
_GREEK_CAPITALS = {"Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi",
                   "Psi", "Omega"}
_GREEK_LATIN = {"Alpha": "A", "Beta": "B", "Epsilon": "E", "Zeta": "Z", "Eta": "H", "Iota": "I",
                "Kappa": "K", "Mu": "M", "Nu": "N", "Omicron": "O", "Rho": "P", "Tau": "T",
                "Chi": "X"}


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


_TEXT_MATH.update(_greek())


def _math_for(char: str) -> str | None:
    """Math-mode LaTeX of one non-ASCII character, or ``None`` when it has none."""
    if char in _TEXT_MATH:
        return _TEXT_MATH[char]
    name = unicodedata.name(char, "")
    compatible = unicodedata.normalize("NFKD", char)
    if compatible.isascii() and compatible.isalnum():
        if name.startswith("SUBSCRIPT"):
            return f"_{{{compatible}}}"
        if name.startswith(("SUPERSCRIPT", "MODIFIER LETTER")):
            return f"^{{{compatible}}}"
    return None


def latex_text(text: str) -> str:
    """A plain-text message (an engine check, a rule) as LaTeX text mode.

    LaTeX's special characters are escaped; Greek letters and mathematical signs become inline
    math (``Φ`` → ``$\\Phi$``, ``ŷ`` → ``$\\hat{y}$``, ``Aᵀ`` → ``A$^{T}$``); any other
    character without a LaTeX spelling is written as its Unicode name in brackets.  Adjacent
    math is merged, so the result never holds ``$$``.

    >>> print(latex_text("∇_x E = [∂E/∂x]ᵀ (§3.1), 50% of n_0"))
    $\\nabla$\\_x E = [$\\partial$E/$\\partial$x]$^{T}$ (\\S{}3.1), 50\\% of n\\_0
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
        accents = [a for a in accents if a in _ACCENTS]          # others are dropped: ï → i
        if accents and (char.isascii() and char.isalpha() or _math_for(char)):
            body = char if char.isascii() else _math_for(char)
            for accent in accents:
                body = f"{_ACCENTS[accent]}{{{body}}}"
            emit(True, body)
            continue
        if char.isascii():
            emit(False, _TEXT_SPECIALS.get(char, char))
        elif char in _TEXT_PLAIN:
            emit(False, _TEXT_PLAIN[char])
        elif _math_for(char) is not None:
            math = _math_for(char)
            emit(True, math if math.startswith(("^", "_")) or not math[-1].isalpha()
                 else math + " ")
        else:
            name = unicodedata.name(char, f"U+{ord(char):04X}").lower()
            emit(False, f"[{name}]")
    return "".join(f"${piece.rstrip()}$" if is_math else piece for is_math, piece in segments)


# --- scripts, transposes, parentheses -----------------------------------------------------------

def _top_level(text: str, char: str) -> bool:
    """Whether ``char`` occurs in ``text`` outside every brace group (a script of the whole)."""
    depth, escaped = 0, False
    for c in text:
        if escaped:
            escaped = False
        elif c == "\\":
            escaped = True
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif c == char and depth == 0:
            return True
    return False


def _subscript(base: str, index: str) -> str:
    """``base_{index}``; a base that already carries a subscript is braced first."""
    if _top_level(base, "_"):
        base = f"{{{base}}}"
    return f"{base}_{{{index}}}"


def _decorate(base: str, decoration: str) -> str:
    """``base`` followed by a script ``decoration`` (``^{[1]}``), braced when it already
    carries a script of that kind."""
    if decoration[:1] in "^_" and decoration and _top_level(base, decoration[0]):
        base = f"{{{base}}}"
    return base + decoration


def _indices(*numbers) -> str:
    """Entry indices: ``23`` when every index is one digit, else ``12,3``."""
    texts = [str(n) for n in numbers]
    return "".join(texts) if all(len(t) == 1 for t in texts) else ",".join(texts)


def _prime(name: str) -> str:
    """``name'``; a name that carries a superscript is braced first (``{g^{[1]}}'``)."""
    return f"{{{name}}}'" if _top_level(name, "^") else f"{name}'"


def _paren(text: str) -> str:
    return rf"\left({text}\right)"


_BRACKETED_INDEX = re.compile(r"\^\{([\[(][^{}]*[\])])\}$")
_DOUBLE_SCRIPT = re.compile(r"([_^])\{([^{}]*)\}\1\{([^{}]*)\}")


def _repair_scripts(text: str) -> str:
    """A template's ``X_{f}_{2}`` (a double subscript, a LaTeX error) as ``X_{f,2}``."""
    previous = None
    while previous != text:
        previous, text = text, _DOUBLE_SCRIPT.sub(r"\1{\2,\3}", text)
    return text


def _transpose_symbol(text: str, mark: str) -> str:
    """The transpose of a symbol's LaTeX (see the module docstring)."""
    inner = mark[2:-1] if mark.startswith("^{") and mark.endswith("}") else None
    if r"\frac" in text:                               # cmu's ∂J/∂s_{2}
        return _paren(text) + mark
    if inner is not None and _BRACKETED_INDEX.search(text):
        return text[:-1] + inner + "}"
    if _top_level(text, "^"):
        return f"[{text}]{mark}"
    return text + mark


# --- the printer ----------------------------------------------------------------------------

class NotationLatexPrinter(MatrixLatexPrinter):
    r"""Matrix expressions of a derivation in a notation profile.

    Parameters
    ----------
    profile : Profile
        Transpose and Hadamard marks.
    names : dict
        Symbol or MatrixSymbol → its LaTeX (the profile's symbol, or an entry of one).
    bars : dict
        MatrixSymbol W̃ → the LaTeX of W̃ without its bias column (the profile's ``Wbar``).
    activation_name : callable, optional
        ``(function class, argument) → LaTeX name or None``: the profile's name for the
        network's activation applied to ``argument`` (else the registry's name is used).

    >>> from derive.notation import get_profile
    >>> n = sp.Symbol("n")
    >>> W, b = sp.MatrixSymbol("W2", n, n), sp.MatrixSymbol("b2", n, 1)
    >>> printer = NotationLatexPrinter(get_profile("cs229"), {W: "W^{[2]}", b: "b^{[2]}"})
    >>> printer.doprint(W.T * b)
    'W^{[2]T} b^{[2]}'
    """

    def __init__(self, profile: Profile, names: dict | None = None, bars: dict | None = None,
                 activation_name=None):
        super().__init__()
        self.profile = profile
        self.names = dict(names or {})
        self.bars = dict(bars or {})
        self.activation_name = activation_name or (lambda function, argument: None)
        self._entrywise: list = []            # placeholders standing for matrices inside ℓ

    # symbols
    def _print_Symbol(self, expr, style="plain"):
        name = self.names.get(expr)
        return name if name is not None else super()._print_Symbol(expr, style)

    def _print_MatrixSymbol(self, expr):
        name = self.names.get(expr)
        return name if name is not None else super()._print_MatrixSymbol(expr)

    def _print_Indexed(self, expr):
        base = self.names.get(expr.base.label)
        if base is None:
            return super()._print_Indexed(expr)
        return _subscript(base, "(" + ",".join(self._print(i) for i in expr.indices) + ")")

    # explicit matrices: bmatrix, or an array beyond bmatrix's ten columns
    def _print_MatrixBase(self, expr):
        if expr.shape == (1, 1):
            return self._print(expr[0, 0])
        body = r" \\ ".join(" & ".join(self._print(e) for e in expr.row(i))
                            for i in range(expr.rows))
        if expr.cols <= 10:
            return rf"\begin{{bmatrix}} {body} \end{{bmatrix}}"
        return rf"\left[\begin{{array}}{{{'c' * expr.cols}}} {body} \end{{array}}\right]"

    _print_Matrix = _print_MutableDenseMatrix = _print_ImmutableMatrix = \
        _print_ImmutableDenseMatrix = _print_MatrixBase

    # matrix algebra
    def _print_MatMul(self, expr):
        coeff, factors = expr.as_coeff_matrices()
        if not factors:
            return self._print(coeff)
        coeff = sp.sympify(coeff)
        if len(factors) == 1 and isinstance(factors[0], sp.HadamardProduct):
            body = self._print(factors[0])             # c (A ⊙ B) = (c A) ⊙ B: no parentheses
        else:
            body = " ".join(self._factor(f) for f in factors)
        sign = ""
        if coeff.could_extract_minus_sign():
            sign, coeff = "- ", -coeff
        if coeff == 1:
            return sign + body
        return f"{sign}{self._coefficient(coeff)} {body}"

    def _coefficient(self, coeff) -> str:
        numer, denom = sp.fraction(coeff, exact=True)
        top = self._print(numer)
        if isinstance(numer, sp.Add):
            top = _paren(top)
        if denom == 1:
            return top
        return rf"\frac{{{top}}}{{{self._print(denom)}}}"

    def _factor(self, expr) -> str:
        text = self._print(expr)
        return _paren(text) if self._compound(expr) else text

    def _compound(self, expr) -> bool:
        """Whether a factor of a product needs parentheses."""
        if isinstance(expr, (sp.MatAdd, sp.HadamardProduct, sp.MatMul)):
            return True
        if isinstance(expr, Entrywise2):
            body = expr.function.expr
            return isinstance(body, (sp.Add, sp.Mul)) or body.could_extract_minus_sign()
        return False

    def _print_HadamardProduct(self, expr):
        return f" {self.profile.hadamard} ".join(self._factor(a)
                                                   for a in _hadamard_order(expr.args))

    def _print_HadamardPower(self, expr):
        base = self._print(expr.base)
        if not isinstance(expr.base, sp.MatrixSymbol) or _top_level(base, "^"):
            base = _paren(base)
        return f"{base}^{{{self.profile.hadamard} {self._print(expr.exp)}}}"

    def _print_Transpose(self, expr):
        arg, mark = expr.arg, self.profile.transpose
        if self._identity_call(arg):
            return self._print_Transpose(sp.Transpose(arg.expr))
        text = self._print(arg)
        if isinstance(arg, sp.MatrixSymbol) or (isinstance(arg, DropBias) and arg.arg in self.bars):
            return _transpose_symbol(text, mark)
        if isinstance(arg, sp.OneMatrix) and arg.shape[1] == 1:
            return r"\mathbf{1}" + mark
        if isinstance(arg, (ElementwiseApplyFunction, Softmax, Augment)):
            return text + mark                         # a call or a bracketed block: atomic
        return _paren(text) + mark

    def _identity_call(self, expr) -> bool:
        """Whether ``expr`` is Φ(Z) for an identity Φ, which prints as Z."""
        if not isinstance(expr, ElementwiseApplyFunction):
            return False
        head = lambda_head(expr.function)
        return head is not None and issubclass(head, ActivationFunction) and \
            head.entry.expr == ACTIVATION_VARIABLE

    def _print_MatAdd(self, expr):
        # Textbook order (MatrixLatexPrinter), then biases last: W a + b, W X + b 1ᵀ.
        def is_bias(term):
            if isinstance(term, sp.MatMul):
                last = term.args[-1]
                return isinstance(last, sp.OneMatrix) and last.shape[0] == 1
            return isinstance(term, sp.MatrixSymbol)

        terms = sorted(_textbook_terms(expr), key=lambda t: (t.could_extract_minus_sign(),
                                                            is_bias(t)))
        return _join_terms([self._print(term) for term in terms])

    def _print_OneMatrix(self, expr):
        rows, cols = expr.shape
        if rows == 1 and cols == 1:
            return "1"
        if rows == 1:
            return r"\mathbf{1}" + self.profile.transpose
        if cols == 1:
            return r"\mathbf{1}"
        return rf"\mathbf{{1}}_{{{self._print(rows)} \times {self._print(cols)}}}"

    def _print_ZeroMatrix(self, expr):
        return r"\mathbf{0}"

    def _print_AsScalar(self, expr):
        inner = self._print(expr.matrix)
        return inner if isinstance(expr.matrix, sp.MatrixSymbol) else _paren(inner)

    # nodes of networks (derive.matrix_nodes_nn)
    def _print_Softmax(self, expr):
        return r"\operatorname{softmax}" + _paren(self._print(expr.arg))

    def _print_Augment(self, expr):
        top = "1" if expr.arg.shape[1] == 1 else r"\mathbf{1}" + self.profile.transpose
        return rf"\begin{{bmatrix}} {top} \\ {self._print(expr.arg)} \end{{bmatrix}}"

    def _print_DropBias(self, expr):
        if expr.arg in self.bars:
            return self.bars[expr.arg]
        return _subscript(_paren(self._print(expr.arg)), r":,\,2:")     # columns 2 … of W̃

    def _print_DropFirstRow(self, expr):
        return _subscript(_paren(self._print(expr.arg)), r"2:,\,:")      # rows 2 … of G

    def _print_Entrywise2(self, expr):
        count = len(self._entrywise)
        first, second = (sp.Symbol(f"ENTRYWISEARG{count}{tag}", real=True) for tag in "AB")
        self.names[first] = self._print(expr.args[1])
        self.names[second] = self._print(expr.args[2])
        self._entrywise += [first, second]
        try:
            return self._print(expr.body(first, second))
        finally:
            del self._entrywise[-2:]
            del self.names[first], self.names[second]

    # activations
    def _print_ElementwiseApplyFunction(self, expr):
        head = lambda_head(expr.function)
        if head is None or not issubclass(head, (ActivationFunction, ActivationPrime)):
            return super()._print_ElementwiseApplyFunction(expr)
        prime = issubclass(head, ActivationPrime)
        function = head.base if prime else head
        if not prime and function.entry.expr == ACTIVATION_VARIABLE:
            return self._print(expr.expr)                  # the identity: Φ(z) = z
        name = self.activation_name(function, expr.expr) or function.entry.latex
        return (_prime(name) if prime else name) + _paren(self._print(expr.expr))

    # scalars: the body of an entrywise function of matrices (placeholders stand for them)
    def _involves_matrices(self, expr) -> bool:
        return any(expr.has(p) for p in self._entrywise)

    def _print_Mul(self, expr):
        if not self._involves_matrices(expr):
            numer, denom = sp.fraction(expr, exact=True)
            if denom != 1 and numer.has(sp.Sum):      # (1/N) Σ …, not a fraction over N
                return rf"\frac{{1}}{{{self._print(denom)}}} {self._print(numer)}"
            return super()._print_Mul(expr)
        coeff, rest = expr.as_coeff_Mul()
        sign = ""
        if coeff.is_negative:
            sign, coeff = "- ", -coeff
        numer, denom = sp.fraction(rest, exact=True)
        if denom == 1 and coeff != 1:                  # ½ (a - y)^{⊙2}: the number in front
            return f"{sign}{self._print(coeff)} {self._product(sp.Mul.make_args(numer))}"
        c_numer, c_denom = sp.fraction(coeff)
        top = [c_numer, *sp.Mul.make_args(numer)]
        bottom = [c_denom, *sp.Mul.make_args(denom)]
        if any(f != 1 for f in bottom):
            return rf"{sign}\frac{{{self._product(top, bare=True)}}}" \
                   rf"{{{self._product(bottom, bare=True)}}}"
        return sign + self._product(top)

    def _product(self, factors: list, bare: bool = False) -> str:
        """Scalar factors juxtaposed, then the matrix-valued ones joined by the Hadamard mark;
        ``bare``: a lone factor needs no parentheses (a numerator or denominator)."""
        factors = [f for f in factors if f != 1]
        if not factors:
            return "1"
        if bare and len(factors) == 1:
            return self._print(factors[0])
        scalars = [f for f in factors if not self._involves_matrices(f)]
        matrices = [f for f in factors if self._involves_matrices(f)]
        parts = []
        if scalars:
            scalar = sp.Mul(*scalars)
            parts.append(self._print(scalar) if not isinstance(scalar, sp.Add)
                         else _paren(self._print(scalar)))
        if matrices:
            texts = [_paren(self._print(f)) if isinstance(f, sp.Add) else self._print(f)
                     for f in matrices]
            parts.append(f" {self.profile.hadamard} ".join(texts))
        return " ".join(parts)

    def _print_Pow(self, expr):
        if not self._involves_matrices(expr):
            return super()._print_Pow(expr)
        base, exponent = expr.as_base_exp()
        if exponent.is_negative:
            return rf"\frac{{1}}{{{self._print(base ** -exponent)}}}"
        if exponent == sp.S.Half:
            return rf"\sqrt{{{self._print(base)}}}"
        text = self._print(base)
        if base not in self._entrywise or _top_level(text, "^"):
            text = _paren(text)
        return f"{text}^{{{self.profile.hadamard} {self._print(exponent)}}}"

    def _print_Add(self, expr, order=None):
        if not self._involves_matrices(expr):
            return super()._print_Add(expr, order)
        terms = list(self._as_ordered_terms(expr, order=order))
        terms = [t for t in terms if not t.could_extract_minus_sign()] + \
            [t for t in terms if t.could_extract_minus_sign()]
        text = ""
        for i, term in enumerate(terms):
            if term.could_extract_minus_sign():
                text += ("- " if i == 0 else " - ") + self._print(-term)
            else:
                text += ("" if i == 0 else " + ") + self._print(term)
        return text

    def _print_exp(self, expr, exp=None):
        # MatrixLatexPrinter._print_exp handles e^{vᵀv}; for any other argument it calls a
        # LatexPrinter._print_exp that does not exist: exp is LatexPrinter's ExpBase.
        arg = expr.args[0]
        if exp is None and (isinstance(arg, AsScalar) or arg.could_extract_minus_sign() and
                            isinstance(-arg, AsScalar)):
            return super()._print_exp(expr, exp)
        return self._print_ExpBase(expr, exp)

    def _print_Heaviside(self, expr, exp=None):
        argument, *rest = expr.args
        if rest and rest[0] == 1:                       # H(0) = 1: the registry's step
            text = r"\operatorname{step}" + _paren(self._print(argument))
        elif not rest or rest[0] == sp.S.Half:
            text = r"\theta" + _paren(self._print(argument))
        else:
            return super()._print_Heaviside(expr, exp)
        return f"{text}^{{{exp}}}" if exp is not None else text


# --- rules and how they were checked --------------------------------------------------------------

#: Each rule of :data:`derive.derivation.RULES`, shortened for the line it justifies (text mode).
RULE_LATEX: dict[str, str] = {
    "definition": "Definition",
    "layer": "Definition of the layer",
    "loss": "Per-sample cost: the sum of the per-entry losses",
    "batch_loss": "Batch cost: the mean (or sum) of the per-sample costs",
    "diff": "Differentiation",
    "activation_derivative": "Derivative of the activation",
    "chain_rule": "Chain rule",
    "recursion_start": "Start of the backward recursion (seed 003)",
    "recursion": "Backward recursion, by the chain rule (seed 003)",
    "weight_gradient": "Chain rule for the weights of one neuron (seed 003)",
    "bias_gradient": "Chain rule for the bias (seed 003)",
    "gradient_transpose": "The gradient is the transposed derivative",
    "diag_hadamard": r"$\operatorname{diag}(v)\,u = v \odot u$",
    "signal_definition": "Definition of the backpropagated signal (seed 003)",
    "signal_recursion": "Backward recursion of the signal",
    "signal_gradient": "Gradient from the signal",
    "simplify": "Simplification of the loss's derivative with the output activation",
    "target_domain": "A property of the loss's targets",
    "accumulate": "Multivariate chain rule: the contributions of every path add up",
    "reduction": "The gradient of a mean (sum) is the mean (sum) of the gradients",
    "layout": "Layout conversion (transpose)",
    "vjp": "Chain rule in reverse mode",
    "loss_gradient": "Derivative of the loss, entry by entry",
}
#: Rules whose steps are definitions: nothing to check.
_DEFINITIONS = {"definition", "layer", "loss", "batch_loss", "reduction"}


def _rule_text(rule: str) -> str:
    return RULE_LATEX.get(rule) or latex_text(RULES[rule])


# --- the renderers --------------------------------------------------------------------------------

class _Renderer:
    """What every renderer shares: the profile, a printer, lines with notes, blocks."""

    #: Section title of each part of the derivation, in order of first appearance.
    TITLES = {"forward": "Forward pass", "backward": "Backward pass", "batch": "Over a batch"}
    #: How an unchecked, non-definition step was obtained.
    DERIVED = "computed by the engine from the lines above"

    def __init__(self, d, profile: Profile):
        self.d = d
        self.profile = profile
        self.printer = NotationLatexPrinter(profile, self.names(), self.bars(),
                                            self.activation_name)

    # hooks of the derivation kinds
    def names(self) -> dict:
        return {}

    def bars(self) -> dict:
        return {}

    def activation_name(self, function, argument):
        return None

    def section(self, step) -> str:
        return "backward"

    # symbols
    def sym(self, kind: str, layer=None) -> str:
        try:
            text = self.profile.symbol(kind, layer)
        except (KeyError, IndexError, ValueError) as exc:
            # A template with single braces ("\\mathcal{B}{i}") fails in str.format.
            raise BadInput(f"notation template {self.profile.latex.get(kind)!r} for {kind!r} of "
                           f"profile {self.profile.name!r} does not format ({type(exc).__name__}: "
                           f"{exc}); in a Profile write braces as {{{{ }}}} and the layer as "
                           "{i}") from None
        return _repair_scripts(text)

    def frac(self, of: str, wrt: str) -> str:
        return rf"\frac{{\partial {of}}}{{\partial {wrt}}}"

    def nabla(self, wrt: str, of: str) -> str:
        return rf"\nabla_{{{wrt}}} {of}"

    # lines
    def note(self, step) -> str:
        if step.check:
            how = "; checked: " + latex_text(step.check)
        elif step.rule in _DEFINITIONS:
            how = ""
        else:
            how = "; " + self.DERIVED
        extra = " (entrywise)" if _has_entrywise(step.rhs) else ""
        return rf"\textit{{{_rule_text(step.rule)}}}{extra}{how}."

    def rhs(self, value) -> str:
        return self.printer.doprint(value)

    def body(self) -> str:
        """The steps: one block per run of steps of one section."""
        blocks, current, previous = [], None, None
        for number, step in enumerate(self.d.steps, start=1):
            section = self.section(step)
            if current is None or section != current[0]:
                current = (section, [])
                blocks.append(current)
                previous = None
            lhs = "" if step.lhs == previous else self.lhs(step.lhs)
            current[1].append((lhs, self.rhs(step.rhs), self.note(step), number))
            previous = step.lhs
        return "\n\n".join(_block(self.TITLES[section], lines) for section, lines in blocks)

    def lhs(self, label) -> str:
        method = self.LHS.get(label.kind)
        if method is None:
            return r"\text{" + latex_text(str(label)) + "}"
        return method(self, label)

    LHS: dict = {}


def _has_entrywise(value) -> bool:
    return isinstance(value, sp.Basic) and any(isinstance(n, Entrywise2)
                                               for n in sp.preorder_traversal(value))


def _block(title: str, lines: list) -> str:
    """One ``align*``: the first line's note in a paragraph before it, the others as
    ``\\intertext`` between the lines."""
    out = [rf"\noindent\textbf{{{title}.}} {lines[0][2]}", r"\begin{align*}"]
    for i, (lhs, rhs, note, number) in enumerate(lines):
        if i:
            out.append(rf"\intertext{{{note}}}")
        end = r"\\" if i + 1 < len(lines) else ""
        out.append(rf"{lhs} &= {rhs} \tag{{{number}}}{end}")
    out.append(r"\end{align*}")
    return "\n".join(out)


def _summary(title: str, intro: str, lines: list[tuple[str, str]]) -> str:
    """An untagged ``align*`` of results (the gradients)."""
    out = [rf"\noindent\textbf{{{title}.}} {intro}", r"\begin{align*}"]
    out += [rf"{lhs} &= {rhs}" + (r"\\" if i + 1 < len(lines) else "")
            for i, (lhs, rhs) in enumerate(lines)]
    out.append(r"\end{align*}")
    return "\n".join(out)


class _NetworkRenderer(_Renderer):
    """What the matrix-form and concrete renderers share: layers, activations, signals."""

    batch = False

    # activations: the profile's Φ for the network's elementwise, non-identity activations
    def layer_activations(self) -> list:
        """(layer, activation) in layer order."""
        raise NotImplementedError

    def _named_layers(self) -> list:
        return [(layer, act) for layer, act in self.layer_activations()
                if not act.vector_valued and act.expr != ACTIVATION_VARIABLE]

    def _uniform(self) -> bool:
        return len({act.function for _, act in self._named_layers()}) == 1

    def phi(self, layer) -> str:
        """The name of layer ``layer``'s activation: the profile's Φ, or the registry's name."""
        named = dict((str(l), act) for l, act in self._named_layers())
        if str(layer) not in named:
            return dict((str(l), a) for l, a in self.layer_activations())[str(layer)].latex
        if self._uniform():
            return self.sym("phi")
        indexed = self.sym("phi", layer)
        if indexed == self.sym("phi"):            # a template without the layer: add it
            indexed = _decorate(indexed, self.profile.layer_index(layer))
        return indexed

    def legend(self) -> str:
        """Which function Φ is (with its derivative and how that was checked)."""
        seen, parts = [], []
        for layer, act in self._named_layers():
            name = self.phi(layer)
            if name in seen:
                continue
            seen.append(name)
            printer = NotationLatexPrinter(self.profile)
            variable = _paren(printer.doprint(ACTIVATION_VARIABLE))
            derivative = (rf"${_prime(act.latex)}{variable} = "
                          rf"{printer.doprint(act.printed_derivative)}$ "
                          f"({latex_text(act.check)})")
            definition = printer.doprint(act.expr)
            if isinstance(act.expr, sp.Function) and act.expr.args == (ACTIVATION_VARIABLE,) \
                    or definition == act.latex + variable:
                parts.append(rf"${name} = {act.latex}$, where {derivative}")   # tanh: no more
            else:
                parts.append(rf"${name} = {act.latex}$, where ${act.latex}{variable} = "
                             rf"{definition}$ and {derivative}")
        if not parts:
            return ""
        return r"\noindent Activation: " + "; ".join(parts) + "."

    # shared left sides
    def a(self, layer) -> str:
        if layer == 0:
            return self.sym("X" if self.batch else "x")
        return self.sym("A" if self.batch else "a", layer)

    def signal_names_row(self) -> bool:
        """Whether the profile names the row signal P^j (ensimag 𝓟^j) rather than spelling it
        as a derivative (cs229's ∂L/∂a^{[l]}), which is then written out here."""
        text = self.sym("P", 1)
        return r"\frac" not in text and r"\partial" not in text

    def cost_derivative(self, layer, cost: str, row: bool) -> str:
        """∂C/∂a^{layer}: a fraction (numerator layout) or ∇ (denominator), with seed 003's
        name P^{layer+1} in front for a per-sample row signal when the profile has one."""
        wrt = self.a(layer)
        numerator = self.d.layout == "numerator"
        value = self.frac(cost, wrt) if numerator else self.nabla(wrt, cost)
        if row and self.signal_names_row():
            name = self.sym("P", layer + 1)
            name = name if numerator else _transpose_symbol(name, self.profile.transpose)
            return f"{name} = {value}"
        return value

    def derivative(self, of: str, wrt: str) -> str:
        """∂(scalar)/∂(parameter): a fraction in numerator layout, ∇ in denominator layout."""
        return self.frac(of, wrt) if self.d.layout == "numerator" else self.nabla(wrt, of)

    def parameter(self, name: str, layer) -> str:
        return self.sym(name[0], layer)

    def simplification(self) -> str:
        """Which line is the recognised output simplification (ŷ − y), if any."""
        if not self.d.simplification:
            return ""
        lines = [n for n, step in enumerate(self.d.steps, start=1)
                 if step.rule in ("simplify", "target_domain")]
        return (rf"\noindent Recognised simplification: line ({lines[-1]}) is the residual, "
                "prediction minus target.") if lines else ""

    #: How the header names the form of the derivation, and its samples.
    FORM = ""

    def samples(self) -> str:
        return "one sample"

    def header(self) -> str:
        net, profile, layout = self.net, self.profile, self.d.layout
        comment = (f"% generated by symbackprop: {net.describe()}; notation {profile.name}; {layout} layout; "
                   f"{self.samples()}")
        paragraphs = [rf"\noindent Backpropagation {self.FORM}for a {latex_text(net.describe())},"
                      f" in the notation profile {latex_text(profile.name)}; "
                      f"{self.samples()}; derivatives in {layout} layout, gradients in the "
                      "shape of their parameter.", self.legend()]
        if any(_has_entrywise(step.rhs) for step in self.d.steps):
            paragraphs.append(r"\noindent Inside the per-entry loss and its derivative, sums, "
                              f"products (${profile.hadamard}$), fractions, powers and functions "
                              "of vectors are taken entry by entry.")
        return comment + "\n" + "\n\n".join(p for p in paragraphs if p)


class _MatrixRenderer(_NetworkRenderer):
    """A :class:`~derive.layer_rules.MatrixDerivation`."""

    def __init__(self, d: MatrixDerivation, profile: Profile):
        self.batch = d.batch
        self.net = d.network
        super().__init__(d, profile)
        if d.check:
            self.DERIVED = "derived by the engine, covered by the final check"

    def names(self) -> dict:
        return {symbol: self.sym(kind, layer)
                for symbol, (kind, layer) in self.d.symbols.table.items()}

    def bars(self) -> dict:
        return {symbol: self.sym("Wbar", layer)
                for symbol, (kind, layer) in self.d.symbols.table.items() if kind == "W"}

    def layers(self) -> list:
        net = self.net
        return [LAYER_J, net.depth] if net.symbolic_depth else \
            list(range(1, net.depth + 1))

    def layer_activations(self) -> list:
        return [(layer, self.net.activation(layer)) for layer in self.layers()]

    def activation_name(self, function, argument):
        kind, layer = self.d.symbols.table.get(argument, (None, None))
        if kind not in ("z", "Z") or self.net.activation(layer).vector_valued:
            return None
        if self.net.activation(layer).function is not function:
            return None
        return self.phi(layer)

    def section(self, step) -> str:
        return "forward" if step.lhs.kind in ("z", "a", "C", "E") else "backward"

    def note(self, step) -> str:
        text = super().note(step)
        if self.batch and step.lhs.kind == "dC/da":
            # The engine's batch ∂C/∂A stacks the per-sample derivatives (Δ is unscaled).
            scale = r"$\frac{1}{N}$ of it" if self.net.reduction == "mean" else "the same"
            text += (" The derivatives of the samples' costs, side by side; the batch cost's "
                     f"is {scale}.")
        return text

    def cost(self) -> str:
        return self.sym("E" if self.batch else "C")

    LHS = {
        "z": lambda self, label: self.sym("Z" if self.batch else "z", label.layer),
        "a": lambda self, label: self.a(label.layer),
        "C": lambda self, label: self.sym("C"),
        "E": lambda self, label: self.sym("E"),
        "B": lambda self, label: self.sym("B", label.layer),
        "D": lambda self, label: self.sym("D", label.layer),
        "dC/da": lambda self, label: self.cost_derivative(label.layer, self.sym("C"),
                                                          row=not self.batch),
        "dE/dW": lambda self, label: self.derivative(self.cost(), self.sym("W", label.layer)),
        "dE/db": lambda self, label: self.derivative(self.cost(), self.sym("b", label.layer)),
        "grad": lambda self, label: self.nabla(self.parameter(label.wrt, label.layer),
                                               self.cost()),
    }

    FORM = "in matrix form "

    def samples(self) -> str:
        if self.batch:
            return rf"a batch of $N$ samples as the columns of ${self.sym('X')}$"
        return "one sample, vectors as columns"

    def gradients(self) -> str:
        lines = []
        layers = {_layer_key(layer): layer for layer in self.layers()}
        for name, value in self.d.gradients.items():
            layer = layers[name[1:]]
            lines.append((self.nabla(self.parameter(name, layer), self.cost()), self.rhs(value)))
        if self.batch:
            reduction = "mean" if self.net.reduction == "mean" else "sum"
            intro = f"Gradients of the batch cost (the {reduction} over the samples)."
        else:
            intro = "Gradients of the per-sample cost."
        return _summary("Gradients", intro, lines)

    def footer(self) -> str:
        check = self.d.check
        if check:
            return rf"\noindent\textbf{{Checked:}} {latex_text(check)}."
        return r"\noindent\textbf{Not checked}: the derivation was made without its check."


def _layer_key(layer) -> str:
    return str(layer).replace(" ", "")


class _ConcreteRenderer(_NetworkRenderer):
    """A :class:`~derive.backprop.MLPDerivation`: explicit matrices over entry symbols."""

    def __init__(self, d: MLPDerivation, profile: Profile):
        self.net = d.network
        super().__init__(d, profile)

    def names(self) -> dict:
        """Every entry symbol of the network and of the signals → its LaTeX."""
        net, names = self.net, {}
        for layer in net.layers:
            j = layer.index
            first_column = 0 if layer.convention == "augmented" else 1
            W = self.sym("W", j)
            for r in range(layer.W.rows):
                for c in range(layer.W.cols):
                    names[layer.W[r, c]] = _subscript(W, _indices(r + 1, c + first_column))
            for kind, symbols, where in (("b", layer.b, j), ("a", layer.inputs, j - 1),
                                         ("z", layer.z, j), ("a", layer.a, j)):
                if symbols is None:
                    continue
                base = self.a(where) if kind == "a" else self.sym(kind, where)
                names.update({s: _subscript(base, str(i + 1)) for i, s in enumerate(symbols)})
            for i in range(layer.n_in):                        # P^j = ∂C/∂a^{j-1}
                names[sp.Symbol(f"P{j}_{i + 1}", real=True)] = self.row_entry(j, i + 1)
            for i in range(layer.n_out):
                names[sp.Symbol(f"B{j}_{i + 1}", real=True)] = _subscript(self.sym("B", j),
                                                                          str(i + 1))
        for i in range(net.sizes[-1]):
            names[sp.Symbol(f"P{net.depth + 1}_{i + 1}", real=True)] = \
                self.row_entry(net.depth + 1, i + 1)
        names.update({s: _subscript(self.sym("y"), str(i + 1)) for i, s in enumerate(net.y)})
        names[sp.Symbol("C")] = self.sym("C")                  # C^{(n)} of the batch cost
        return names

    def row_entry(self, j: int, i: int) -> str:
        """Entry i of P^j = ∂C/∂a^{j-1}."""
        if self.signal_names_row():
            return _subscript(self.sym("P", j), str(i))
        return self.frac(self.sym("C"), _subscript(self.a(j - 1), str(i)))

    def layer_activations(self) -> list:
        return [(layer.index, layer.activation) for layer in self.net.layers]

    def section(self, step) -> str:
        if step.rule == "reduction":
            return "batch"
        return "forward" if step.lhs.kind in ("z", "a", "C") else "backward"

    def f(self, j) -> str:
        return _decorate("f", self.profile.layer_index(j))

    def neuron(self, j: int, k: int) -> str:
        """The weights of neuron k of layer j: a row of W (a column for ``columns``)."""
        index = f":,{k}" if self.net.convention == "columns" else f"{k},:"
        return _subscript(self.sym("W", j), index)

    def phi_of(self, j) -> str:
        z = self.sym("z", j)
        return self.frac(self.phi(j) + _paren(z), z)

    LHS = {
        "z": lambda self, label: self.sym("z", label.layer),
        "a": lambda self, label: self.a(label.layer),
        "C": lambda self, label: self.sym("C"),
        "E": lambda self, label: self.sym("E"),
        "B": lambda self, label: self.sym("B", label.layer),
        "P": lambda self, label: self.cost_derivative(label.layer - 1, self.sym("C"), row=True),
        "dphi/dz": lambda self, label: self.phi_of(label.layer),
        "df/da": lambda self, label: self.frac(self.f(label.layer), self.a(label.layer - 1)),
        "df/dw": lambda self, label: self.frac(self.f(label.layer),
                                               self.neuron(label.layer, label.index)),
        "df/db": lambda self, label: self.frac(self.f(label.layer), self.sym("b", label.layer)),
        "dE/dw": lambda self, label: self.derivative(self.sym("C"),
                                                     self.neuron(label.layer, label.index)),
        "dE/db": lambda self, label: self.derivative(self.sym("C"), self.sym("b", label.layer)),
        "dC/dz": lambda self, label: self.derivative(self.sym("C"), self.sym("z", label.layer)),
        "grad": lambda self, label: self.nabla(self.parameter(label.wrt, label.layer),
                                               self.sym("C")),
    }

    def gradients(self) -> str:
        lines = [(self.nabla(self.parameter(name, int(name[1:])), self.sym("C")),
                  self.rhs(value)) for name, value in self.d.gradients.items()]
        reduction = "mean" if self.net.reduction == "mean" else "sum"
        return _summary("Gradients", "Gradients of the per-sample cost, as the steps from "
                        f"the signals give them (the batch gradient is their {reduction} over "
                        "the samples).", lines)

    def footer(self) -> str:
        return ""


class _GraphRenderer(_Renderer):
    """A :class:`~derive.graph.GraphDerivation`: ∂J/∂v over all paths (seed 001)."""

    TITLES = {"forward": "Nodes", "backward": "Reverse accumulation"}

    def names(self) -> dict:
        d, names = self.d, {}
        for name, variable in d.variables.items():
            base = _graph_name(name)
            for position, symbol in enumerate(variable.entries):
                names[symbol] = self._entry(base, variable, position)
        output = d.output
        for name, variable in d.variables.items():
            for position in range(len(variable.entries)):
                names[sp.Symbol(f"d{output}_d{name}{variable.suffix(position)}", real=True)] = \
                    self.frac(_graph_name(output),
                              self._entry(_graph_name(name), variable, position))
            for child in d.children.get(name, []):
                c = d.variables[child]
                for i in range(len(c.entries)):
                    for j in range(len(variable.entries)):
                        symbol = sp.Symbol(f"d{child}_d{name}{c.suffix(i)}{variable.suffix(j)}",
                                           real=True)
                        names[symbol] = self.frac(self._entry(_graph_name(child), c, i),
                                                  self._entry(_graph_name(name), variable, j))
        return names

    @staticmethod
    def _entry(base: str, variable, position: int) -> str:
        if variable.kind == "scalar":
            return base
        if variable.kind == "vector":
            return _subscript(base, str(position + 1))
        rows = variable.shape[0]
        return _subscript(base, _indices(position % rows + 1, position // rows + 1))

    def section(self, step) -> str:
        return "forward" if step.lhs.kind == "node" else "backward"

    def _named(self, text: str) -> str:
        if text.startswith("vec(") and text.endswith(")"):
            return r"\operatorname{vec}" + _paren(_graph_name(text[4:-1]))
        return _graph_name(text)

    LHS = {
        "node": lambda self, label: _graph_name(label.of),
        "partial": lambda self, label: self.frac(self._named(label.of), self._named(label.wrt)),
    }

    def header(self) -> str:
        d = self.d
        source = f" {d.graph.source}" if d.graph.source else ""
        return "\n".join([
            f"% generated by symbackprop: computation graph{source}; output {d.output}; {d.layout} layout",
            rf"\noindent Reverse accumulation on the computation graph{latex_text(source)}: "
            f"the derivative of ${_graph_name(d.output)}$ with respect to every node, parameter "
            f"and input, in {d.layout} layout (a matrix by vec, column by column)."])

    def gradients(self) -> str:
        d = self.d
        output = _graph_name(d.output)
        lines = [(self.nabla(_graph_name(name), output), self.rhs(d.over_nodes(d.gradient(name))))
                 for name in d.leaves()]
        if not lines:
            return ""
        return _summary("Gradients", "Each in the shape of its variable, over the inputs, "
                        "parameters and node values.", lines)

    def footer(self) -> str:
        return ""


_SUFFIXED_NAME = re.compile(r"^([A-Za-z])([0-9]+|[A-Z]+)$")


def _graph_name(name: str) -> str:
    """A graph name as a reader writes it: ``z1`` → ``z_{1}``, ``wA`` → ``w_{A}``,
    ``alpha`` → ``\\alpha``, ``loss`` → ``\\mathrm{loss}``."""
    match = _SUFFIXED_NAME.match(name)
    if match:
        return f"{match.group(1)}_{{{match.group(2)}}}"
    text = sp.latex(sp.Symbol(name))
    if text == name and len(name) > 1 and name.isalnum():
        return rf"\mathrm{{{name}}}"
    return text


# --- the entry point ---------------------------------------------------------------------------

#: Derivation class → its renderer (checked in order: the first that matches).
RENDERERS = ((MatrixDerivation, _MatrixRenderer), (MLPDerivation, _ConcreteRenderer),
             (GraphDerivation, _GraphRenderer))
#: Profile of a derivation that has no network to carry one (a computation graph, seed 001).
GRAPH_PROFILE = "cmu"


def _profile_of(derivation, notation) -> Profile:
    if notation is None:
        network = getattr(derivation, "network", None)
        notation = getattr(network, "notation", None) or GRAPH_PROFILE
    if not isinstance(notation, (str, Profile)):
        raise BadInput(f"notation must be a profile name or a Profile, got {notation!r}")
    return get_profile(notation)


def render_latex(derivation, notation=None) -> str:
    r"""A derivation as a LaTeX fragment in a course's notation (SPEC §5a ``d.to_latex``).

    Parameters
    ----------
    derivation : MatrixDerivation, MLPDerivation or GraphDerivation
    notation : str or Profile, optional
        A profile name (``"cs229"``, ``"ensimag"``, …) or a :class:`~derive.notation.Profile`;
        by default the network's own (a graph: ``cmu``).

    Returns
    -------
    str
        LaTeX for a document that loads amsmath and amssymb (no preamble): a header, one
        ``align*`` per part with one tagged line per step (step n is ``\tag{n}``) and, before
        each line, the rule and how the engine checked it; the gradients; the overall check.
        Byte-identical for the same input, whatever PYTHONHASHSEED is.

    Raises
    ------
    BadInput
        An unknown profile name (the message lists the known ones).

    Examples
    --------
    >>> import derive
    >>> net = derive.matrix_network(["n_0", "n_1", "n_2"], activation="sigmoid", loss="bce")
    >>> tex = render_latex(derive.backprop(net), "cs229")
    >>> print([line for line in tex.splitlines() if line.startswith(r"\delta^{[1]}")][0])
    \delta^{[1]} &= g'\left(z^{[1]}\right) \odot \left(W^{[2]T} \delta^{[2]}\right) \tag{14}\\
    """
    profile = _profile_of(derivation, notation)
    for kind, renderer_class in RENDERERS:
        if isinstance(derivation, kind):
            renderer = renderer_class(derivation, profile)
            break
    else:
        known = ", ".join(kind.__name__ for kind, _ in RENDERERS)
        raise BadInput(f"cannot render a {type(derivation).__name__} as LaTeX; known: {known}")
    parts = [renderer.header(), renderer.body(), renderer.gradients()]
    if isinstance(renderer, _NetworkRenderer):
        parts.append(renderer.simplification())
    parts.append(renderer.footer())
    return "\n\n".join(part for part in parts if part) + "\n"
