r"""The LaTeX front end: a hand-derived claim, as people type it, read into SymPy (SPEC §5a, §7).

:func:`parse_latex` reads ``\nabla_{W} L = x\delta^T,\ \delta = (a - y) \odot \sigma'(z),\
z = Wx + b`` in a course's notation (``profile``, a key of :data:`derive.notation.PROFILES`)
into a :class:`ParsedLatex`: the claimed value as a SymPy matrix expression (MatrixSymbols
with shapes), its left side (a :class:`~derive.calculus.claim_nodes.Gradient` or
:class:`~derive.calculus.claim_nodes.Partial` for the checker to resolve), the auxiliary
definitions, the names taken as scalars, and where each part is in the text.

Two readers, and which one decides
-----------------------------------
Everything is read by our reader (:mod:`derive.calculus.latex_input`, over
:mod:`derive.calculus.latex_claim`), which knows transposes, primes, ⊙, layer indices and
shapes.  A **scalar expression** — no declared matrix, no undeclared capital letter, nothing
only a matrix has (a transpose, ⊙, a layer index, a norm, diag, ∂, ∇, Σ) — is read as one: its
undeclared names are scalars.  Such an expression is also given to ``latex2sympy2_extended``,
and where both read it they must agree (equal structurally, after simplification, or at random
rational points with 50 digits) or it is an error naming both readings.  When only
``latex2sympy2_extended`` reads a one-part scalar claim (``\max(0, x)``, ``\log_2 x``), its
reading is used if it contains nothing we cannot vouch for.

What latex2sympy2_extended 1.11.0 does, measured (and what we do about it)
--------------------------------------------------------------------------
- ``\log x`` is log base 10 (``log(x, 10)``); ``\ln x`` natural.  → ``\log`` is rewritten
  ``\ln`` before it reads (``\log_b`` kept).
- ``2\frac{1}{2}`` is 5/2 — a mixed number — even with ``interpret_as_mixed_fractions=False``
  (the flag is not honoured; only ``2 \cdot \frac{1}{2}`` is 1).  → a digit before ``\frac``
  gets an explicit ``\cdot``: ``2\frac{1}{2}`` is 2 · ½, as juxtaposition is everywhere else.
- ``A^T`` is ``A`` and ``A^T + A`` is ``2A`` (the T dropped); ``A^{\top}`` and ``x \odot y``
  do not parse; ``a^{[3]}`` is a³ and ``W^{(2)}`` W².  → never given anything with a
  transpose, ⊙, a layer index or a matrix name.
- ``\sigma'(z)`` is σ(z) and ``x'`` is x: its normalisation deletes quotes.  → never given a
  prime.
- Upper-case names are lower-cased by default (``X`` is ``x``).  → ``lowercase_symbols=False``.
- ``I`` is the imaginary unit, ``\infty`` ∞, ``0.5`` a binary float (``0.1234567890123456789``
  rounded), ``{x}`` and ``3,5`` sets, ``1,000`` a thousand, ``(n)_{k}`` the falling factorial
  n!/(n−k)! (normalisation), ``x!`` a factorial.  → our names are replaced by placeholders
  before it reads (so ``I``, ``\hat{y}``, ``\mathcal{L}`` — which it mangles to
  ``math{L}`` — never reach it), decimals are rewritten as fractions, and a reading with a
  float, I, ∞, a set, a relation, a factorial or a derivative is not used.
- ``\coth x`` is cot(h·x); ``\operatorname{…}``, ``\mathrm{e}`` (a symbol e) and other commands
  vary.  → only a short list of commands is given to it (fractions, roots, the trigonometric,
  hyperbolic, exponential and logarithmic functions, ``\cdot``, ``\times``, ``\max``,
  ``\min``, ``\pi``).
- ``f(x)``, ``g(x)``, ``h(x)`` (any single letter before a bracket) are function calls, while
  our reader reads them as products unless the profile names the function;
  ``1/2x`` is 1/(2x) and ``a/bc`` a/(bc), where our reader reads ½·x and (a/b)·c.  → these
  disagree, and a disagreement is an error asking for brackets.
- ``\|x\|`` raises ``AttributeError`` and other inputs other exceptions.  → any exception is
  "it cannot read this".

Glossary: a *piece* is the claim's value, its left side or one definition's value.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

import sympy as sp
from latex2sympy2_extended import NormalizationConfig, latex2sympy
from latex2sympy2_extended.latex2sympy2 import ConversionConfig
from sympy.core.function import AppliedUndef

from derive.calculus.claim_nodes import LAYOUTS, Gradient, Partial
from derive.calculus.function_names import scalar_function
from derive.calculus.latex_function_reading import spellings_of
from derive.calculus.latex_claim import ReadClaim, Span, read_claim_inferring, split_claim
from derive.calculus.latex_input import MATRIX_FEATURES, LatexReader
from derive.calculus.latex_names import Dialect, GREEK, base_letter
from derive.calculus.latex_tokens import marked
from derive.calculus.matrix_nodes import is_matrix
from derive.calculus.namespace import Namespace
from derive.errors import BadInput
from derive.jacobians import activation_functions
from derive.notation import INDEXED, PROFILES, get_profile

_NORMALIZATION = NormalizationConfig(basic_latex=True, units=False, malformed_operators=False,
                                     nits=False, boxed="none", equations=False)
_CONVERSION = ConversionConfig(interpret_as_mixed_fractions=False, lowercase_symbols=False,
                               interpret_contains_as_eq=False,
                               interpret_simple_eq_as_assignment=False)
#: Commands latex2sympy2_extended is given (others are read by our reader only).
_L2S_COMMANDS = frozenset({
    r"\frac", r"\dfrac", r"\tfrac", r"\sqrt", r"\sin", r"\cos", r"\tan", r"\cot", r"\sec",
    r"\csc", r"\arcsin", r"\arccos", r"\arctan", r"\sinh", r"\cosh", r"\tanh", r"\exp", r"\ln",
    r"\log", r"\cdot", r"\times", r"\left", r"\right", r"\pi", r"\max", r"\min", r"\quad",
    r"\qquad"})
#: SymPy heads a latex2sympy2_extended reading may contain.
_L2S_HEADS = (sp.exp, sp.log, sp.sin, sp.cos, sp.tan, sp.cot, sp.sec, sp.csc, sp.asin,
              sp.acos, sp.atan, sp.sinh, sp.cosh, sp.tanh, sp.Abs, sp.Max, sp.Min)
#: What in a text, read by neither reader, says it is not a scalar expression.
_MATRIX_MARKS = re.compile(r"\^\s*\{?\s*(T\b|\\top|\\intercal)|'|\\odot|\\circ|\\\||\\[lr]?Vert"
                           r"|\^\s*\{\s*[\[(]|\\nabla|\\partial|\\sum|\\mathbf\s*\{?\s*1")
#: Powers it would compute for ever: a number's power in an exponent, an exponent of four
#: digits (10^{10^{10}}).
_HUGE = re.compile(r"\^\s*\{\s*-?\d+\s*\^|\^\s*\{?\s*-?\d{4,}")
#: The formal letters Ensimag's notes index by a plain superscript, besides the profile's own.
_FORMAL = ("a", "W", "b", "B", "P")
_DIGITS = 50


@dataclass(frozen=True)
class ParsedLatex:
    r"""A claim read from LaTeX.

    Attributes
    ----------
    text : str
        The input as given.
    expr : sympy.Expr or sympy.MatrixExpr
        The claimed value, r×c (a scalar for a scalar claim); auxiliary names (δ) are kept as
        symbols — :meth:`expanded` substitutes them.
    left : sympy.Expr or sympy.MatrixExpr or None
        The left side: ``Gradient(L, W)`` for ``\nabla_{W} L`` (the shape of W), ``Partial(L,
        W, layout)`` for ``\frac{\partial L}{\partial W}``, any other expression as read, or
        ``None`` when the claim has no ``=``.
    definitions : dict
        name → expression of each auxiliary definition, in the order written.
    scalars : tuple of str
        Names not declared that were taken as scalars, in the order first read.
    symbols : dict
        name → Symbol or MatrixSymbol of every name read.
    notes : tuple of str
        Defaults taken (a shape given to an undeclared name).
    route : str
        ``"matrix"`` (our reader only) or ``"scalar"`` (a scalar expression: both readers
        consulted).
    readers : tuple of str
        The readers whose reading was used and checked: ``("symbackprop",)``,
        ``("symbackprop", "latex2sympy2_extended")`` (both read it and agree) or
        ``("latex2sympy2_extended",)``.
    agreement : str or None
        How the two readers were found to agree (``"identical"``, ``"simplification"``,
        ``"random rational points"``), or why latex2sympy2_extended was not used.
    claim_span, left_span : Span
        Where the claimed value and the left side (``None`` if absent) are in ``text``.
    definition_spans : dict
        name → (span of the name, span of its value).
    profile : str or None
    layout : str
        The layout of the derivatives (∂…/∂…) the text names.
    """

    text: str
    expr: object
    left: object = None
    definitions: dict = field(default_factory=dict)
    scalars: tuple = ()
    symbols: dict = field(default_factory=dict)
    notes: tuple = ()
    route: str = "matrix"
    readers: tuple = ("symbackprop",)
    agreement: str | None = None
    claim_span: Span | None = None
    left_span: Span | None = None
    definition_spans: dict = field(default_factory=dict)
    profile: str | None = None
    layout: str = "numerator"

    @property
    def left_kind(self) -> str | None:
        """``"gradient"``, ``"derivative"``, ``"expression"`` or ``None`` (no left side)."""
        if self.left is None:
            return None
        return {Gradient: "gradient", Partial: "derivative"}.get(type(self.left), "expression")

    @property
    def shape(self) -> tuple:
        """(rows, cols) of the claimed value; (1, 1) for a scalar."""
        return tuple(self.expr.shape) if is_matrix(self.expr) else (1, 1)

    def expanded(self):
        """The claimed value with every auxiliary definition substituted (recursively)."""
        replacements = {self.symbols[name]: value for name, value in self.definitions.items()
                        if name in self.symbols}
        value = self.expr
        for _ in range(len(replacements) + 1):
            substituted = value.xreplace(replacements)
            if substituted == value:
                break
            value = substituted
        return value

    def derivatives(self) -> list:
        """The derivatives the claim names (Partial, Gradient nodes), left side first."""
        found = []
        for expr in [self.left, self.expr, *self.definitions.values()]:
            if expr is None:
                continue
            for node in sp.preorder_traversal(expr):
                if isinstance(node, (Partial, Gradient)) and node not in found:
                    found.append(node)
        return found

    def mark(self, span: Span, message: str) -> str:
        """``message`` with the input and a caret under ``span`` (for the checker's
        messages)."""
        return marked(self.text, span.start, message)


def dialect_of(profile: str | None) -> Dialect:
    """The reading rules of a notation profile (``None``: what every course shares, and the
    unnamed functions of every profile)."""
    if profile is None:
        names = {_name_of(p.symbol("phi")) for p in PROFILES.values()} | {"phi", "varphi"}
        return Dialect(function_names=frozenset(n for n in names if n))
    chosen = get_profile(profile, where="profile")
    superscript = frozenset()
    suffix = chosen.layer_index("l")
    if suffix == "^{l}":                     # a plain superscript: Ensimag's \alpha^{j}
        spelled = set(_FORMAL)
        for kind in sorted(INDEXED):
            symbol = chosen.symbol(kind, "l")
            if symbol.endswith(suffix):
                spelled.add(_name_of(symbol[:-len(suffix)]))
        superscript = frozenset(n for n in spelled if n)
    return Dialect(superscript_names=superscript,
                   small_t_transpose=chosen.name.startswith("mines"),
                   function_names=frozenset({_name_of(chosen.symbol("phi"))} - {None}))


def _name_of(latex: str) -> str | None:
    """The name a lone LaTeX name is read as (``\\boldsymbol{\\alpha}`` → ``alpha``)."""
    try:
        name, end = LatexReader(latex, Namespace()).spelled_name()
    except BadInput:
        return None
    return name


def _declarations(shapes, scalars) -> tuple[dict, tuple]:
    """``shapes`` and ``scalars`` with a name declared both a scalar and 1×1 kept a scalar."""
    shapes, scalars = dict(shapes or {}), tuple(scalars or ())
    for name in scalars:
        if name in shapes:
            shape = Namespace(shapes={name: shapes[name]}).shapes[name]
            if tuple(shape) != (1, 1):
                raise BadInput(f"{name} is declared a scalar and with the shape "
                               f"{shape[0]}×{shape[1]}", "shapes")
            del shapes[name]
    return shapes, scalars


def parse_latex(text: str, shapes=None, scalars=(), profile: str | None = None,
                layout: str = "numerator", functions=None,
                where: str | None = "claim") -> ParsedLatex:
    r"""Read a claim written in LaTeX.

    Parameters
    ----------
    text : str
        The claim: ``[LEFT =] VALUE [, NAME = DEFINITION]…`` (definitions after commas,
        ``\quad`` or "where").
    shapes : dict, optional
        name → (rows, cols) (ints or size names); undeclared names get a default (a lowercase
        name a column n×1, another an n×n matrix) or are taken as scalars where the reading
        requires it (``\frac{1}{2N}``, ``\lambda W``).
    scalars : sequence of str, optional
        Names that are scalars (may also be declared 1×1 in ``shapes``).
    profile : str, optional
        A notation profile (``"cs229"``, ``"ensimag"``, ``"mines"``, ``"cmu"``, ``"durham"``):
        which superscripts are layer indices, whether ``^t`` is a transpose, which letter is
        the unnamed activation.
    layout : str
        ``"numerator"`` or ``"denominator"``: the layout of the ∂…/∂… the claim names.
    functions : dict, optional
        name → named function class the claim may call; the activations by default.

    Returns
    -------
    ParsedLatex

    Raises
    ------
    BadInput
        Unreadable input, with a caret under the offending column and what was expected; or
        the two readers reading a scalar expression differently.

    >>> parsed = parse_latex(r"\nabla_{W} L = x\delta^T,\ \delta = a - y",
    ...                      shapes={"W": (3, 2), "x": (3, 1), "a": (2, 1), "y": (2, 1)})
    >>> parsed.left_kind, parsed.expr, parsed.expanded(), parsed.scalars
    ('gradient', x*delta.T, x*(a - y).T, ('L',))
    >>> parse_latex(r"4\sin^3(x)\cos(x)e^{x^3}").readers
    ('symbackprop', 'latex2sympy2_extended')
    """
    if not isinstance(text, str) or not text.strip():
        raise BadInput("the claim is empty", where)
    if layout not in LAYOUTS:
        raise BadInput(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}", where)
    shapes, scalars = _declarations(shapes, scalars)
    functions = activation_functions() if functions is None else dict(functions)
    dialect = dialect_of(profile)

    def read(scalar_default: bool) -> ReadClaim:
        return read_claim_inferring(text, shapes, scalars, functions, where, dialect, layout,
                                    scalar_default)

    try:
        claim, failure = read(False), None
    except BadInput as exc:
        claim, failure = None, exc
    if claim is None:
        if getattr(failure, "kind", None) == "shape" or _MATRIX_MARKS.search(text) or \
                _names_declared_matrices(text, shapes) or \
                (dialect.superscript_names and "^" in text):
            raise failure
        return _scalar_by_latex2sympy(text, failure, shapes, functions, dialect, profile,
                                      layout, where)
    if not _is_scalar(claim, shapes):
        return _parsed(text, claim, profile, layout)
    try:
        scalar = read(True)
    except BadInput:
        return _parsed(text, claim, profile, layout)     # read as a matrix expression only
    agreement = _cross_check(text, scalar, functions, dialect, where)
    readers = ("symbackprop",) if agreement.startswith("not ") else \
        ("symbackprop", "latex2sympy2_extended")
    return _parsed(text, scalar, profile, layout, route="scalar", readers=readers,
                   agreement=agreement)


def _is_scalar(claim: ReadClaim, shapes: dict) -> bool:
    """A claim read as a matrix expression that is a scalar one: nothing only a matrix has,
    no declared matrix, no undeclared capital letter."""
    if claim.features & MATRIX_FEATURES:
        return False
    for name in dict.fromkeys(name for _, _, name in claim.names_read):
        symbol = claim.namespace.symbols.get(name)
        if is_matrix(symbol) and (name in shapes or not base_letter(name)[:1].islower()):
            return False
    return True


def _names_declared_matrices(text: str, shapes: dict) -> bool:
    return any(re.search(rf"(?<![A-Za-z\\]){re.escape(name)}(?![A-Za-z])", text)
               for name, shape in shapes.items()
               if tuple(Namespace(shapes={name: shape}).shapes[name]) != (1, 1))


def _parsed(text: str, claim: ReadClaim, profile, layout, route="matrix",
            readers=("symbackprop",), agreement=None) -> ParsedLatex:
    parts = claim.parts
    spans = {name: (name_span, value_span)
             for name, (name_span, value_span) in zip(claim.names, parts.definitions)}
    namespace = claim.namespace
    return ParsedLatex(text=text, expr=claim.value, left=claim.left,
                       definitions=dict(claim.definitions), scalars=tuple(namespace.inferred),
                       symbols=dict(namespace.symbols), notes=tuple(namespace.notes),
                       route=route, readers=readers, agreement=agreement,
                       claim_span=parts.right, left_span=parts.left, definition_spans=spans,
                       profile=profile, layout=layout)


# --- the second reader --------------------------------------------------------------------------

def _for_latex2sympy(text: str, span: Span, names: dict, functions=frozenset()) -> str | None:
    """The piece at ``span`` as latex2sympy2_extended is given it: our names replaced by
    placeholders ``v_{k}`` (``names``: (start, end) → k), its hazards rewritten; ``None`` when
    it holds a command it is not given (``functions``: the names of functions it may also be
    given, ``sigma``)."""
    pieces, at = [], span.start
    for (start, end), k in sorted(names.items()):
        if span.start <= start and end <= span.end:
            pieces.append(text[at:start])
            pieces.append(f" v_{{{k}}}")
            at = end
    pieces.append(text[at:span.end])
    rewritten = "".join(pieces)
    if "'" in rewritten or "!" in rewritten or _HUGE.search(rewritten):
        return None
    for command in re.findall(r"\\[A-Za-z]+", rewritten):
        if command not in _L2S_COMMANDS and command[1:] not in functions:
            return None
    rewritten = re.sub(r"\\log(?![A-Za-z])(?!\s*_)", r"\\ln", rewritten)
    rewritten = re.sub(r"(\d)\s*(?=\\[dt]?frac)", r"\1 \\cdot ", rewritten)
    return re.sub(r"(\d+)\.(\d+)",
                  lambda m: rf"\frac{{{m.group(1)}{m.group(2)}}}{{1{'0' * len(m.group(2))}}}",
                  rewritten)


def _from_latex2sympy(expr, placeholders: dict, functions: dict, dialect: Dialect):
    """latex2sympy2_extended's reading in our terms (placeholder → our symbol, its undefined
    functions → ours), or ``None`` when it holds something we cannot vouch for."""
    spellings = spellings_of(functions)

    def convert(node):
        if isinstance(node, sp.Symbol):
            match = re.fullmatch(r"v_\{?(\d+)\}?", node.name)
            if match and int(match.group(1)) in placeholders:
                return placeholders[int(match.group(1))]
            if placeholders:
                return None
            return _plain_symbol(node.name)
        if isinstance(node, (sp.Integer, sp.Rational)) or node in (sp.E, sp.pi):
            return node
        if isinstance(node, (sp.Float, sp.Number)) or node.has(sp.I, sp.oo, sp.zoo, sp.nan):
            return None
        args = [convert(arg) for arg in node.args]
        if any(arg is None for arg in args):
            return None
        if isinstance(node, sp.log) and len(args) == 2:
            return sp.log(args[0]) / sp.log(args[1])
        if isinstance(node, (sp.Add, sp.Mul, sp.Pow)) or isinstance(node, _L2S_HEADS):
            return node.func(*args)
        if isinstance(node, AppliedUndef) and len(args) == 1:
            name = re.sub(r"^\\text\{(.*)\}$", r"\1", node.func.__name__.strip()).lstrip("\\")
            known = spellings.get(name) or spellings.get(name.lower())
            if known is not None:
                return functions[known](args[0])
            if name in dialect.function_names:
                return sp.Function(name, real=True)(args[0])
            function = scalar_function(name, functions)
            return function(args[0]) if function is not None else None
        return None

    return convert(expr)


def _plain_symbol(name: str):
    """Our scalar symbol for a name latex2sympy2_extended made from raw text (``x``, ``x_1``,
    ``alpha``); ``None`` for one it spelled its own way (``hat{y}``, ``math{L}``)."""
    if re.fullmatch(r"[A-Za-z](_\{?[A-Za-z0-9]+\}?)?", name) or name in GREEK:
        return sp.Symbol(re.sub(r"_\{([A-Za-z0-9])\}$", r"_\1", name), real=True)
    return None


def _read_by_latex2sympy(rewritten: str):
    try:
        return latex2sympy(rewritten, normalization_config=_NORMALIZATION,
                           conversion_config=_CONVERSION)
    except Exception:        # it raises many kinds (its own, AttributeError, ...): unread
        return None


def _cross_check(text: str, claim: ReadClaim, functions, dialect, where) -> str:
    """How latex2sympy2_extended's reading of each piece agrees with ours; a disagreement is
    an error at the piece.  A reason starting "not " when it read none of them."""
    numbers, placeholders = {}, {}
    for start, end, name in claim.names_read:
        symbol = claim.namespace.symbols.get(name)
        if symbol is None or is_matrix(symbol):
            continue
        k = next((k for k, s in placeholders.items() if s == symbol), len(placeholders) + 1)
        placeholders[k] = symbol
        numbers[(start, end)] = k
    pieces = [(claim.parts.right, claim.value)]
    if claim.parts.left is not None:
        pieces.append((claim.parts.left, claim.left))
    pieces += [(value_span, claim.definitions[name])
               for name, (_, value_span) in zip(claim.names, claim.parts.definitions)]
    methods = []
    called = _callable_names(functions, dialect)
    for span, ours in pieces:
        rewritten = _for_latex2sympy(text, span, numbers, called)
        theirs = _read_by_latex2sympy(rewritten) if rewritten is not None else None
        theirs = _from_latex2sympy(theirs, placeholders, functions, dialect) \
            if theirs is not None else None
        if theirs is None:
            continue
        method = agreement(ours, theirs)
        if method is None:
            raise BadInput(marked(text, span.start, f"this reads as {sp.sstr(ours)} but also "
                                  f"as {sp.sstr(theirs)} (latex2sympy2_extended); add brackets "
                                  "or \\cdot to say which"), where)
        methods.append(method)
    if not methods:
        return "not read by latex2sympy2_extended"
    order = ("identical", "simplification", "random rational points")
    return max(methods, key=order.index)


def _callable_names(functions, dialect) -> frozenset:
    """The function names (``sigma``, ``Phi``) whose commands latex2sympy2_extended may be
    given: it reads ``\\sigma(x)`` as an undefined function σ, mapped back to ours."""
    return frozenset(spellings_of(functions)) | dialect.function_names


def _scalar_by_latex2sympy(text, failure, shapes, functions, dialect, profile, layout,
                           where) -> ParsedLatex:
    """A one-piece scalar claim only latex2sympy2_extended reads, else our reader's error."""
    try:
        parts = split_claim(text, where)
    except BadInput:
        raise failure from None
    if parts.left is not None or parts.definitions:
        raise failure
    rewritten = _for_latex2sympy(text, Span(0, len(text)), {},
                                 _callable_names(functions, dialect) | GREEK)
    theirs = _read_by_latex2sympy(rewritten) if rewritten is not None else None
    value = _from_latex2sympy(theirs, {}, functions, dialect) if theirs is not None else None
    if value is None or any(s.name in shapes for s in value.free_symbols):
        raise failure
    names = tuple(sorted(s.name for s in value.free_symbols))
    return ParsedLatex(text=text, expr=value, scalars=names,
                       symbols={s.name: s for s in value.free_symbols}, route="scalar",
                       readers=("latex2sympy2_extended",),
                       agreement="not read by symbackprop", claim_span=Span(0, len(text)),
                       profile=profile, layout=layout)


def _concrete_functions(expr):
    """``expr`` with each undefined function (g, Φ) made a fixed concrete one, to evaluate."""
    undefined = sorted({node.func for node in expr.atoms(AppliedUndef)}, key=str)
    for k, function in enumerate(undefined, start=2):
        t = sp.Dummy("t")
        expr = expr.replace(function, sp.Lambda(t, sp.sin(k * t) + t ** 2 / k))
    return expr.doit() if undefined else expr


def agreement(first, second) -> str | None:
    """How two scalar readings are equal — ``"identical"``, ``"simplification"`` or ``"random
    rational points"`` (five points, 50 digits) — or ``None`` when they differ.

    >>> x = sp.Symbol("x", real=True)
    >>> agreement(sp.sin(x)**2 + sp.cos(x)**2, sp.Integer(1)), agreement(x, 2 * x)
    ('simplification', None)
    """
    if first == second:
        return "identical"
    difference = sp.sympify(first) - sp.sympify(second)
    if sp.count_ops(difference) < 60:
        try:
            if sp.simplify(difference) == 0:
                return "simplification"
        except (TypeError, ValueError, NotImplementedError, RecursionError):
            pass            # simplify gives up on some expressions: decide at points
    first, second = _concrete_functions(sp.sympify(first)), _concrete_functions(sp.sympify(second))
    symbols = sorted(first.free_symbols | second.free_symbols, key=lambda s: s.name)
    rng = random.Random(0)
    agreed = 0
    for _ in range(20):
        point = {s: sp.Rational(rng.randint(1, 29), rng.randint(7, 31)) for s in symbols}
        a = sp.N(first.xreplace(point), _DIGITS)
        b = sp.N(second.xreplace(point), _DIGITS)
        if not (a.is_number and b.is_number) or a.has(sp.zoo, sp.nan, sp.oo) or \
                b.has(sp.zoo, sp.nan, sp.oo):
            continue
        if abs(a - b) > sp.Float(10) ** (10 - _DIGITS) * max(1, abs(a), abs(b)):
            return None
        agreed += 1
        if agreed == 5:
            return "random rational points"
    return None


__all__ = ["parse_latex", "ParsedLatex", "dialect_of", "agreement"]
