"""The name of a mistake: which near relative of the truth a wrong claim equals (SPEC §7).

At the point where the claim was found wrong, its value is compared with the values of the
truth's near relatives, in this order, and the first that matches names the mistake:

- the transpose (the other layout's shape: ``layout_swap`` for a derivative,
  ``missing_transpose`` for a gradient ∇, whose shape does not depend on the layout);
- a constant multiple: −1 ``wrong_sign``, c > 1 ``extra_factor``, c < 1 ``missing_factor``
  (with the value: ×2, ×1/2), or a power of one of the scalar inputs (×N, ×1/N, ×N/2);
- the truth with an activation derivative Φ' dropped (``missing_activation_derivative``),
  replaced by Φ itself or by another activation's derivative (σ' for tanh')
  (``wrong_activation_derivative``);
- the truth with one of its terms dropped, or one counted twice in place of two (2Av for
  (A + Aᵀ)v: the symmetric part), or a coupling term r (pᵀq) — the off-diagonal part of a
  Jacobian such as softmax's diag(a) − a aᵀ — kept only on its diagonal, r ⊙ p ⊙ q
  (``missing_term``);
- the truth with the factors of one of its matrix products in another order
  (``wrong_order``);
- the claim with the factors of one of its matrix products in another order, where the shapes
  allow (``wrong_order``);
- the claim with one of its activation derivatives Φ' dropped: a derivative too many, as
  (a − y) ⊙ σ'(z) where the fused signal a − y already holds it
  (``wrong_activation_derivative``);
- the claim with a Hadamard product read as a matrix product or the reverse, where the
  shapes allow (``hadamard_vs_matmul``);
- the claim with two quantities of neighbouring layers exchanged (``wrong_order``: the
  layers' factors multiplied in the wrong order), or one layer's quantity (a^{[1]},
  W^{[2]}, δ^{[3]}) replaced by the same quantity of a layer next to it, everywhere or at one
  of its places, where the shapes allow (``wrong_layer``), or a square matrix's transpose mark
  moved (``missing_transpose``);

and otherwise ``other``.  A match at the one point is confirmed at two more before it is
named, so a name is never a coincidence of one point.

A product that cannot be formed (``x^T \\delta`` for δ xᵀ, ``W v`` for Wᵀv, ``u v`` for u ⊙ v)
makes the claim unreadable; its two factors swapped, one of them transposed, or the two
multiplied entrywise in the text are checked again (:func:`reordered_texts`), and when that
reading is right (or, swapped, wrong by a named mistake) the mistake is ``wrong_order``,
``missing_transpose`` or ``hadamard_vs_matmul`` too.
"""

from __future__ import annotations

import random

import sympy as sp

from .claim_points import AGREEMENT, evaluate, ratio, same
from .claim_relatives import (DISPLAY, claim_variants, exchange_variants,
                              extra_derivative_variants, inner_term_variants, layer_variants,
                              order_variants, term_variants, truth_variants)
from .verdict import Diagnosis

#: Points a named relative must also match at.
CONFIRMATIONS = 2
#: Powers of a scalar input tried as the factor between a claim and the truth (×N, ×1/N).
SCALAR_POWERS = (1, -1, 2, -2)
#: The largest numerator and denominator of the constant in such a factor (N/2, 2/N).
FACTOR_HEIGHT = 12


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


def _factor_text(factor) -> str:
    """A factor as the detail writes it: 2, 1/2, N, 1/N, N/2."""
    return sp.sstr(factor)


def _monomial_diagnosis(factor, truth) -> list:
    """The diagnosis of a claim ``factor`` times the truth, ``factor`` = k·s^p for a scalar
    input s (p ≠ 0): the sign, then ``missing_factor`` when the claim lacks a factor (×N
    where the truth divides by N, ×1/λ where it multiplies by λ), ``extra_factor``
    otherwise (×λ, ×1/N where the truth has no N)."""
    k, _ = factor.as_coeff_Mul()
    symbol = next(iter(factor.free_symbols))
    divides = any(power.base == symbol and power.exp.is_negative
                  for power in truth.atoms(sp.Pow))
    multiplies = symbol in truth.free_symbols and not divides
    grows = sp.degree(factor.as_numer_denom()[0], symbol) > 0
    found = []
    if k < 0:
        found.append(Diagnosis("wrong_sign", f"the claim is {_factor_text(factor)} times the "
                               "true value"))
        factor = -factor
    if (grows and divides) or (not grows and multiplies):
        found.append(Diagnosis("missing_factor", f"the claim is {_factor_text(factor)} times "
                               f"the true value (a factor {_factor_text(1 / factor)} is "
                               "missing)"))
    else:
        found.append(Diagnosis("extra_factor", f"the claim is {_factor_text(factor)} times "
                               f"the true value (an extra factor {_factor_text(factor)})"))
    return found


def _monomial_factors(claimed, true, point: dict) -> list:
    """Candidate factors k·s^p (s a scalar input of ``point``, p in :data:`SCALAR_POWERS`,
    k a rational of small height) with claimed = k·s^p · true at the point."""
    pairs = [(a, b) for a, b in zip(claimed, true) if abs(b) > AGREEMENT]
    if not pairs or claimed.shape != true.shape:
        return []
    c = pairs[0][0] / pairs[0][1]
    found = []
    for symbol in sorted((s for s in point if isinstance(s, sp.Symbol)),
                         key=sp.default_sort_key):
        for power in SCALAR_POWERS:
            k = sp.nsimplify(c / point[symbol] ** power, rational=True,
                             tolerance=sp.Float(10) ** -30)
            if not isinstance(k, sp.Rational) or k == 0 or abs(k.p) > FACTOR_HEIGHT or \
                    k.q > FACTOR_HEIGHT:
                continue
            factor = k * symbol ** power
            value = factor.subs(symbol, point[symbol])
            if same(claimed, true.applyfunc(lambda t, v=value: v * t)):
                found.append(factor)
    return found


def _named_variants(problem, full_claim) -> list:
    """The claim's variants that exchange or replace named quantities: of the claim as
    written (δ^{[2]} for δ^{[3]}, its signals then written out), and of the claim with its
    signals written out (a^{[1]} for x inside them)."""
    written = [(cls, detail, problem.signals(variant)) for cls, detail, variant in
               exchange_variants(problem, problem.claim) + layer_variants(problem, problem.claim)]
    return written + exchange_variants(problem, full_claim) + layer_variants(problem, full_claim)


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
    token = DISPLAY.set(getattr(problem, "display", {}))
    try:
        return _search(problem, full_claim, full_truth, inputs, point, claimed, true)
    finally:
        DISPLAY.reset(token)


def _search(problem, full_claim, full_truth, inputs, point: dict, claimed, true) -> list:
    """:func:`diagnose`, the names of the details set."""
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
    for factor in _monomial_factors(claimed, reference, point):
        def scaled(p, cl, t, f=factor):
            value = f.subs({s: p[s] for s in f.free_symbols})
            return same(cl, (t.T if problem.transposed else t).applyfunc(lambda e: value * e))
        if confirmed(scaled):
            found = _monomial_diagnosis(factor, full_truth)
            if problem.transposed:
                found.insert(0, Diagnosis(swap, swap_detail))
            return found
    oriented = full_truth.T if problem.transposed else full_truth
    for cls, detail, variant in truth_variants(problem, oriented) + term_variants(oriented) \
            + order_variants(oriented, "truth") + inner_term_variants(oriented):
        if _matches(full_claim, variant, point) and \
                confirmed(lambda p, cl, t, v=variant: _matches(full_claim, v, p)):
            return [Diagnosis(cls, detail)]
    for cls, detail, variant in order_variants(full_claim, "claim") + \
            extra_derivative_variants(full_claim) + claim_variants(full_claim) + \
            _named_variants(problem, full_claim):
        if _matches(variant, oriented, point) and \
                confirmed(lambda p, cl, t, v=variant: _matches(v, oriented, p)):
            return [Diagnosis(cls, detail)]
    return [Diagnosis("other", "the claim differs from the true value (see the "
                      "counterexample)")]


def reordered_texts(text: str, error) -> list:
    r"""(text, product, class) of the claim ``text`` repaired at the product the reader could
    not form (``error.operands``: its two factors' spans): the factors swapped
    (``wrong_order``), the first or the second transposed (``missing_transpose``), the two
    multiplied entrywise (``hadamard_vs_matmul``); or ``[]``.

    >>> class Failed:
    ...     operands = ((0, 3), (4, 10))
    >>> [repaired for repaired, _, _ in reordered_texts(r"x^T \delta + c", Failed())]
    ['\\delta x^T + c', '{x^T}^T \\delta + c', 'x^T {\\delta}^T + c', 'x^T \\odot \\delta + c']
    """
    operands = getattr(error, "operands", None)
    if not operands:
        return []
    (left_start, left_end), (right_start, right_end) = operands
    if not 0 <= left_start < left_end <= right_start < right_end <= len(text):
        return []
    left, right = text[left_start:left_end].strip(), text[right_start:right_end].strip()
    between = text[left_end:right_start]
    if between.strip() not in ("", r"\cdot", "*", r"\times"):
        return []
    before, after = text[:left_start], text[right_end:]
    spacer = between if between.strip() else " "
    repairs = [(right, spacer, left, "wrong_order"),
               (f"{{{left}}}^T", spacer, right, "missing_transpose"),
               (left, spacer, f"{{{right}}}^T", "missing_transpose"),
               (left, r" \odot ", right, "hadamard_vs_matmul")]
    return [(f"{before}{first}{joint}{second}{after}", f"{first}{joint}{second}", cls)
            for first, joint, second, cls in repairs]


def order_diagnosis(text: str, error, check) -> list:
    """The diagnosis of a claim whose product cannot be formed, when the repaired product
    (:func:`reordered_texts`) gives the true value — ``wrong_order`` (the factors swapped) or
    ``missing_transpose``, then the reader's ``shape_mismatch`` — or, swapped, a value wrong by
    a named mistake (``wrong_order`` then that mistake); ``[]`` otherwise.

    ``check`` maps a claim's text to its verdict.
    """
    repairs = [(repaired, product, cls, check(repaired))
               for repaired, product, cls in reordered_texts(text, error)]
    for _, product, cls, verdict in repairs:
        if verdict.verdict == "correct":
            how = {"wrong_order": "in the other order", "missing_transpose": "with a transpose",
                   "hadamard_vs_matmul": "entrywise"}[cls]
            return [Diagnosis(cls, "the product cannot be formed as written; "
                              f"{how}, {product}, it is the true value")]
    for _, product, cls, verdict in repairs[:1]:
        if verdict.verdict == "incorrect" and verdict.diagnosis[0].cls != "other":
            return [Diagnosis(cls, "the product cannot be formed as written; in the other "
                              f"order, {product}, it is still wrong (below)")] + \
                list(verdict.diagnosis)
    return []


__all__ = ["CONFIRMATIONS", "FACTOR_HEIGHT", "SCALAR_POWERS", "diagnose", "order_diagnosis",
           "reordered_texts"]
