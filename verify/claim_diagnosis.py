"""The name of a mistake: which near relative of the truth a wrong claim equals (SPEC §7).

At the point where the claim was found wrong, its value is compared with the values of the
truth's near relatives, in this order, and the first that matches names the mistake:

- the transpose (the other layout's shape: ``layout_swap`` for a derivative,
  ``missing_transpose`` for a gradient ∇, whose shape does not depend on the layout);
- a constant multiple: −1 ``wrong_sign``, c > 1 ``extra_factor``, c < 1 ``missing_factor``
  (with the value: ×2, ×1/2);
- the truth with an activation derivative Φ' dropped (``missing_activation_derivative``),
  replaced by Φ itself or by another activation's derivative (σ' for tanh')
  (``wrong_activation_derivative``);
- the truth with one of its terms dropped, or one counted twice in place of two (2Av for
  (A + Aᵀ)v: the symmetric part) (``missing_term``);
- the claim with a Hadamard product read as a matrix product or the reverse, where the
  shapes allow (``hadamard_vs_matmul``);
- the claim with one layer's quantity (a^{[1]}, W^{[2]}) replaced by the same quantity of a
  layer next to it, where the shapes allow (``wrong_layer``);

and otherwise ``other``.  A match at the one point is confirmed at two more before it is
named, so a name is never a coincidence of one point.
"""

from __future__ import annotations

import random

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from derive.calculus.matrix_nodes import ActivationPrime, prime_function
from derive.jacobians import activation_functions

from .claim_points import evaluate, ratio, same
from .verdict import Diagnosis

#: Points a named relative must also match at.
CONFIRMATIONS = 2
#: The activations whose derivative a claim may put in place of the network's own.
COMMON_ACTIVATIONS = ("sigmoid", "tanh", "relu")


def _shape(expr) -> tuple:
    return tuple(expr.shape) if isinstance(expr, sp.MatrixExpr) else (1, 1)


def _transposed(value: sp.MatrixBase) -> sp.MatrixBase:
    return value.T


def _factor_diagnosis(c, batch_size=None) -> list:
    if batch_size is not None and abs(c) in (batch_size, sp.Rational(1, batch_size)):
        found = [Diagnosis("wrong_sign", "the claim has the opposite sign")] if c < 0 else []
        if abs(c) == batch_size:
            return found + [Diagnosis("missing_factor", "the factor 1/N is missing: not "
                                      "averaged over the batch (the claim is N times the "
                                      "true value)")]
        return found + [Diagnosis("extra_factor", "an extra factor 1/N (the claim is the "
                                  "true value divided by N)")]
    if c == -1:
        return [Diagnosis("wrong_sign", "the claim is the opposite of the true value")]
    found = []
    if c < 0:
        found.append(Diagnosis("wrong_sign", f"the claim is {c} times the true value"))
        c = -c
    if c > 1:
        found.append(Diagnosis("extra_factor", f"the claim is {c} times the true value "
                               f"(an extra factor {c})"))
    else:
        found.append(Diagnosis("missing_factor", f"the claim is {c} times the true value "
                               f"(a factor {1 / c} is missing)"))
    return found


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


def _truth_variants(problem, full_truth):
    """(class, detail, expression) of the truth's relatives with Φ' dropped or made Φ."""
    nodes = _derivative_nodes(full_truth)
    variants = []
    for node in nodes:
        ones = sp.OneMatrix(*node.shape)
        variants.append(("missing_activation_derivative",
                         "the activation derivative is missing (the claim equals the true "
                         "value without its factor Φ')", full_truth.xreplace({node: ones})))
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


def _term_variants(full_truth):
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
        variants.append(("missing_term", f"a term of the true value is missing: {term}",
                         sp.MatAdd(*rest) if len(rest) > 1 else rest[0]))
    if len(terms) == 2:
        for term in terms:
            variants.append(("missing_term", f"one term counted twice ({sp.sstr(2 * term)}) in "
                             f"place of {sp.sstr(expanded)}: true only for a symmetric "
                             "matrix", 2 * term))
    return variants


def _claim_variants(full_claim):
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


def _replaced(expr, symbol, new, where: str):
    """``expr`` with ``symbol`` replaced by ``new`` where it is transposed (``where="T"``),
    where it is not (``"bare"``), or everywhere (``"all"``)."""
    if where == "all":
        return expr.xreplace({symbol: new})
    if where == "T":
        return expr.xreplace({sp.Transpose(symbol): new.T})
    hidden = sp.MatrixSymbol("_hidden", *symbol.shape)
    kept = expr.xreplace({sp.Transpose(symbol): sp.Transpose(hidden)})
    return kept.xreplace({symbol: new}).xreplace({hidden: symbol})


def _layer_variants(problem, full_claim):
    """(class, detail, expression) of the claim with one quantity replaced by the same
    quantity of the layer next to it (everywhere, where transposed, where not), or a square
    matrix's transpose mark moved (missing where it is needed, present where it is not)."""
    variants = []
    present = sorted(full_claim.atoms(sp.MatrixSymbol), key=sp.default_sort_key)
    for symbol in present:
        for other in problem.neighbours.get(symbol, ()):
            for where in ("all", "T", "bare"):
                variants.append(("wrong_layer", f"{symbol} where the truth has {other}: a "
                                 "quantity of the wrong layer",
                                 _replaced(full_claim, symbol, other, where)))
    for symbol in present:
        if symbol.shape[0] == symbol.shape[1] and symbol.shape != (1, 1):
            variants.append(("missing_transpose", f"{symbol} where the truth has its "
                             "transpose", _replaced(full_claim, symbol, symbol.T, "bare")))
            variants.append(("missing_transpose", f"{symbol}ᵀ where the truth has {symbol}",
                             full_claim.xreplace({sp.Transpose(symbol): symbol})))
    unique = []
    for variant in variants:
        if variant[2] != full_claim and all(variant[2] != u[2] for u in unique):
            unique.append(variant)
    return unique[:16]


def _matches(expr_claim, expr_truth, point) -> bool:
    try:
        return same(evaluate(expr_claim, point), evaluate(expr_truth, point))
    except (ValueError, TypeError, AttributeError, sp.ShapeError):
        return False


def diagnose(problem, full_claim, full_truth, inputs, point: dict, claimed, true) -> list:
    """The diagnosis of a wrong claim (at least ``other``).

    Parameters
    ----------
    problem : verify.claims.Problem
        Its ``sample`` draws the confirming points.
    full_claim, full_truth : matrix expressions
        Over the inputs and the forward values; ``full_truth`` in the expected form.
    inputs : list
        The symbols a point gives values to.
    point : dict
        Where the claim was found wrong (inputs and forward values); ``claimed`` and ``true``
        the two values there.
    """
    rng = random.Random(len(inputs) + 7)
    checks = []

    def confirmed(test) -> bool:
        for _ in range(4 * CONFIRMATIONS):
            if len(checks) >= CONFIRMATIONS:
                break
            try:
                _, extra = problem.sample(inputs, rng)
                checks.append((extra, evaluate(full_claim, extra), evaluate(full_truth, extra)))
            except ValueError:
                continue
        return len(checks) >= CONFIRMATIONS and all(test(*check) for check in checks)

    swap = "missing_transpose" if problem.gradient else "layout_swap"
    swap_detail = ("the claim is the transpose of the gradient" if problem.gradient else
                   "the claim is the derivative in the other layout (the transpose)")
    # the claim is the transpose: of the other layout's shape, or square
    if (problem.transposed or claimed.shape == claimed.shape[::-1]) and \
            same(claimed, true.T) and confirmed(lambda p, c, t: same(c, t.T)):
        return [Diagnosis(swap, swap_detail)]
    reference = true.T if problem.transposed else true
    c = ratio(claimed, reference)
    if c is not None and confirmed(
            lambda p, cl, t: same(cl, (t.T if problem.transposed else t).applyfunc(
                lambda e: c * e))):
        found = _factor_diagnosis(c, problem.batch_size)
        if problem.transposed:
            found.insert(0, Diagnosis(swap, swap_detail))
        return found
    oriented = full_truth.T if problem.transposed else full_truth
    for cls, detail, variant in _truth_variants(problem, oriented) + _term_variants(oriented):
        if _matches(full_claim, variant, point) and \
                confirmed(lambda p, cl, t, v=variant: _matches(full_claim, v, p)):
            return [Diagnosis(cls, detail)]
    for cls, detail, variant in _claim_variants(full_claim) + \
            _layer_variants(problem, full_claim):
        if _matches(variant, oriented, point) and \
                confirmed(lambda p, cl, t, v=variant: _matches(v, oriented, p)):
            return [Diagnosis(cls, detail)]
    return [Diagnosis("other", "the claim differs from the true value (see the "
                      "counterexample)")]


__all__ = ["COMMON_ACTIVATIONS", "CONFIRMATIONS", "diagnose"]
