r"""The expression printer of derivations: matrix expressions in a course's notation.

:class:`NotationLatexPrinter` extends the calculus's :class:`MatrixLatexPrinter` with what a
derivation needs: every symbol printed through a table (the profile's symbol of its kind and
layer, or of an entry of one), the profile's transpose and Hadamard marks, explicit matrices as
``bmatrix``, the nodes layers introduce (``Augment``, ``DropBias``, ``DropFirstRow``: printed
by class name, as SymPy dispatches ``_print_<Class>``, so this module imports no layer), a
per-entry loss ℓ(A, Y) written out with its arguments, and the network's activation under the
profile's name.  The small functions below it compose LaTeX scripts safely (a subscript on a
base that has one, a prime on a superscripted name, the transpose of an indexed symbol), for the
document renderers too.

Conventions, chosen as a lecturer writes them:

- the transpose of a symbol whose layer index is bracketed joins its superscript (CS229
  ``W^{[2]T}``, Mines ``\tilde{W}^{(2)T}``); with a bare superscript it is bracketed as
  Ensimag writes it (``[\Omega^{2}]^{T}``); otherwise the profile's mark is appended (``x^{T}``);
- an identity activation prints as its argument; softmax as ``\operatorname{softmax}``; the
  network's elementwise activation as the profile's name when the renderer gives one, else its
  registry LaTeX name (σ, tanh), its derivative with a prime (``g'(z^{[1]})``);
- a per-entry loss: products of two matrix-valued factors with the profile's Hadamard mark,
  quotients as ``\frac``, powers as ``^{\odot 2}``, functions applied entry by entry.
"""

from __future__ import annotations

import re

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from ..activations import ActivationFunction, x as ACTIVATION_VARIABLE
from ..calculus.matrix_nodes import ActivationPrime, AsScalar, Softmax, lambda_head
from ..calculus.matrix_printing import (MatrixLatexPrinter, hadamard_order, join_terms,
                                         textbook_terms)
from ..notation import Profile

__all__ = ["NotationLatexPrinter", "decorate", "indices", "is_node", "paren", "prime",
           "repair_scripts", "subscript", "top_level", "transpose_symbol"]


def is_node(expr, *names: str) -> bool:
    """Whether ``expr`` is an instance of a class of one of these names (a layer's node such
    as ``Augment``, known here by name only, as SymPy's printers dispatch)."""
    return any(cls.__name__ in names for cls in type(expr).__mro__)


# --- scripts, transposes, parentheses -----------------------------------------------------------

def top_level(text: str, char: str) -> bool:
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


def subscript(base: str, index: str) -> str:
    """``base_{index}``; a base that already carries a subscript is braced first."""
    if top_level(base, "_"):
        base = f"{{{base}}}"
    return f"{base}_{{{index}}}"


def decorate(base: str, decoration: str) -> str:
    """``base`` followed by a script ``decoration`` (``^{[1]}``), braced when it already
    carries a script of that kind."""
    if decoration[:1] in "^_" and decoration and top_level(base, decoration[0]):
        base = f"{{{base}}}"
    return base + decoration


def indices(*numbers) -> str:
    """Entry indices: ``23`` when every index is one digit, else ``12,3``."""
    texts = [str(n) for n in numbers]
    return "".join(texts) if all(len(t) == 1 for t in texts) else ",".join(texts)


def prime(name: str) -> str:
    """``name'``; a name that carries a superscript is braced first (``{g^{[1]}}'``)."""
    return f"{{{name}}}'" if top_level(name, "^") else f"{name}'"


def paren(text: str) -> str:
    return rf"\left({text}\right)"


_BRACKETED_INDEX = re.compile(r"\^\{([\[(][^{}]*[\])])\}$")
_DOUBLE_SCRIPT = re.compile(r"([_^])\{([^{}]*)\}\1\{([^{}]*)\}")


def repair_scripts(text: str) -> str:
    """A template's ``X_{f}_{2}`` (a double subscript, a LaTeX error) as ``X_{f,2}``."""
    previous = None
    while previous != text:
        previous, text = text, _DOUBLE_SCRIPT.sub(r"\1{\2,\3}", text)
    return text


def transpose_symbol(text: str, mark: str) -> str:
    """The transpose of a symbol's LaTeX (see the module docstring)."""
    inner = mark[2:-1] if mark.startswith("^{") and mark.endswith("}") else None
    if r"\frac" in text:                               # cmu's ∂J/∂s_{2}
        return paren(text) + mark
    if inner is not None and _BRACKETED_INDEX.search(text):
        return text[:-1] + inner + "}"
    if top_level(text, "^"):
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
        return subscript(base, "(" + ",".join(self._print(i) for i in expr.indices) + ")")

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
            top = paren(top)
        if denom == 1:
            return top
        return rf"\frac{{{top}}}{{{self._print(denom)}}}"

    def _factor(self, expr) -> str:
        text = self._print(expr)
        return paren(text) if self._compound(expr) else text

    def _compound(self, expr) -> bool:
        """Whether a factor of a product needs parentheses."""
        if isinstance(expr, (sp.MatAdd, sp.HadamardProduct, sp.MatMul)):
            return True
        if is_node(expr, "Entrywise2"):
            body = expr.function.expr
            return isinstance(body, (sp.Add, sp.Mul)) or body.could_extract_minus_sign()
        return False

    def _print_DiagMatrix(self, expr):
        return rf"{self.profile.diag}\left({self._print(expr.args[0])}\right)"

    def _print_HadamardProduct(self, expr):
        return f" {self.profile.hadamard} ".join(self._factor(a)
                                                   for a in hadamard_order(expr.args))

    def _print_HadamardPower(self, expr):
        base = self._print(expr.base)
        if not isinstance(expr.base, sp.MatrixSymbol) or top_level(base, "^"):
            base = paren(base)
        return f"{base}^{{{self.profile.hadamard} {self._print(expr.exp)}}}"

    def _print_Transpose(self, expr):
        arg, mark = expr.arg, self.profile.transpose
        if self._identity_call(arg):
            return self._print_Transpose(sp.Transpose(arg.expr))
        text = self._print(arg)
        if isinstance(arg, sp.MatrixSymbol) or (is_node(arg, "DropBias")
                                                and arg.arg in self.bars):
            return transpose_symbol(text, mark)
        if isinstance(arg, sp.OneMatrix) and arg.shape[1] == 1:
            return r"\mathbf{1}" + mark
        if isinstance(arg, (ElementwiseApplyFunction, Softmax)) or is_node(arg, "Augment"):
            return text + mark                         # a call or a bracketed block: atomic
        return paren(text) + mark

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

        terms = sorted(textbook_terms(expr), key=lambda t: (t.could_extract_minus_sign(),
                                                            is_bias(t)))
        return join_terms([self._print(term) for term in terms])

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
        return inner if isinstance(expr.matrix, sp.MatrixSymbol) else paren(inner)

    # nodes of layers (derive.layers), known by class name
    def _print_Softmax(self, expr):
        return r"\operatorname{softmax}" + paren(self._print(expr.arg))

    def _print_Augment(self, expr):
        top = "1" if expr.arg.shape[1] == 1 else r"\mathbf{1}" + self.profile.transpose
        return rf"\begin{{bmatrix}} {top} \\ {self._print(expr.arg)} \end{{bmatrix}}"

    def _print_DropBias(self, expr):
        if expr.arg in self.bars:
            return self.bars[expr.arg]
        return subscript(paren(self._print(expr.arg)), r":,\,2:")     # columns 2 … of W̃

    def _print_DropFirstRow(self, expr):
        return subscript(paren(self._print(expr.arg)), r"2:,\,:")      # rows 2 … of G

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
        derivative = issubclass(head, ActivationPrime)
        function = head.base if derivative else head
        if not derivative and function.entry.expr == ACTIVATION_VARIABLE:
            return self._print(expr.expr)                  # the identity: Φ(z) = z
        name = self.activation_name(function, expr.expr) or function.entry.latex
        return (prime(name) if derivative else name) + paren(self._print(expr.expr))

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
                         else paren(self._print(scalar)))
        if matrices:
            texts = [paren(self._print(f)) if isinstance(f, sp.Add) else self._print(f)
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
        if base not in self._entrywise or top_level(text, "^"):
            text = paren(text)
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
            text = r"\operatorname{step}" + paren(self._print(argument))
        elif rest and rest[0] == 0:                     # H(0) = 0: relu's derivative
            text = rf"\mathbf{{1}}\left[{self._print(argument)} > 0\right]"
        elif not rest or rest[0] == sp.S.Half:
            text = r"\theta" + paren(self._print(argument))
        else:
            return super()._print_Heaviside(expr, exp)
        return f"{text}^{{{exp}}}" if exp is not None else text
