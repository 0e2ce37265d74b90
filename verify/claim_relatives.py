"""The near relatives of a claim and of its truth (SPEC §7), each with the mistake it names.

Each function returns (class, detail, expression) triples; :func:`verify.claim_diagnosis.diagnose`
evaluates them at the point where the claim was found wrong, in the order its docstring gives,
and names the first that matches.

- of the truth: an activation derivative Φ' dropped, made Φ or another activation's
  (:func:`truth_variants`); a term dropped, one term doubled in place of two (the symmetric
  part), a coupling term kept on its diagonal only (softmax treated as elementwise)
  (:func:`term_variants`); the factors of a product in another order (:func:`order_variants`);
- of the claim: its products reordered, two quantities of one shape exchanged
  (:func:`order_variants`, :func:`exchange_variants`); an activation derivative too many
  (:func:`extra_derivative_variants`); ⊙ for a matrix product or the reverse
  (:func:`claim_variants`); one occurrence of a quantity replaced by the same quantity of a
  neighbouring layer, or a square matrix's transpose mark moved (:func:`layer_variants`).
"""

from __future__ import annotations

import itertools
from contextvars import ContextVar

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from derive.calculus.matrix_nodes import ActivationPrime, AsScalar, prime_function
from derive.calculus.matrix_printing import latex_matrix
from derive.jacobians import activation_functions

#: The activations whose derivative a claim may put in place of the network's own.
COMMON_ACTIVATIONS = ("sigmoid", "tanh", "relu")
#: The largest matrix product whose factors are tried in every order (a longer one is tried
#: reversed only), and how many reorderings of one expression are tried at most.
ORDER_FACTORS = 4
ORDER_VARIANTS = 24
#: How many variants replacing one quantity are tried at most.
LAYER_VARIANTS = 32
#: symbol → the symbol the details print in its place (the profile's name: δ^{[2]} for B2),
#: set by :func:`verify.claim_diagnosis.diagnose` for one diagnosis.
DISPLAY: ContextVar = ContextVar("display", default={})


def _shape(expr) -> tuple:
    return tuple(expr.shape) if isinstance(expr, sp.MatrixExpr) else (1, 1)


def text(expr) -> str:
    """An expression in a detail: its LaTeX, in the profile's names where :data:`DISPLAY`
    gives them (else the engine's: W_{2}, a_{1})."""
    expr = expr.xreplace(DISPLAY.get()).replace(
        lambda e: isinstance(e, sp.Subs) and isinstance(e.expr, sp.Derivative) and
        len(e.point) == 1 and isinstance(e.expr.expr, sp.Function),
        lambda e: sp.Function(f"{sp.latex(e.expr.expr.func)}'")(*e.point))  # σ'(z), not d/du
    try:
        return latex_matrix(expr)
    except (TypeError, ValueError, AttributeError, NotImplementedError):
        return sp.sstr(expr)


def _derivative_nodes(expr) -> list:
    """The elementwise applications of an activation derivative Φ' in ``expr``."""
    found = []
    for node in sp.preorder_traversal(expr):
        if isinstance(node, ElementwiseApplyFunction) and node not in found:
            body = node.function.expr
            if body.has(sp.Derivative) or any(isinstance(e, ActivationPrime)
                                              for e in sp.preorder_traversal(body)):
                found.append(node)
    return found


def truth_variants(problem, full_truth):
    """(class, detail, expression) of the truth's relatives with Φ' dropped or made Φ."""
    nodes = _derivative_nodes(full_truth)
    variants = []
    for node in nodes:
        ones = sp.OneMatrix(*node.shape)
        variants.append(("missing_activation_derivative",
                         "the activation derivative is missing (the claim equals the true "
                         "value without its factor Φ')", full_truth.xreplace({node: ones})))
    for node in nodes:
        variants.append(("wrong_activation_derivative",
                         "the activation derivative applied twice (Φ' ⊙ Φ' where the chain "
                         "rule has Φ' once)",
                         full_truth.xreplace({node: sp.HadamardProduct(node, node)})))
    if len(nodes) > 1:
        variants.append(("missing_activation_derivative",
                         "every activation derivative is missing",
                         full_truth.xreplace({n: sp.OneMatrix(*n.shape) for n in nodes})))
    others = [activation_functions()[name] for name in COMMON_ACTIVATIONS]
    for node in nodes:
        body = node.function.expr
        t = node.function.variables[0]
        for function in others:
            swapped = body.replace(lambda e, f=function: isinstance(e, ActivationPrime) and
                                   e.base is not f,
                                   lambda e, f=function: prime_function(f)(*e.args))
            if swapped != body:
                variants.append(("wrong_activation_derivative", "the derivative of another "
                                 f"activation ({function.__name__}') in place of Φ'",
                                 full_truth.xreplace({node: ElementwiseApplyFunction(
                                     sp.Lambda(t, swapped), node.expr)})))
        replaced = body.replace(lambda e: isinstance(e, ActivationPrime),
                                lambda e: e.base(*e.args))
        if replaced != body:
            t = node.function.variables[0]
            variants.append(("wrong_activation_derivative",
                             "the activation Φ is used in place of its derivative Φ'",
                             full_truth.xreplace({node: ElementwiseApplyFunction(
                                 sp.Lambda(t, replaced), node.expr)})))
    return variants


def term_variants(full_truth):
    """(class, detail, expression) of the truth with one of its terms dropped, or one term
    doubled in place of two (the symmetric-part mistake: 2Av for (A + Aᵀ)v)."""
    try:
        expanded = sp.expand(full_truth)
    except (TypeError, ValueError, AttributeError, NotImplementedError):
        return []
    if not isinstance(expanded, sp.MatAdd) or len(expanded.args) > 6:
        return []
    terms = list(expanded.args)
    variants = []
    for k, term in enumerate(terms):
        rest = [t for j, t in enumerate(terms) if j != k]
        variants.append(("missing_term", f"a term of the true value is missing: {text(term)}",
                         sp.MatAdd(*rest) if len(rest) > 1 else rest[0]))
    if len(terms) == 2:
        for term in terms:
            variants.append(("missing_term", f"one term counted twice ({text(2 * term)}) in "
                             f"place of {text(expanded)}: true only for a symmetric "
                             "matrix", 2 * term))
    return variants + _coupling_variants(terms)


def inner_term_variants(full_truth) -> list:
    """(class, detail, expression) of the truth with a term dropped from a sum inside it (the
    − y of a − y dropped inside a signal: W^{[2]T} a^{[2]} for W^{[2]T} (a^{[2]} − y))."""
    variants = []
    for node in sp.preorder_traversal(full_truth):
        if node is full_truth or not isinstance(node, sp.MatAdd) or len(node.args) > 4:
            continue
        for k, term in enumerate(node.args):
            rest = [t for j, t in enumerate(node.args) if j != k]
            variants.append(("missing_term", f"a term is missing inside the true value: "
                             f"{text(term)} of {text(node)}",
                             full_truth.xreplace({node: sp.MatAdd(*rest) if len(rest) > 1
                                                  else rest[0]})))
        if len(variants) >= 8:
            break
    return variants


def _inner_product(matrix):
    """(p, q) with ``matrix`` = pᵀq, p and q columns (pᵀq₁ + pᵀq₂ read as pᵀ(q₁ + q₂)), or
    ``None``."""
    terms = matrix.args if isinstance(matrix, sp.MatAdd) else (matrix,)
    first, rests = None, []
    for term in terms:
        coefficient = sp.Integer(1)
        factors = list(term.args) if isinstance(term, sp.MatMul) else [term]
        while factors and not isinstance(factors[0], sp.MatrixExpr):
            coefficient *= factors.pop(0)
        if len(factors) < 2 or not isinstance(factors[0], sp.Transpose):
            return None
        if first is None:
            first = factors[0].arg
        elif factors[0].arg != first:
            return None
        rest = factors[1:]
        rests.append(coefficient * (rest[0] if len(rest) == 1 else sp.MatMul(*rest)))
    if first is None or _shape(first)[1] != 1:
        return None
    return first, (rests[0] if len(rests) == 1 else sp.MatAdd(*rests))


def _coupling_variants(terms) -> list:
    """(class, detail, expression) of the sum of ``terms`` with one coupling term
    c·(pᵀq)·r — p, q, r columns of one shape — kept on its diagonal only: c·(r ⊙ p ⊙ q), the
    diagonal of the matrix r pᵀ applied to q (softmax's Jacobian diag(a) − a aᵀ treated as
    diagonal, as if softmax were elementwise)."""
    variants = []
    for k, term in enumerate(terms):
        scalars = [f for f in term.args if not isinstance(f, sp.MatrixExpr)] \
            if isinstance(term, sp.MatMul) else []
        matrices = [f for f in term.args if isinstance(f, sp.MatrixExpr)] \
            if isinstance(term, sp.MatMul) else []
        if len(matrices) != 1:
            continue
        r = matrices[0]
        coefficient = sp.Mul(*scalars)
        for inner in coefficient.atoms(AsScalar):
            found = _inner_product(inner.matrix)
            if found is None:
                continue
            p, q = found
            if not (_shape(p) == _shape(q) == _shape(r) and _shape(r)[1] == 1):
                continue
            rest = sp.simplify(coefficient / inner)
            if rest.has(AsScalar):
                continue
            diagonal = rest * sp.HadamardProduct(r, p, q)
            others = [t for j, t in enumerate(terms) if j != k]
            variants.append(("missing_term", "the coupling term "
                             f"{text(term)} is kept on its diagonal only "
                             f"({text(diagonal)}): the off-diagonal part of the Jacobian "
                             "is missing (softmax is not elementwise)",
                             sp.MatAdd(*others, diagonal)))
    return variants


def _reorderings(node) -> list:
    """The matrix products of ``node``'s factors in every other order whose shapes chain to
    ``node``'s shape (in a product of more than :data:`ORDER_FACTORS` factors, one run of
    consecutive factors reversed)."""
    factors = [f for f in node.args if isinstance(f, sp.MatrixExpr)]
    scalar = sp.Mul(*[f for f in node.args if not isinstance(f, sp.MatrixExpr)])
    if len(factors) < 2:
        return []
    found = []
    count = len(factors)
    orders = itertools.permutations(range(count)) if count <= ORDER_FACTORS else \
        [tuple(range(i)) + tuple(reversed(range(i, j))) + tuple(range(j, count))
         for i in range(count) for j in range(i + 2, count + 1)]
    for order in orders:
        if list(order) == sorted(order):
            continue
        chain = [factors[i] for i in order]
        if any(_shape(a)[1] != _shape(b)[0] for a, b in zip(chain, chain[1:])):
            continue
        if (_shape(chain[0])[0], _shape(chain[-1])[1]) != _shape(node):
            continue
        reordered = sp.MatMul(scalar, *chain) if scalar != 1 else sp.MatMul(*chain)
        if reordered != node:
            found.append(reordered)
    return found


def order_variants(expr, whose: str) -> list:
    """(class, detail, expression) of ``expr`` with the factors of one of its matrix
    products in another order (``whose``: "claim" or "truth", for the detail)."""
    variants = []
    for node in sp.preorder_traversal(expr):
        if not isinstance(node, sp.MatMul):
            continue
        for reordered in _reorderings(node):
            if whose == "claim":
                detail = (f"the factors of {text(node)} are in the wrong order: the true "
                          f"value has {text(reordered)}")
            else:
                detail = (f"the factors of {text(reordered)} are in the wrong order: the "
                          f"true value has {text(node)}")
            variants.append(("wrong_order", detail, expr.xreplace({node: reordered})))
            if len(variants) >= ORDER_VARIANTS:
                return variants
    return variants


def _scalar_derivatives(expr) -> list:
    """The activation derivatives Φ'(s) of a scalar (a 1×1 pre-activation) in ``expr``,
    outside the bodies of elementwise functions."""
    found = []

    def visit(node):
        if isinstance(node, ElementwiseApplyFunction):
            return visit(node.expr)
        if isinstance(node, ActivationPrime) or isinstance(node, sp.Subs) and \
                node.expr.has(sp.Derivative):
            if node not in found:
                found.append(node)
            return None
        for arg in node.args:
            visit(arg)
        return None

    visit(expr)
    return found


def extra_derivative_variants(full_claim) -> list:
    """(class, detail, expression) of the claim with one of its activation derivatives Φ'
    dropped: the claim has a derivative too many."""
    detail = ("an activation derivative too many (the signal it multiplies already holds "
              "the activation's derivative, as a fused a − y does)")
    return [("wrong_activation_derivative", detail,
             full_claim.xreplace({node: sp.OneMatrix(*node.shape)}))
            for node in _derivative_nodes(full_claim)] + \
        [("wrong_activation_derivative", detail, full_claim.xreplace({node: sp.Integer(1)}))
         for node in _scalar_derivatives(full_claim)]


def claim_variants(full_claim):
    """(class, detail, expression) of the claim with one ⊙ made a matrix product or one
    matrix product of two equal-shaped factors made ⊙."""
    variants = []
    for node in sp.preorder_traversal(full_claim):
        if isinstance(node, sp.HadamardProduct) and len(node.args) == 2:
            first, second = node.args
            for left, right in ((first, second), (second, first)):
                if _shape(left)[1] == _shape(right)[0]:
                    swapped = sp.MatMul(left, right)
                    if _shape(swapped) == _shape(node):
                        variants.append(("hadamard_vs_matmul",
                                         "a Hadamard product ⊙ where the truth has a matrix "
                                         "product", full_claim.xreplace({node: swapped})))
        elif isinstance(node, sp.MatMul):
            factors = [f for f in node.args if isinstance(f, sp.MatrixExpr)]
            scalar = sp.Mul(*[f for f in node.args if not isinstance(f, sp.MatrixExpr)])
            if len(factors) == 2 and _shape(factors[0]) == _shape(factors[1]):
                swapped = scalar * sp.HadamardProduct(*factors)
                variants.append(("hadamard_vs_matmul",
                                 "a matrix product where the truth has a Hadamard product ⊙",
                                 full_claim.xreplace({node: swapped})))
    return variants[:8]


def _replace_at(expr, target, new, k: int):
    """``expr`` with the k-th occurrence (in preorder) of the subtree ``target`` replaced by
    ``new``."""
    seen = [0]

    def walk(node):
        if node == target:
            seen[0] += 1
            return new if seen[0] - 1 == k else node
        if not node.args or isinstance(node, sp.MatrixSymbol):
            return node
        args = [walk(arg) for arg in node.args]
        if all(a is b for a, b in zip(args, node.args)):
            return node
        return node.func(*args)

    return walk(expr)


def _count(expr, target) -> int:
    return sum(1 for node in sp.preorder_traversal(expr) if node == target)


def _quantities(expr) -> list:
    """The named matrices of ``expr``: its matrix symbols, their inverses and W̃ without its
    bias column."""
    found = set(expr.atoms(sp.MatrixSymbol)) | \
        {node for node in sp.preorder_traversal(expr) if type(node).__name__ == "DropBias"
         or isinstance(node, sp.Inverse) and isinstance(node.arg, sp.MatrixSymbol)}
    return sorted(found, key=sp.default_sort_key)


def exchange_variants(problem, claim) -> list:
    """(class, detail, expression) of the claim with two quantities of neighbouring layers
    and one shape exchanged (W^{[3]} where W^{[2]} goes and the reverse: the layers' factors
    multiplied in the wrong order)."""
    variants = []
    present = claim.atoms(sp.MatrixSymbol)
    for symbol in sorted(present, key=sp.default_sort_key):
        for other in problem.neighbours.get(symbol, ()):
            if other in present and sp.default_sort_key(symbol) < sp.default_sort_key(other):
                variants.append(("wrong_order", f"{text(symbol)} and {text(other)} are "
                                 "exchanged: the layers' factors are in the wrong order",
                                 claim.xreplace({symbol: other, other: symbol})))
    return variants


def layer_variants(problem, claim):
    """(class, detail, expression) of the claim with a quantity replaced by the same quantity
    of the layer next to it (everywhere, or at one of its places), or a square matrix's
    transpose mark moved (missing where it is needed, present where it is not)."""
    variants = []
    present = _quantities(claim)
    for symbol in present:
        for other in problem.neighbours.get(symbol, ()):
            detail = f"{text(symbol)} where the truth has {text(other)}: a quantity of the " \
                "wrong layer"
            variants.append(("wrong_layer", detail, claim.xreplace({symbol: other})))
            places = _count(claim, symbol)
            if places > 1:
                variants += [("wrong_layer", detail, _replace_at(claim, symbol, other, k))
                             for k in range(min(places, 4))]
    for symbol in present:
        if symbol.shape[0] == symbol.shape[1] and symbol.shape != (1, 1):
            transposed = sp.Transpose(symbol)
            hidden = sp.MatrixSymbol("_hidden", *symbol.shape)
            kept = claim.xreplace({transposed: sp.Transpose(hidden)})
            variants += [("missing_transpose", f"{text(symbol)} where the truth has its "
                          "transpose", _replace_at(kept, symbol, transposed, k).xreplace(
                              {hidden: symbol}))
                         for k in range(min(_count(kept, symbol), 3))]
            variants.append(("missing_transpose", f"{text(symbol)} where the truth has its "
                             "transpose", kept.xreplace({symbol: transposed}).xreplace(
                                 {hidden: symbol})))
            variants.append(("missing_transpose", f"{text(symbol)}ᵀ where the truth has "
                             f"{text(symbol)}", claim.xreplace({transposed: symbol})))
    unique = []
    for variant in variants:
        if variant[2] != claim and all(variant[2] != u[2] for u in unique):
            unique.append(variant)
    return unique[:LAYER_VARIANTS]


__all__ = ["COMMON_ACTIVATIONS", "DISPLAY", "LAYER_VARIANTS", "ORDER_FACTORS", "ORDER_VARIANTS",
           "claim_variants", "exchange_variants", "extra_derivative_variants", "layer_variants",
           "order_variants",
           "term_variants", "text", "truth_variants"]
