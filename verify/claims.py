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
from dataclasses import dataclass, field
from functools import lru_cache

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from derive.api import backprop
from derive.calculus.claim_nodes import LAYOUTS, Gradient, Partial, SampleSum
from derive.calculus.matrix_nodes import is_matrix
from derive.calculus.tidy import tidy
from derive.errors import BadInput
from derive.jacobians import jacobian
from derive.layers.dense import Augment, DropBias
from derive.naming import N
from derive.notation import get_profile

from .claim_diagnosis import diagnose
from .claim_points import draw_point, evaluate, printed, same
from .latex import parse_latex
from .verdict import Diagnosis, Verdict

#: Random rational points a rational-points verdict agrees at; more for a piecewise
#: activation or loss (relu, hinge), where one region (all z > 0) can hide a dropped factor.
POINTS = 3
PIECEWISE_POINTS = 10
#: The batch size N of a batch claim at the points: not 2 or 3, so that a missing 1/N is not
#: mistaken for a missing ½.
BATCH_SIZE = 5
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

@lru_cache(maxsize=1024)
def _name_of(latex: str, profile: str) -> str | None:
    """The name our reader gives a profile's LaTeX for one value (``a^{[2]}``, ``alpha^{2}``)."""
    try:
        symbols = parse_latex(latex, profile=profile, where="notation").symbols
    except BadInput:
        return None
    return next(iter(symbols)) if len(symbols) == 1 else None


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
            name = _name_of(latex, profile)
            if name is not None:
                names.setdefault(name, value)
        if d.network.convention == "augmented" and kind in ("a", "x", "A", "X"):
            index = chosen.layer_index(layer) if layer is not None else ""
            for latex in AUGMENTED.get(kind, ()):
                name = _name_of(latex.replace("{l}", index), profile)
                if name is not None:
                    names.setdefault(name, Augment(symbol))
        if d.network.convention == "augmented" and kind == "W" and "Wbar" in chosen.latex:
            name = _name_of(chosen.symbol("Wbar", layer), profile)
            if name is not None:
                names.setdefault(name, DropBias(symbol))
    return names


def _bind_functions(expr, d, phi_names: set):
    """The profile's unnamed activation (g, Φ) applied to z^{[l]} made layer l's activation."""
    net, table = d.network, d.symbols.table
    activations = {position: net.activation(position) for position in range(1, net.depth + 1)}

    def activation_for(argument):
        layers = {table[s][1] for s in argument.atoms(sp.MatrixSymbol)
                  if table.get(s, (None,))[0] == "z"}
        if len(layers) == 1 and next(iter(layers)) in activations:
            return activations[layers.pop()]
        distinct = {a.name for a in activations.values()}
        if len(distinct) == 1:
            return next(iter(activations.values()))
        raise BadInput(f"which layer's activation is applied to {argument} is ambiguous; "
                       "apply it to z of a layer", "claim")

    def bind(node):
        function = node.function
        unnamed = [f for f in function.atoms(AppliedUndef) if f.func.__name__ in phi_names]
        if not unnamed:
            return node
        activation = activation_for(node.expr)
        if getattr(activation, "vector_valued", False):
            raise BadInput(f"{activation.name} is not elementwise: write its Jacobian", "claim")
        bound = function.replace(
            lambda e: isinstance(e, AppliedUndef) and e.func.__name__ in phi_names,
            lambda e: activation.function(*e.args))
        return ElementwiseApplyFunction(bound, node.expr)

    def bind_scalar(node):
        activation = activation_for(node)
        return activation.function(*node.args)

    expr = expr.replace(lambda e: isinstance(e, ElementwiseApplyFunction), bind)
    return expr.replace(lambda e: isinstance(e, AppliedUndef) and e.func.__name__ in phi_names,
                        bind_scalar)


def _resolve_derivatives(expr, d):
    """``expr`` with each derivative of the loss it names (∂L/∂z^{[l]}, ∇_{W} L, ∂L/∂W) made
    the derivation's value: the signal δ^{[l]} (1/N Δ^{[l]} in a batch), a parameter's
    gradient; in the layout the node states."""
    table = d.symbols.table
    parameters = {symbol: name for symbol in table for name in d.gradients
                  if symbol.name == name}

    def value(node):
        if is_matrix(node.of):
            raise BadInput(f"∂({node.of})/∂({node.by}): only derivatives of the loss are "
                           "checked yet", "claim")
        kind, layer = table.get(node.by, (None, None))
        if kind in ("z", "Z"):
            gradient = d.symbols.signal(layer)
            gradient = d.scale() * gradient if d.batch else gradient
        elif node.by in parameters:
            gradient = d.gradients[parameters[node.by]]
        else:
            raise BadInput(f"the derivative of the loss by {node.by} is not checked yet (only "
                           "by z^{[l]} and the parameters)", "claim")
        if isinstance(node, Partial) and node.layout == "numerator":
            return gradient.T
        return gradient

    return expr.replace(lambda e: isinstance(e, (Partial, Gradient)), value)


def _expander(definitions: dict):
    order = list(definitions.items())

    def expand(expr):
        for symbol, value in reversed(order):
            if expr.has(symbol):
                expr = expr.xreplace({symbol: value})
        return expr

    return expand


def _network_problem(parsed, d, wrt: str, layout: str, profile: str) -> Problem:
    names = network_names(d, profile)
    parameter = next((s for s in d.symbols.table if s.name == wrt), None)
    if parameter is None or wrt not in d.gradients:
        raise BadInput(f"no parameter named {wrt!r}; known: {', '.join(d.gradients)}", "wrt")
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
    claim = _resolve_derivatives(value.xreplace(binding), d)
    chosen = get_profile(profile, where="notation")
    phi_names = {_name_of(chosen.symbol("phi"), profile)} - {None}
    claim = _bind_functions(claim, d, phi_names)
    gradient = d.gradient(wrt)
    left = parsed.left.xreplace(binding) if parsed.left is not None else None
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
    sizes = {N: BATCH_SIZE} if d.batch else {}
    definitions = {symbol.xreplace(sizes): value.xreplace(sizes)
                   for symbol, value in d.definitions.items()}
    table = {symbol.xreplace(sizes): kind for symbol, (kind, _) in d.symbols.table.items()}
    signals = {s: v for s, v in definitions.items() if table[s] in ("B", "D")}
    forward = [(s, v) for s, v in definitions.items() if table[s] not in ("B", "D")]
    return Problem(claim=claim.xreplace(sizes), truth=truth.xreplace(sizes),
                   shapes=(_shape(claim), _shape(truth)), expand=_expander(definitions),
                   signals=_expander(signals), forward=forward,
                   gradient=is_gradient,
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
    if left is not None and not isinstance(left, (Gradient, Partial)):
        raise BadInput("the left side must be \\nabla_{x} f or \\frac{\\partial f}{\\partial x}",
                       "claim")
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
                seed: int = 0) -> Verdict:
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
        A parameter name (``W2``, ``b1``) or the identity's variable.
    layout : {"numerator", "denominator"}
    notation : str, optional
        The profile whose symbols the claim writes (default: the network's own; none for an
        identity).
    shapes, scalars, symmetric
        For an identity, as for :func:`derive.jacobian`: name → (rows, cols) (ints or size
        names), names of scalars, names of symmetric matrices.
    seed : int
        Seed of the random rational points.

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
    if not identity:
        notation = notation or getattr(net_or_expr, "notation", None) or "cs229"
        notation = getattr(notation, "name", notation)
        get_profile(notation, where="notation")
        d = backprop(net_or_expr, layout=layout, form="matrix")
        if wrt not in d.gradients:
            raise BadInput(f"no parameter named {wrt!r}; known: {', '.join(d.gradients)}",
                           "wrt")
        batch = backprop(net_or_expr, layout=layout, form="matrix", batch=True)
        names = network_names(d, notation)
        batch_names = {name: symbol for name, symbol in network_names(batch, notation).items()
                       if name not in names}
        shapes = {name: _shape(symbol) for name, symbol in {**names, **batch_names}.items()}
    try:
        parsed = parse_latex(claimed_latex, shapes=shapes, scalars=scalars, profile=notation,
                             layout=layout)
    except BadInput as exc:
        cls = "shape_mismatch" if getattr(exc, "kind", None) == "shape" else "other"
        return _invalid(cls, str(exc))
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
            if parsed.expanded().atoms(SampleSum):
                raise BadInput("sums over the samples (\\sum_{i=1}^{N}) are not checked yet: "
                               "write the batch form with X, Y, A^{[l]}, \\Delta^{[l]}", "claim")
            if set(parsed.symbols) & (set(batch_names) | {"N"}):
                d = batch
            problem = _network_problem(parsed, d, wrt, layout, notation)
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


__all__ = ["ALIASES", "AUGMENTED", "BATCH_SIZE", "PIECEWISE_POINTS", "POINTS", "Problem", "check_claim", "decide",
           "network_names"]
