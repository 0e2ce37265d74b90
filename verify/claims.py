r"""Verdicts on claimed gradients and identities (SPEC §5a, §7): :func:`check_claim`.

A claim is LaTeX as a student writes it (``\nabla_{W^{[2]}} \mathcal{L} = \delta^{[2]}
a^{[1]T},\ \delta^{[2]} = a^{[2]} - y``), read by :func:`verify.parse_latex`.  Its truth comes
from the engine — for a network, :func:`derive.backprop` in matrix form, whose symbols the
profile's names denote (cs229 ``a^{[l]}``, ``z^{[l]}``, ``W^{[l]}``, ``\delta^{[l]}`` =
∂L/∂z^{[l]}, ``\hat{y}``; ensimag ``\alpha^j``, ``\zeta^j``, ``\Omega^j``, ``\beta^j``,
``\mathcal{B}^j`` and ``B^j``, ``\Phi``) — or, for an identity, :func:`derive.jacobian`.

What is compared with what
--------------------------
- ``\nabla_{W} L = …`` is the gradient: W's shape whatever the layout;
- ``\frac{\partial L}{\partial W} = …`` and a claim without a left side are the derivative
  in the layout asked for (numerator: the shape of Wᵀ).

A claim of the other layout's shape is compared with the transpose (and is incorrect: a layout
swap or a missing transpose); one of a shape in no layout is ``invalid`` (``shape_mismatch``
with both shapes), as is one that cannot be read (the reader's message).

Decision: exact first — the difference of the two, tidied, is zero, or both tidy to the same
form — otherwise evaluation at three random rational points (ten for a piecewise activation
or loss such as relu) with 50-digit arithmetic
(:mod:`verify.claim_points`), the matrices never commuted and targets drawn from the loss's
target domain, so a fused a − y is exactly right.  The verdict names the method.  A wrong
claim is named by the near relatives of the truth it equals (:mod:`verify.claim_diagnosis`)
and always carries a counterexample: the point and both values.

>>> import derive
>>> net = derive.mlp([2, 3, 1], activation="sigmoid", loss="bce")
>>> check_claim(r"\nabla_{W^{[2]}} \mathcal{L} = (a^{[2]} - y) a^{[1]T}", net, wrt="W2",
...             notation="cs229").verdict
'correct'
>>> check_claim(r"\nabla_{W^{[2]}} \mathcal{L} = (y - a^{[2]}) a^{[1]T}", net, wrt="W2",
...             notation="cs229").headline
'incorrect: wrong sign'
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

import sympy as sp

from derive.api import backprop
from derive.calculus.claim_nodes import LAYOUTS, Gradient, Partial, SampleSum
from derive.calculus.matrix_nodes import is_matrix
from derive.calculus.tidy import tidy
from derive.errors import BadInput
from derive.jacobians import jacobian
from derive.layers.dense import DropBias
from derive.naming import N
from derive.notation import get_profile

from .claim_diagnosis import diagnose, order_diagnosis
from .claim_points import draw_point, evaluate, printed, same
from .derivation_truth import NetworkCalculus
from .latex import parse_latex
from .network_binding import bind_functions, resolve_derivatives
from .network_names import ALIASES, AUGMENTED, claim_names, name_of, network_names
from .verdict import Diagnosis, Verdict

#: Random rational points a rational-points verdict agrees at; more for a piecewise
#: activation or loss (relu, hinge), where one region (all z > 0) can hide a dropped factor.
POINTS = 3
PIECEWISE_POINTS = 10
#: The batch size N of a batch claim at the points: not 2 or 3, so that a missing 1/N is not
#: mistaken for a missing ½.
BATCH_SIZE = 5

@dataclass
class Problem:
    """A claim and its truth over the same inputs, ready to decide.

    Attributes
    ----------
    claim, truth : sympy matrix expressions
        Both in the expected form (layout or gradient), over named intermediates.
    expand : callable
        Substitutes every intermediate's definition down to the inputs (for the exact check).
    signals : callable
        Substitutes the signals' definitions (δ^{[l]}) only: what is evaluated at points, the
        forward values being computed first, as numbers.
    forward : list of (symbol, value)
        The forward pass (z^{[l]}, a^{[l]}) in order, evaluated at each point.
    targets : dict
        input symbol → target domain.
    symmetric : frozenset of str
    transposed : bool
        The claim had the other layout's shape and is compared with the truth's transpose.
    gradient : bool
        The claim's left side is ∇ (layout-independent).
    notes : list of str
    batch_size : int or None
        N at the points, for a batch claim.
    neighbours : dict
        symbol → the same quantity of the layers next to it (same shape), for the diagnosis
        ``wrong_layer``.
    shapes : tuple
        (claim's shape, truth's shape) before sizes were instantiated, for messages.
    points : int
        How many random points must agree.
    display : dict
        symbol → the same symbol named by the profile's LaTeX, for the diagnosis' details.
    """

    claim: object
    truth: object
    expand: object = staticmethod(lambda expr: expr)
    signals: object = staticmethod(lambda expr: expr)
    forward: list = field(default_factory=list)
    targets: dict = field(default_factory=dict)
    symmetric: frozenset = frozenset()
    transposed: bool = False
    gradient: bool = False
    notes: list = field(default_factory=list)
    batch_size: int | None = None
    neighbours: dict = field(default_factory=dict)
    shapes: tuple = ()
    points: int = POINTS
    display: dict = field(default_factory=dict)

    def inputs(self, *exprs) -> list:
        """The inputs the expressions and the forward pass depend on, in sort order."""
        defined = {symbol for symbol, _ in self.forward}
        found = set(_inputs(*exprs, *[value for _, value in self.forward]))
        return sorted(found - defined, key=sp.default_sort_key)

    def sample(self, inputs, rng: random.Random):
        """(point, environment) at a random rational point: the inputs' values, and those
        with the forward values added (50-digit numbers)."""
        point = draw_point(inputs, rng, self.targets, self.symmetric)
        environment = dict(point)
        for symbol, value in self.forward:
            environment[symbol] = evaluate(value, environment)
        return point, environment


def _shape(expr) -> tuple:
    return tuple(expr.shape) if is_matrix(expr) else (1, 1)


def _invalid(cls: str, detail: str, notes=()) -> Verdict:
    return Verdict("invalid", "unread" if cls != "shape_mismatch" else "shape",
                   [Diagnosis(cls, detail)], None, tuple(notes))


def _size_text(shape) -> str:
    return f"{shape[0]}×{shape[1]}"


# --- a network's quantities -----------------------------------------------------------------

def _expander(definitions: dict):
    order = list(definitions.items())

    def expand(expr):
        for symbol, value in reversed(order):
            if expr.has(symbol):
                expr = expr.xreplace({symbol: value})
        return expr

    return expand


def _expand_sample_sums(claim, one, batch):
    """``claim`` with each Σ_{i=1}^{N} over the samples written out at the N of the points:
    the body's per-sample quantities (bound to ``one``, the per-sample derivation: x, y, a^{[l]},
    z^{[l]}, δ^{[l]}) made the i-th columns of the batch's (X, Y, A, Z, Δ)."""
    sums = [node for node in sp.postorder_traversal(claim) if isinstance(node, SampleSum)]
    if not sums:
        return claim
    table, sym = one.symbols.table, batch.symbols
    columns = {}
    for symbol, (kind, layer) in table.items():
        if kind in ("a", "z", "B") and layer is not None:
            columns[symbol] = sym.value(kind, layer)
        elif kind == "x":
            columns[symbol] = sym.a(0)
        elif kind == "y":
            columns[symbol] = sym.y()
    for node in sums:
        used = [s for s in node.body.atoms(sp.MatrixSymbol) if s in columns]
        terms = [node.body.xreplace({s: columns[s][:, i] for s in used})
                 for i in range(BATCH_SIZE)]
        claim = claim.xreplace({node: sp.MatAdd(*terms) if is_matrix(node.body)
                                else sp.Add(*terms)})
    return claim


def bind_network(parsed, d, profile: str, one=None) -> tuple:
    """(value, binding): a parsed claim's value (definitions substituted) over the network's
    own symbols — the profile's names bound, the derivatives it names resolved, the unnamed
    activation (g, Φ) made each layer's — and the binding name symbol → network symbol (for
    its left side).

    Raises
    ------
    BadInput
        A name that is no quantity of the network, or of another shape in it.
    """
    names = network_names(d, profile)
    if one is not None:                          # a batch claim with sums over the samples
        names = {**network_names(one, profile), **names}
    binding = {}
    unknown = []
    for name, symbol in parsed.symbols.items():
        if d.batch and name == "N" and not is_matrix(symbol):
            binding[symbol] = N
        elif name in names:
            if _shape(symbol) != _shape(names[name]) and is_matrix(symbol):
                raise BadInput(f"{name} is {_size_text(_shape(names[name]))} in this network",
                               "claim")
            binding[symbol] = names[name]
        elif is_matrix(symbol):
            unknown.append(name)
    value = parsed.expanded()
    used = {s.name for s in value.free_symbols if isinstance(s, sp.MatrixSymbol)}
    unknown = [name for name in unknown if name in used]
    if unknown:
        known = ", ".join(sorted(names))
        raise BadInput(f"{', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not a "
                       f"quantity of this network in the {profile} notation (known: {known})",
                       "claim")
    claim = value.xreplace(binding)
    if one is not None:
        claim = _expand_sample_sums(claim, one, d)
    claim = resolve_derivatives(claim, d)
    chosen = get_profile(profile, where="notation")
    phi_names = {name_of(chosen.symbol("phi"), profile)} - {None}
    return bind_functions(claim, d, phi_names), binding


def _network_problem(parsed, d, wrt: str, layout: str, profile: str, one=None) -> Problem:
    parameter = next((s for s in d.symbols.table if s.name == wrt), None)
    if parameter is None or wrt not in d.gradients and wrt not in _quantities(d):
        raise BadInput(f"no parameter named {wrt!r}; known: {', '.join(d.gradients)}", "wrt")
    claim, binding = bind_network(parsed, d, profile, one)
    calculus = NetworkCalculus(d)
    left = parsed.left.xreplace(binding) if parsed.left is not None else None
    if isinstance(left, Partial) and not calculus.is_loss(left.of) and left.by == parameter:
        # a Jacobian of the network's quantities: ∂a^{[l]}/∂z^{[l]} = diag(g'(z^{[l]}))
        return _displayed(network_problem(d, claim, calculus.jacobian(left.of, left.by,
                                                                     layout)), d, profile)
    gradient = d.gradient(wrt) if wrt in d.gradients else calculus.loss_gradient(parameter)
    is_gradient = isinstance(left, Gradient)
    if isinstance(left, (Gradient, Partial)):
        if left.by != parameter:
            raise BadInput(f"the left side is a derivative by {left.by}, but the claim is "
                           f"checked for {wrt}", "claim")
        if _shape(left.of) != (1, 1):
            raise BadInput("the left side must be a derivative of the loss", "claim")
    elif left is not None:
        raise BadInput("the left side must be \\nabla_{W} L or \\frac{\\partial L}{\\partial W}",
                       "claim")
    truth = gradient if is_gradient or layout == "denominator" else tidy(gradient.T)
    return _displayed(network_problem(d, claim, truth, is_gradient), d, profile)


def _displayed(problem: Problem, d, profile: str) -> Problem:
    """``problem`` with ``display``: each symbol of the derivation → a matrix symbol named by
    its LaTeX in ``profile`` (δ^{[2]} for B2), for the diagnosis' details (the Mines signals,
    rows there, keep the engine's names)."""
    chosen = get_profile(profile, where="notation")
    sizes = {N: BATCH_SIZE} if d.batch else {}
    for symbol, (kind, layer) in d.symbols.table.items():
        if kind not in chosen.latex or chosen.name.startswith("mines") and kind in ("B", "D"):
            continue
        symbol = symbol.xreplace(sizes)
        problem.display[symbol] = sp.MatrixSymbol(chosen.symbol(kind, layer), *symbol.shape)
        if kind == "W" and d.network.convention == "augmented" and "Wbar" in chosen.latex:
            without = DropBias(symbol)
            problem.display[without] = sp.MatrixSymbol(chosen.symbol("Wbar", layer),
                                                       *without.shape)
    return problem


def _quantities(d) -> list:
    """Names of the quantities a claim may differentiate by besides the parameters."""
    return [s.name for s, (kind, _) in d.symbols.table.items() if kind in ("x", "z", "a")]


def network_problem(d, claim, truth, gradient: bool = False) -> Problem:
    """The :class:`Problem` of a claim and its truth, both over the symbols of the network's
    derivation ``d`` (per sample or batch); ``gradient``: the claim is a ∇ (for the name of
    a transposed claim)."""
    sizes = {N: BATCH_SIZE} if d.batch else {}
    definitions = {symbol.xreplace(sizes): value.xreplace(sizes)
                   for symbol, value in d.definitions.items()}
    table = {symbol.xreplace(sizes): kind for symbol, (kind, _) in d.symbols.table.items()}
    signals = {s: v for s, v in definitions.items() if table[s] in ("B", "D")}
    forward = [(s, v) for s, v in definitions.items() if table[s] not in ("B", "D")]
    return Problem(claim=claim.xreplace(sizes), truth=truth.xreplace(sizes),
                   shapes=(_shape(claim), _shape(truth)), expand=_expander(definitions),
                   signals=_expander(signals), forward=forward,
                   gradient=gradient,
                   targets={d.symbols.y().xreplace(sizes): d.network.loss.targets},
                   batch_size=BATCH_SIZE if d.batch else None,
                   neighbours=_neighbours(d.symbols.table, sizes),
                   points=PIECEWISE_POINTS if _piecewise(d.network) else POINTS)


def _piecewise(net) -> bool:
    """Whether an activation or the loss of ``net`` has kinks."""
    activations = [net.activation(position) for position in range(1, net.depth + 1)]
    return bool(getattr(net.loss, "kinks", ())) or \
        any(getattr(activation, "kinks", ()) for activation in activations)


def _neighbours(table: dict, sizes: dict) -> dict:
    """symbol → the symbols of the same kind one layer away with the same shape (the input
    x counting as the activation of layer 0)."""
    by_place = {}
    for symbol, (kind, layer) in table.items():
        if kind in ("x", "X"):
            kind, layer = ("a" if kind == "x" else "A"), 0
        if isinstance(layer, int):
            by_place[(kind, layer)] = symbol.xreplace(sizes)
    found = {}
    for (kind, layer), symbol in by_place.items():
        near = [by_place.get((kind, layer + step)) for step in (-1, 1)]
        near = [n for n in near if n is not None and n.shape == symbol.shape]
        if near:
            found[symbol] = near
    return found


# --- an identity ----------------------------------------------------------------------------

def _sizes(*exprs) -> dict:
    """Size symbol → a small integer (2, 3, 4, …, distinct per name, in name order)."""
    names = set()
    for expr in exprs:
        for symbol in expr.atoms(sp.MatrixSymbol):
            for n in symbol.shape:
                names |= {s.name for s in sp.sympify(n).free_symbols}
    return {name: 2 + k for k, name in enumerate(sorted(names))}


def _instantiate(expr, sizes: dict):
    table = {s: sizes[s.name] for s in expr.free_symbols
             if isinstance(s, sp.Symbol) and s.name in sizes}
    for symbol in expr.atoms(sp.MatrixSymbol):
        for n in symbol.shape:
            table.update({s: sizes[s.name] for s in sp.sympify(n).free_symbols
                          if s.name in sizes})
    return expr.xreplace(table) if table else expr


#: A name or a function of names before an expression's '=': ``f(x) =``, ``y =``.
_DEFINED = re.compile(r"\s*\\?[A-Za-z]+(_\{?\w+\}?)?(\(\s*[\\A-Za-z{}_, ]+\))?\s*")


def _function_body(expr: str) -> str:
    """An expression without the names it defines: ``y = f(x) = W x + b`` → ``W x + b``."""
    parts = expr.split("=")
    if len(parts) > 1 and all(_DEFINED.fullmatch(part) for part in parts[:-1]):
        return parts[-1]
    return expr


def _reader_name(name: str) -> str:
    """The name the reader gives ``name`` as a user typed it (``\\lambda`` → ``lambda``)."""
    try:
        symbols = parse_latex(name, scalars=(name,), where="--scalar").symbols
    except BadInput:
        return name
    return next(iter(symbols)) if len(symbols) == 1 else name


def _identity_names(expr, shapes, scalars, symmetric) -> tuple[dict, tuple]:
    """The shapes and scalars an identity's EXPR is differentiated with: names as the reader
    spells them (``\\lambda`` is ``lambda``), a name declared both a scalar and 1×1 a scalar,
    and what the claim reader takes as a scalar in EXPR (an undeclared λ, the N of
    ``\\frac{1}{2N}``) declared one."""
    scalars = tuple(dict.fromkeys(_reader_name(name) for name in scalars or ()))
    shapes = {_reader_name(name): shape for name, shape in (shapes or {}).items()
              if not (_reader_name(name) in scalars and tuple(shape) == (1, 1))}
    if isinstance(expr, str):
        try:
            read = parse_latex(expr, shapes=shapes, scalars=scalars, where="EXPR")
        except BadInput:
            read = None                          # derive.jacobian says what is wrong with it
        if read is not None:
            scalars = tuple(dict.fromkeys([*scalars, *read.scalars]))
    return shapes, scalars


def _identity_problem(parsed, expr, wrt, layout, shapes, scalars, symmetric) -> Problem:
    try:
        result = jacobian(expr, wrt, layout="denominator", shapes=shapes, scalars=scalars,
                          symmetric=symmetric)
    except (TypeError, ValueError, NotImplementedError, AttributeError) as exc:
        raise BadInput(f"cannot differentiate {expr!r} by {wrt}: SymPy says "
                       f"{type(exc).__name__}: {exc}", "EXPR") from None
    denominator = result.expr
    left = parsed.left
    is_gradient = isinstance(left, Gradient)
    # J_f, the Jacobian of f as Durham writes it: the numerator-layout derivative
    jacobian_left = isinstance(left, (sp.MatrixSymbol, sp.Symbol)) and \
        re.fullmatch(r"J_\{?f\}?", left.name) is not None
    if left is not None and not isinstance(left, (Gradient, Partial)) and not jacobian_left:
        raise BadInput("the left side must be \\nabla_{x} f, \\frac{\\partial f}{\\partial x} or "
                       "the Jacobian J_f", "claim")
    if jacobian_left:
        layout = "numerator"
    truth = denominator if is_gradient or layout == "denominator" else tidy(denominator.T)
    by_name = {s.name: s for s in truth.atoms(sp.MatrixSymbol) | truth.free_symbols}
    value = parsed.expanded()
    binding = {s: by_name[s.name] for s in value.free_symbols | value.atoms(sp.MatrixSymbol)
               if s.name in by_name and str(_shape(s)) == str(_shape(by_name[s.name]))}
    claim = value.xreplace(binding)
    sizes = _sizes(claim, truth)
    return Problem(claim=_instantiate(claim, sizes), truth=_instantiate(truth, sizes),
                   shapes=(_shape(claim), _shape(truth)), symmetric=frozenset(symmetric),
                   gradient=is_gradient)


# --- deciding ---------------------------------------------------------------------------------

def _exactly_equal(claim, truth, symmetric) -> bool:
    try:
        if tidy(claim, symmetric=symmetric) == tidy(truth, symmetric=symmetric):
            return True
        difference = tidy(claim - truth, symmetric=symmetric)
    except (TypeError, ValueError, AttributeError, NotImplementedError, RecursionError):
        return False
    return difference == sp.ZeroMatrix(*_shape(truth)) or difference == 0


def _inputs(*exprs) -> list:
    found = set()
    for expr in exprs:
        found |= {s for s in expr.free_symbols if isinstance(s, (sp.Symbol, sp.MatrixSymbol))}
        found |= expr.atoms(sp.MatrixSymbol)
    return sorted(found, key=sp.default_sort_key)


def decide(problem: Problem, seed: int = 0) -> Verdict:
    """The verdict on a :class:`Problem` (shapes already matched, or transposed)."""
    claim, truth = problem.claim, problem.truth
    notes = tuple(problem.notes)
    if not problem.transposed and (
            _exactly_equal(claim, truth, problem.symmetric)
            or _exactly_equal(problem.expand(claim), problem.expand(truth), problem.symmetric)):
        return Verdict("correct", "exact", notes=notes)
    claim, truth = problem.signals(claim), problem.signals(truth)
    inputs = problem.inputs(claim, truth)
    rng = random.Random(seed)
    points = []
    tries = 0
    while len(points) < problem.points and tries < 4 * problem.points:
        tries += 1
        try:
            point, environment = problem.sample(inputs, rng)
            values = (evaluate(claim, environment), evaluate(truth, environment))
        except ValueError:
            continue                       # undefined there (log of 0): another point
        points.append((point, environment, *values))
        if not same(*values):
            break
    if not points:
        raise BadInput("the claim could not be evaluated at any point", "claim")
    point, environment, claimed, true = points[-1]
    if same(claimed, true) and not problem.transposed:
        return Verdict("correct", "rational_points", notes=notes, points=len(points))
    diagnosis = diagnose(problem, claim, truth, inputs, environment, claimed, true)
    counterexample = {"point": {s.name: printed(v, exact=True) if isinstance(v, sp.MatrixBase)
                                else str(v) for s, v in point.items()},
                      "claimed": printed(claimed), "true": printed(true)}
    return Verdict("incorrect", "rational_points", diagnosis, counterexample, notes,
                   len(points))


def check_claim(claimed_latex: str, net_or_expr, wrt, layout: str = "numerator",
                notation: str | None = None, shapes=None, scalars=(), symmetric=(),
                seed: int = 0, reorder: bool = True) -> Verdict:
    r"""The verdict on a claimed gradient of a network, or a claimed derivative of an
    expression (SPEC §5a, §7).

    Parameters
    ----------
    claimed_latex : str
        ``[LEFT =] VALUE [, NAME = DEFINITION]…``; LEFT ``\nabla_{W} L`` (the gradient, W's
        shape) or ``\frac{\partial L}{\partial W}`` (the derivative in ``layout``); none: the
        derivative in ``layout``.
    net_or_expr : Network or str or sympy expression
        A network (:func:`derive.mlp`, :func:`derive.load_spec`), or an expression (LaTeX,
        SymPy syntax or matrix expression) for an identity.
    wrt : str
        A parameter name (``W2``, ``b1``) or the identity's variable; for a network, also a
        quantity's name (``a1``, ``z2``, ``x``): the claim is then ∂L/∂a^{[1]}, or, with a
        left side ``\frac{\partial a^{[1]}}{\partial z^{[1]}}``, that Jacobian.
    layout : {"numerator", "denominator"}
    notation : str, optional
        The profile whose symbols the claim writes (default: the network's own; none for an
        identity).
    shapes, scalars, symmetric
        For an identity, as for :func:`derive.jacobian`: name → (rows, cols) (ints or size
        names), names of scalars, names of symmetric matrices.
    seed : int
        Seed of the random rational points.
    reorder : bool
        Whether a product that cannot be formed is checked again with its factors swapped,
        to name a ``wrong_order`` mistake.

    Returns
    -------
    Verdict
        ``.verdict``, ``.method``, ``.diagnosis``, ``.counterexample``, ``.as_dict()``.

    Raises
    ------
    BadInput
        A bad argument (unknown parameter, layout or profile); an unreadable claim is an
        ``invalid`` verdict instead.
    """
    if layout not in LAYOUTS:
        raise BadInput(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}", "layout")
    identity = isinstance(net_or_expr, (str, sp.Basic))
    if isinstance(net_or_expr, str):
        net_or_expr = _function_body(net_or_expr)
    if identity:
        shapes, scalars = _identity_names(net_or_expr, shapes, scalars, symmetric)
    if not identity:
        notation = notation or getattr(net_or_expr, "notation", None) or "cs229"
        notation = getattr(notation, "name", notation)
        get_profile(notation, where="notation")
        d = backprop(net_or_expr, layout=layout, form="matrix")
        if wrt not in d.gradients and wrt not in _quantities(d):
            raise BadInput(f"no parameter named {wrt!r}; known: {', '.join(d.gradients)} "
                           f"(or a quantity: {', '.join(_quantities(d))})", "wrt")
        batch = backprop(net_or_expr, layout=layout, form="matrix", batch=True)
        _, batch_names, shapes = claim_names(d, batch, notation)
    try:
        parsed = parse_latex(claimed_latex, shapes=shapes, scalars=scalars, profile=notation,
                             layout=layout)
    except BadInput as exc:
        cls = "shape_mismatch" if getattr(exc, "kind", None) == "shape" else "other"
        verdict = _invalid(cls, str(exc))
        if cls == "shape_mismatch" and reorder:
            found = order_diagnosis(claimed_latex, exc, lambda text: check_claim(
                text, net_or_expr, wrt, layout, notation, shapes if identity else None,
                scalars, symmetric, seed, reorder=False))
            if found:
                verdict = Verdict("invalid", "shape", found + verdict.diagnosis)
        return verdict
    notes = []
    differentiated = {getattr(parsed.left, "of", None)} - {None}
    taken = [name for name in parsed.scalars
             if parsed.symbols.get(name) not in differentiated]
    if taken:
        notes.append(f"taken as scalars: {', '.join(taken)}")
    try:
        if identity:
            problem = _identity_problem(parsed, net_or_expr, wrt, layout, shapes, scalars,
                                        symmetric)
        else:
            one = None
            if parsed.expanded().atoms(SampleSum):
                one, d = d, batch              # Σ over the samples: the batch's gradient
            elif set(parsed.symbols) & (set(batch_names) | {"N"}):
                d = batch
            problem = _network_problem(parsed, d, wrt, layout, notation, one)
    except BadInput as exc:
        return _invalid("other", str(exc), notes)
    problem.notes = notes + problem.notes
    claimed_shape, true_shape = _shape(problem.claim), _shape(problem.truth)
    if claimed_shape != true_shape:
        if claimed_shape != true_shape[::-1]:
            claimed_shape, true_shape = problem.shapes
            return _invalid("shape_mismatch", f"the claim is {_size_text(claimed_shape)}, the "
                            f"{'gradient' if problem.gradient else layout + '-layout derivative'}"
                            f" is {_size_text(true_shape)}", notes)
        problem.transposed = True
    try:
        return decide(problem, seed)
    except BadInput as exc:
        return _invalid("other", str(exc), notes)
    except (TypeError, ValueError, AttributeError, NotImplementedError, sp.ShapeError,
            RecursionError) as exc:
        # SymPy cannot evaluate some node of the claim (a norm of a product, …): the claim is
        # not decided, which is said, not raised.
        return _invalid("other", f"cannot evaluate the claim: {type(exc).__name__}: {exc}",
                        notes)


__all__ = ["ALIASES", "AUGMENTED", "BATCH_SIZE", "PIECEWISE_POINTS", "POINTS", "Problem",
           "bind_network", "check_claim", "decide", "network_names", "network_problem"]
