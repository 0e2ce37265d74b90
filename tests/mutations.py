"""Mutation operators: the classic backprop bugs, injected into a generated module's source.

Each operator takes the source of a module written by :func:`derive.codegen.generate_numpy`
and returns its mutants, one per place where the bug can be made.  It parses ``gradients()``
with :mod:`ast`, reads the module's *anatomy* (which code names are z^l, a^l, W^l and the
signals — from ``_forward()``'s cache and parameter loads, whatever the notation profile),
rewrites one expression, and puts that one line back in place of the original; the rest of the
file is untouched.  Nothing is written per network: the same operator works for any depth,
convention, profile, activation and loss.

========================  =================================================================
bug class                 the transformation (``*``: only where the shapes still fit)
========================  =================================================================
transpose*                a ``.T`` dropped, or an operand of ``@`` transposed
activation_derivative     Φ' dropped from a signal, or replaced by another activation's Φ'
sign                      a signal or gradient negated; a + / − or a unary − in a signal flipped
off_by_one_layer*         a^k, z^k or W^k replaced by the same object of layer k ± 1
missing_1_over_N          the 1/N of a mean-reduced gradient dropped
bias_not_summed           Σ over the batch of ∇b replaced by the first sample, or a mean over
                          the wrong axis
hadamard_matmul*          a Hadamard product ``*`` of two arrays written as ``@``
========================  =================================================================

:func:`classify` decides what a mutant is at a point θ, X, Y: *equivalent* (its gradients equal
the original's there: no gradient check can see it), *not applicable* (a starred class whose
mutant raises or returns wrong shapes), or it is given to :func:`verify.check_gradients` and is
*caught* (status ``mismatch``, or ``unusable`` for a mutant that raises or returns wrong
shapes) or *missed*.  :func:`run_round` does that for every mutant of one random network and
also checks the unmutated module (a false alarm if it is not verified).

Glossary: Φ' the activation's derivative, Δ^l the batch signal (``delta1``, ``B1``, ``E1`` …),
the *carrier* of a signal is what Φ' multiplies: Δ^{l+1} in a hidden layer, Y at the output.
"""

from __future__ import annotations

import ast
import copy
import re
from dataclasses import dataclass, field

import numpy as np
from sympy.printing.numpy import NumPyPrinter

import derive
import verify
from derive.activations import ACTIVATIONS, expand_activations
from derive.codegen import generate_numpy, load_source
from derive.losses import LOSSES

#: Classes whose mutants are applicable only where the shapes still fit.
SHAPE_CONDITIONAL = ("transpose", "off_by_one_layer", "hadamard_matmul")
CLASSES = ("transpose", "activation_derivative", "sign", "off_by_one_layer",
           "missing_1_over_N", "bias_not_summed", "hadamard_matmul")
#: A mutant is equivalent at a point when no entry of its gradients differs from the
#: original's by more than central differences in float64 can resolve there: the rounding
#: noise η = NOISE_FACTOR·ε·|L| of a loss value over the step ε^(1/3), times RESOLVED_NOISE
#: (the verifier's Richardson estimate carries 3η/h) — or by more than EQUIVALENT_RTOL of the
#: largest gradient entry, whichever is larger.
RESOLVED_NOISE = 4
EQUIVALENT_RTOL = 1e-12
OUTCOMES = ("caught_mismatch", "caught_unusable", "missed", "equivalent", "not_applicable")


@dataclass(frozen=True)
class Mutant:
    """One bug at one place: ``cls`` (a key of :data:`CLASSES`), what was changed, the source."""

    cls: str
    site: str
    source: str


# --- the module's anatomy -------------------------------------------------------------------

@dataclass
class Anatomy:
    """Code names of the derivation's objects in one generated module, by layer.

    ``a[0]`` is ``"X"``; ``signal[l]`` is Δ^l; ``W[l]`` the code name of parameter ``W{l}``;
    ``activation[l]`` the registry name of layer l's Φ as called in ``_forward()``.
    ``statements`` are gradients()'s assignments in source order, those inside an ``if`` (the
    fused and the general output signal of softmax + cross-entropy) included; ``scaled[Δ]``
    is the code name of (1/N) Δ where a layer's gradients share it.
    """

    depth: int
    z: dict
    a: dict
    W: dict
    signal: dict
    activation: dict
    param_of: dict                 # code name -> parameter name (W1, b1, ...)
    lines: list                    # the source's lines
    gradients: ast.FunctionDef     # gradients() as parsed
    statements: list               # its assignments, inside if/else too
    loads_after: int               # line number of "_, cache = _forward(params, X)"
    loaded: set = field(default_factory=set)   # names gradients() defines
    scaled: dict = field(default_factory=dict)  # signal -> its (1/N) multiple, e.g. delta2_over_N


def anatomy(source: str) -> Anatomy:
    tree = ast.parse(source)
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    # forward() checks X and calls _forward(), which holds the equations.
    forward, gradients = functions["_forward"], functions["gradients"]
    statements = _assignments(gradients.body)
    cache = next(s.value for s in forward.body if isinstance(s, ast.Assign)
                 and getattr(s.targets[0], "id", None) == "cache")
    keys = [k.value for k in cache.keys]
    depth = len(keys) // 2
    z = {layer: keys[2 * layer - 2] for layer in range(1, depth + 1)}
    a = {0: "X", **{layer: keys[2 * layer - 1] for layer in range(1, depth + 1)}}
    param_of = {}
    for stmt in forward.body:
        if isinstance(stmt, ast.Assign) and \
                ast.unparse(stmt.value).startswith("np.asarray(params["):
            param_of[stmt.targets[0].id] = stmt.value.args[0].slice.value
    W = {int(p[1:]): code for code, p in param_of.items() if p.startswith("W")}
    activation = {}
    for stmt in forward.body:
        if isinstance(stmt, ast.Assign) and getattr(stmt.targets[0], "id", "X") in a.values() \
                and stmt.targets[0].id != "X":
            layer = next(k for k, v in a.items() if v == stmt.targets[0].id)
            activation[layer] = _called(stmt.value)
    signal, pending, scaled = {}, None, {}
    loads_after = 0
    loaded = set()
    for stmt in statements:
        target = stmt.targets[0]
        if isinstance(target, ast.Tuple):
            loads_after = stmt.end_lineno
            continue
        loaded.add(target.id)
        if _is_load(stmt):
            continue
        if ast.unparse(stmt.value) == f"{pending} / N":     # (1/N) Δ^l, shared by ∇W^l, ∇b^l
            scaled[pending] = target.id
        elif target.id.startswith("grad_W"):
            signal[int(target.id[6:])] = pending
        elif not target.id.startswith("grad_"):
            pending = target.id
    return Anatomy(depth, z, a, W, signal, activation, param_of, source.splitlines(),
                   gradients, statements, loads_after, loaded, scaled)


def _assignments(body) -> list:
    """The assignments of a function body in source order, into if/else branches."""
    out = []
    for stmt in body:
        if isinstance(stmt, ast.Assign):
            out.append(stmt)
        elif isinstance(stmt, ast.If):
            out += _assignments(stmt.body) + _assignments(stmt.orelse)
    return out


def _called(value: ast.expr) -> str:
    """The registry name of the function applied in ``a = f(z)`` (``np.tanh`` → tanh)."""
    if isinstance(value, ast.Call):
        func = value.func
        return func.attr if isinstance(func, ast.Attribute) else func.id.rstrip("_")
    return "identity"


def _is_load(stmt: ast.Assign) -> bool:
    text = ast.unparse(stmt.value)
    return text.startswith(("np.asarray(", "cache[")) or \
        text in ("X.shape[1]", "float(X.shape[1])")


def equation_lines(anat: Anatomy):
    """(kind, layer, statement) of gradients()'s signal and gradient lines, in order."""
    layer_of_signal = {name: layer for layer, name in anat.signal.items()}
    for stmt in anat.statements:
        if isinstance(stmt.targets[0], ast.Name) and not _is_load(stmt):
            name = stmt.targets[0].id
            if name.startswith("grad_"):
                yield ("grad_W" if name.startswith("grad_W") else "grad_b"), int(name[6:]), stmt
            elif name in layer_of_signal:
                yield "signal", layer_of_signal[name], stmt


# --- writing a mutant -------------------------------------------------------------------------

def _mentions(node: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node))


def _swap(stmt: ast.Assign, old: ast.AST, new: ast.AST) -> ast.Assign:
    """Copy ``stmt`` replacing the subtree ``old`` (found by identity before copying)."""
    path = _path_to(stmt, old)
    result = copy.deepcopy(stmt)
    node = result
    for key, index in path[:-1]:
        node = getattr(node, key) if index is None else getattr(node, key)[index]
    key, index = path[-1]
    if index is None:
        setattr(node, key, copy.deepcopy(new))
    else:
        getattr(node, key)[index] = copy.deepcopy(new)
    return result


def _path_to(root: ast.AST, target: ast.AST):
    """Field names (and list indices) leading from ``root`` to ``target``."""
    for key, value in ast.iter_fields(root):
        if value is target:
            return [(key, None)]
        if isinstance(value, list):
            for i, item in enumerate(value):
                if item is target:
                    return [(key, i)]
                if isinstance(item, ast.AST):
                    found = _path_to(item, target)
                    if found:
                        return [(key, i)] + found
        elif isinstance(value, ast.AST):
            found = _path_to(value, target)
            if found:
                return [(key, None)] + found
    return None


def _write(anat: Anatomy, cls: str, stmt: ast.Assign, new: ast.Assign, site: str,
           needs=()) -> Mutant | None:
    """The module with ``stmt``'s line replaced by ``new`` (and loads for ``needs``)."""
    text = ast.unparse(new)
    if text == ast.unparse(stmt):
        return None
    lines = list(anat.lines)
    indent = re.match(r"\s*", lines[stmt.lineno - 1]).group(0)
    lines[stmt.lineno - 1:stmt.end_lineno] = [f"{indent}{text}  # MUTANT {cls}: {site}"] + \
        [""] * (stmt.end_lineno - stmt.lineno)
    loads = [_load_line(anat, name) for name in needs if name not in anat.loaded]
    top = re.match(r"\s*", lines[anat.loads_after - 1]).group(0)     # the loads' own indent
    lines[anat.loads_after:anat.loads_after] = [f"{top}{line}" for line in loads]
    return Mutant(cls, f"{stmt.targets[0].id}: {site}", "\n".join(lines) + "\n")


def _load_line(anat: Anatomy, name: str) -> str:
    if name in anat.param_of:
        return f"{name} = np.asarray(params[{anat.param_of[name]!r}], dtype=DTYPE)"
    return f"{name} = cache[{name!r}]"


# --- the operators ---------------------------------------------------------------------------

GRADIENTS = ("grad_W", "grad_b")


def _nodes(anat: Anatomy, kinds=("signal",) + GRADIENTS):
    """(statement, node) for every node of the signal/gradient lines of the given kinds."""
    for kind, _, stmt in equation_lines(anat):
        if kind in kinds:
            for node in ast.walk(stmt.value):
                yield stmt, node


def transpose(anat: Anatomy):
    """Each ``.T`` dropped; each operand of ``@`` that is not ``.T`` transposed."""
    for stmt, node in _nodes(anat):
        if isinstance(node, ast.Attribute) and node.attr == "T":
            yield _write(anat, "transpose", stmt, _swap(stmt, node, node.value),
                         f"{ast.unparse(node)} -> {ast.unparse(node.value)}")
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            for operand in (node.left, node.right):
                if not (isinstance(operand, ast.Attribute) and operand.attr == "T"):
                    new = ast.Attribute(value=operand, attr="T", ctx=ast.Load())
                    yield _write(anat, "transpose", stmt, _swap(stmt, operand, new),
                                 f"{ast.unparse(operand)} -> ({ast.unparse(operand)}).T")


def _factors(node: ast.expr):
    """A product/quotient chain as [(is_divisor, factor)]; a single factor otherwise."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div)):
        left = _factors(node.left)
        right = _factors(node.right)
        if isinstance(node.op, ast.Div):
            right = [(not d, f) for d, f in right] if len(right) == 1 else [(True, node.right)]
        return left + right
    return [(False, node)]


def _product(factors) -> ast.expr:
    out = None
    for divisor, factor in factors:
        if out is None:
            out = factor if not divisor else ast.BinOp(ast.Constant(1), ast.Div(), factor)
        else:
            out = ast.BinOp(out, ast.Div() if divisor else ast.Mult(), factor)
    return out


def _is_scalar(node: ast.expr) -> bool:
    """A number, or arithmetic of numbers (no array names)."""
    return not any(isinstance(n, (ast.Name, ast.Call, ast.Attribute)) for n in ast.walk(node))


def _without_derivative(anat: Anatomy, layer: int, rhs: ast.expr):
    """The signal's formula with Φ'(z^l) left out: the factors of the product that carry
    Δ^{l+1} (hidden) or Y (output), and the numbers; for a hidden signal that is not such a
    product (softmax's Jacobian), the matrix product that carries Δ^{l+1}."""
    carrier = "Y" if layer == anat.depth else anat.signal[layer + 1]
    factors = _factors(rhs)
    kept = [(d, f) for d, f in factors if _mentions(f, carrier) or _is_scalar(f)]
    if kept and len(kept) < len(factors) and any(_mentions(f, carrier) for _, f in kept):
        return _product(kept)
    if layer < anat.depth:
        for node in ast.walk(rhs):
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult) and \
                    _mentions(node, carrier):
                return node
    return None


def derivative_code(name: str, variable: str) -> ast.expr:
    """Φ'(variable) of a registry activation, as NumPy code: its printed derivative, with the
    registry's value at a kink (relu'(0) = 0, as in PyTorch)."""
    formula = expand_activations(ACTIVATIONS.get(name).printed_derivative)
    text = NumPyPrinter().doprint(formula).replace("numpy.", "np.")
    tree = ast.parse(f"({text})", mode="eval").body
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == "x":
            node.id = variable
    # A constant derivative still has the shape of z: broadcast it.
    return ast.BinOp(tree, ast.Add(), ast.BinOp(ast.Constant(0.0), ast.Mult(),
                                                ast.Name(variable, ast.Load())))


def activation_derivative(anat: Anatomy, rng: np.random.Generator):
    """Φ' dropped from each signal; Φ' replaced by another activation's derivative."""
    others = [n for n in ACTIVATIONS.names() if not ACTIVATIONS.get(n).vector_valued]
    for kind, layer, stmt in equation_lines(anat):
        if kind != "signal":
            continue
        rest = _without_derivative(anat, layer, stmt.value)
        if rest is None:
            continue
        dropped = copy.deepcopy(stmt)
        dropped.value = copy.deepcopy(rest)
        yield _write(anat, "activation_derivative", stmt, dropped, f"Phi'(z{layer}) dropped")
        choices = [n for n in others if n != anat.activation.get(layer)]
        other = choices[int(rng.integers(len(choices)))]
        replaced = copy.deepcopy(stmt)
        replaced.value = ast.BinOp(copy.deepcopy(rest), ast.Mult(),
                                   derivative_code(other, anat.z[layer]))
        yield _write(anat, "activation_derivative", stmt, replaced,
                     f"Phi'(z{layer}) replaced by {other}'", needs=[anat.z[layer]])


def sign(anat: Anatomy):
    """Each signal and gradient negated; each + / − and unary − inside a signal flipped."""
    flips = {ast.Add: ast.Sub, ast.Sub: ast.Add}
    for kind, _, stmt in equation_lines(anat):
        negated = copy.deepcopy(stmt)
        negated.value = ast.UnaryOp(ast.USub(), negated.value)
        yield _write(anat, "sign", stmt, negated, "negated")
        if kind != "signal":
            continue
        for node in ast.walk(stmt.value):
            if isinstance(node, ast.BinOp) and type(node.op) in flips:
                new = ast.BinOp(node.left, flips[type(node.op)](), node.right)
                yield _write(anat, "sign", stmt, _swap(stmt, node, new),
                             f"{ast.unparse(node)} -> {ast.unparse(new)}")
            if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
                yield _write(anat, "sign", stmt, _swap(stmt, node, node.operand),
                             f"{ast.unparse(node)} -> {ast.unparse(node.operand)}")


def off_by_one_layer(anat: Anatomy):
    """a^k, z^k, W^k (X = a^0) used where the same object of layer k − 1 or k + 1 belongs
    (names read only for their ``.dtype`` or ``.shape`` are left alone)."""
    tables = [anat.a, anat.z, anat.W]
    for _, _, stmt in equation_lines(anat):
        metadata = {id(n.value) for n in ast.walk(stmt) if isinstance(n, ast.Attribute)
                    and n.attr in ("dtype", "shape")}
        for node in ast.walk(stmt.value):
            if not isinstance(node, ast.Name) or id(node) in metadata:
                continue
            for table in tables:
                layer = next((k for k, v in table.items() if v == node.id), None)
                if layer is None:
                    continue
                for other in (layer - 1, layer + 1):
                    if other in table:
                        new = ast.Name(table[other], ast.Load())
                        yield _write(anat, "off_by_one_layer", stmt, _swap(stmt, node, new),
                                     f"{node.id} -> {table[other]}", needs=[table[other]])


def missing_1_over_N(anat: Anatomy):
    """The 1/N of each gradient (mean reduction) dropped: its ``/ N``, or the signal the
    layer's gradients share divided by N (``delta2_over_N``) used undivided."""
    unscaled = {name: signal for signal, name in anat.scaled.items()}
    for stmt, node in _nodes(anat, GRADIENTS):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and \
                isinstance(node.right, ast.Name) and node.right.id == "N":
            yield _write(anat, "missing_1_over_N", stmt, _swap(stmt, node, node.left),
                         "/ N dropped")
        if isinstance(node, ast.Name) and node.id in unscaled:
            yield _write(anat, "missing_1_over_N", stmt,
                         _swap(stmt, node, ast.Name(unscaled[node.id], ast.Load())),
                         "/ N dropped")


def _summed(node):
    """Δ of ``Δ.sum(...)`` or ``np.sum(Δ, ...)``, else ``None``."""
    if not isinstance(node, ast.Call):
        return None
    if ast.unparse(node.func) == "np.sum":
        return node.args[0]
    if isinstance(node.func, ast.Attribute) and node.func.attr == "sum":
        return node.func.value
    return None


def bias_not_summed(anat: Anatomy):
    """Δ.sum(axis=1, keepdims=True) in ∇b → Δ[:, :1] (one sample) or a mean over axis 0."""
    for stmt, node in _nodes(anat, ("grad_b",)):
        inner = _summed(node)
        if inner is not None:
            first = ast.parse(f"({ast.unparse(inner)})[:, :1]", mode="eval").body
            yield _write(anat, "bias_not_summed", stmt, _swap(stmt, node, first),
                         "sum over the batch -> first sample")
            mean = ast.parse(f"np.mean({ast.unparse(inner)}, axis=0, keepdims=True)",
                             mode="eval").body
            yield _write(anat, "bias_not_summed", stmt, _swap(stmt, node, mean),
                         "sum over the batch -> mean over axis 0")


def hadamard_matmul(anat: Anatomy):
    """Each ``*`` between two arrays in a signal written ``@``."""
    for stmt, node in _nodes(anat, ("signal",)):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult) and \
                not _is_scalar(node.left) and not _is_scalar(node.right):
            new = ast.BinOp(node.left, ast.MatMult(), node.right)
            yield _write(anat, "hadamard_matmul", stmt, _swap(stmt, node, new),
                         f"{ast.unparse(node)} -> {ast.unparse(new)}")


def mutants(source: str, rng: np.random.Generator) -> list[Mutant]:
    """Every mutant of every class, in a fixed order (duplicates of one source dropped)."""
    anat = anatomy(source)
    produced = [*transpose(anat), *activation_derivative(anat, rng), *sign(anat),
                *off_by_one_layer(anat), *missing_1_over_N(anat),
                *bias_not_summed(anat), *hadamard_matmul(anat)]
    seen, out = set(), []
    for mutant in produced:
        if mutant is not None and mutant.source not in seen:
            seen.add(mutant.source)
            out.append(mutant)
    return out


# --- judging a mutant ------------------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    """What became of one mutant: an entry of :data:`OUTCOMES`, and the verifier's status."""

    mutant: Mutant
    outcome: str
    status: str | None = None
    detail: str = ""
    gap: float = float("inf")       # max|g_mutant − g_original| at the point


def _gradients_or_none(module, params, X, Y, shapes):
    try:
        grads = module.gradients(params, X, Y)
        grads = {k: np.asarray(grads[k], dtype=np.float64) for k in shapes}
    except Exception:
        return None
    if any(grads[k].shape != tuple(shapes[k]) for k in shapes):
        return None
    return grads


def difference(grads: dict, reference: dict) -> float:
    """max|g_mutant − g| over every entry of every tensor (inf for non-finite values)."""
    if not all(np.all(np.isfinite(grads[k])) for k in reference):
        return float("inf")
    return max(float(np.max(np.abs(grads[k] - g), initial=0.0)) for k, g in reference.items())


def resolution(reference: dict, loss: float) -> float:
    """The smallest gradient difference a float64 central difference resolves at this point."""
    eps = np.finfo(np.float64).eps
    scale = max(float(np.max(np.abs(g), initial=0.0)) for g in reference.values())
    noise = verify.numeric.NOISE_FACTOR * eps * abs(loss) / eps ** (1 / 3)
    return max(RESOLVED_NOISE * noise, EQUIVALENT_RTOL * scale)


def classify(mutant: Mutant, reference: dict, point: tuple, shapes: dict, seed: int,
             floor: float) -> Outcome:
    """Equivalent (gradients within ``floor`` of ``reference`` at ``point``), not applicable
    (a shape-conditional mutant that raises or returns wrong shapes), else the verifier's
    verdict: caught (mismatch / unusable) or missed."""
    params, X, Y = point
    try:
        module = load_source(mutant.source, "mutant")
    except Exception as exc:            # a mutant that does not even import
        module, error = None, exc
    grads = _gradients_or_none(module, params, X, Y, shapes) if module is not None else None
    gap = difference(grads, reference) if grads is not None else float("inf")
    if gap <= floor:
        return Outcome(mutant, "equivalent", gap=gap)
    if grads is None and mutant.cls in SHAPE_CONDITIONAL:
        return Outcome(mutant, "not_applicable", detail="the shapes do not fit")
    if module is None:
        return Outcome(mutant, "missed", detail=f"does not import: {error}")
    report = verify.check_gradients(module, params, X, Y, mode="full", seed=seed)
    outcome = {"mismatch": "caught_mismatch", "unusable": "caught_unusable"}.get(report.status,
                                                                                   "missed")
    return Outcome(mutant, outcome, report.status,
                   report.message if report.status == "unusable" else "", gap)


# --- random networks and points --------------------------------------------------------------

KINKED = ("relu", "leaky_relu")


@dataclass(frozen=True)
class Network:
    """What :func:`run_round` generates a module for, and how its point is drawn."""

    sizes: tuple
    activations: tuple
    loss: str
    convention: str
    reduction: str
    notation: str
    batch: int
    near_kinks: bool

    def describe(self) -> str:
        return (f"{'-'.join(map(str, self.sizes))} {','.join(self.activations)} {self.loss} "
                f"{self.convention} {self.reduction} N={self.batch} {self.notation}"
                + (" near kinks" if self.near_kinks else ""))

    def build(self):
        return derive.mlp(list(self.sizes), activations=list(self.activations), loss=self.loss,
                          convention=self.convention, reduction=self.reduction,
                          notation=self.notation)


HIDDEN = ("identity", "sigmoid", "tanh", "relu", "leaky_relu", "softplus", "softmax", "step")
OUTPUTS = ("identity", "tanh", "sigmoid", "softplus", "relu", "leaky_relu", "step")
PROFILES = ("cs229", "ensimag", "mines", "cmu", "durham")


def random_network(rng: np.random.Generator, kinked: bool = False,
                   near_kinks: bool = False) -> Network:
    """A small random MLP whose shapes often coincide (so that shape-conditional bugs apply):
    depth 1–3, sizes and batch from {2, 3, 4}, any loss (bce with a sigmoid output,
    cross_entropy with softmax), convention, reduction and profile.  ``kinked``: relu-like
    hidden layers (and output, where the loss allows); ``near_kinks``: :func:`draw_point` puts
    the point next to their kinks."""
    depth = int(rng.integers(1, 4))
    sizes = tuple(int(n) for n in rng.integers(2, 5, size=depth + 1))
    hidden_pool = KINKED if kinked else HIDDEN
    hidden = [str(hidden_pool[int(rng.integers(len(hidden_pool)))]) for _ in range(depth - 1)]
    loss = str(LOSSES.names()[int(rng.integers(len(LOSSES.names())))])
    entry = LOSSES.get(loss)
    if entry.targets == "simplex":
        output = "softmax"
    elif entry.prediction_domain == (0, 1):
        output = "sigmoid"
    else:
        pool = KINKED + ("identity",) if kinked else OUTPUTS
        output = str(pool[int(rng.integers(len(pool)))])
    conventions = ("rows", "columns", "augmented")
    return Network(sizes=sizes, activations=tuple(hidden + [output]), loss=loss,
                   convention=str(conventions[int(rng.integers(3))]),
                   reduction="mean" if rng.random() < 0.85 else "sum",
                   notation=str(PROFILES[int(rng.integers(len(PROFILES)))]),
                   batch=int(rng.integers(2, 5)), near_kinks=near_kinks)


def draw_point(module, anat: Anatomy, net: Network, rng: np.random.Generator):
    """θ (Xavier plus noise), X, Y; ``near_kinks`` moves z^l entries of relu-like layers (and
    l1/huber residuals) to within 1e-7 of a kink, inside the difference step."""
    params = {k: np.asarray(v, dtype=np.float64) + 0.3 * rng.standard_normal(np.shape(v))
              for k, v in module.init_params(rng).items()}
    X = rng.standard_normal((net.sizes[0], net.batch))
    Y = verify.draw_targets(LOSSES.get(net.loss).targets, (net.sizes[-1], net.batch), rng)
    if not net.near_kinks:
        return params, X, Y
    for layer, name in enumerate(net.activations, start=1):
        if name not in KINKED:
            continue
        z = module.forward(params, X)[1][anat.z[layer]]
        for _ in range(2):
            i, n = int(rng.integers(z.shape[0])), int(rng.integers(z.shape[1]))
            shift = z[i, n] - 1e-7 * rng.uniform(-1, 1)
            if net.convention == "augmented":
                params[f"W{layer}"][i, 0] -= shift
            else:
                params[f"b{layer}"][i, 0] -= shift
            z = module.forward(params, X)[1][anat.z[layer]]
    if net.loss in ("l1", "huber"):
        yhat = module.forward(params, X)[0]
        kink = 0.0 if net.loss == "l1" else 1.0
        i, n = int(rng.integers(Y.shape[0])), int(rng.integers(Y.shape[1]))
        Y[i, n] = yhat[i, n] - kink - 1e-7 * rng.uniform(-1, 1)
    return params, X, Y


@dataclass
class Round:
    """One network: the correct module's verdict and every mutant's outcome."""

    network: Network
    correct_status: str
    correct_detail: str
    outcomes: list


def run_round(net: Network, seed: int) -> Round:
    """Generate the module of ``net``, draw the point, verify the module and judge every
    mutant there (seeded: the same ``seed`` gives the same round)."""
    rng = np.random.default_rng(seed)
    d = derive.backprop(net.build(), form="matrix", batch=True, layout="denominator")
    source = generate_numpy(d, notation=net.notation, name="original").source
    module = load_source(source, "original")
    point = draw_point(module, anatomy(source), net, rng)
    shapes = dict(module.PARAM_SHAPES)
    report = verify.check_gradients(module, *point, mode="full", seed=seed)
    reference = {k: np.asarray(v, dtype=np.float64)
                 for k, v in module.gradients(*point).items()}
    floor = resolution(reference, module.loss(*point))
    outcomes = [classify(m, reference, point, shapes, seed, floor)
                for m in mutants(source, rng)]
    return Round(net, report.status, report.to_text() if report.status != "verified" else "",
                 outcomes)


def tally(rounds) -> dict:
    """class -> outcome -> count, over rounds (plus the correct modules' verdicts)."""
    table = {cls: {o: 0 for o in OUTCOMES} for cls in CLASSES}
    for r in rounds:
        for o in r.outcomes:
            table[o.mutant.cls][o.outcome] += 1
    return table


def rates_text(rounds) -> str:
    """The detection rate per class and the false-alarm rate, with their counts."""
    table = tally(rounds)
    lines = [f"{'bug class':<24}{'caught/applicable':>19}{'rate':>9}{'mismatch':>10}"
             f"{'unusable':>10}{'missed':>8}{'equivalent':>12}{'n/a':>6}"]
    total_caught = total_applicable = 0
    for cls, row in table.items():
        caught = row["caught_mismatch"] + row["caught_unusable"]
        applicable = caught + row["missed"]
        total_caught += caught
        total_applicable += applicable
        rate = f"{100 * caught / applicable:.1f}%" if applicable else "-"
        lines.append(f"{cls:<24}{f'{caught}/{applicable}':>19}{rate:>9}"
                     f"{row['caught_mismatch']:>10}{row['caught_unusable']:>10}"
                     f"{row['missed']:>8}{row['equivalent']:>12}{row['not_applicable']:>6}")
    rate = f"{100 * total_caught / total_applicable:.1f}%" if total_applicable else "-"
    lines.append(f"{'all classes':<24}{f'{total_caught}/{total_applicable}':>19}{rate:>9}")
    alarms = sum(r.correct_status != "verified" for r in rounds)
    lines.append(f"false alarms on correct modules: {alarms}/{len(rounds)} "
                 f"({100 * alarms / max(1, len(rounds)):.1f}%)")
    return "\n".join(lines)
