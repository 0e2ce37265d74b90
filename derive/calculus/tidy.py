"""The tidier: a result of the calculus rewritten into the form a textbook prints (equal to it).

:func:`tidy` pushes transposes to the leaves (and drops them on symmetric matrices), keeps each
entrywise node in one orientation (Φ(Zᵀ) = Φ(Z)ᵀ), collects like terms and common factors
(A v + Aᵀ v = (A + Aᵀ) v, c A + c B = c (A + B), P ⊙ v + Q ⊙ v = (P + Q) ⊙ v), uses
vᵀ(1/v) = k and 1ᵀ softmax(z) = 1, writes diag(v) u as v ⊙ u, and simplifies entrywise algebra
(:mod:`.entrywise`: with σ' = σ(1 − σ) the sigmoid/cross-entropy gradient cancels to σ(z) − y).
It knows nothing of the rules that produced its input: the walk of :mod:`.vjp_rules` and the vec
rules of :mod:`.vec` hand it their raw results.

Every rewriting applied is recorded as a :class:`~derive.calculus.steps.Rewrite` whose two sides
are equal expressions.

Glossary: ``c`` a scalar coefficient; an *entrywise node* is Φ(Z), A ⊙ B or A^∘k.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from .constructors import (ENTRY, as_entrywise, diagonal_of, hadamard, madd, merge_entrywise, mm,
                           split_product, transpose)
from .entrywise import simplify_entrywise
from .matrix_nodes import (Softmax, elementwise, hadamard_of, is_column, is_matrix, is_one_by_one,
                           is_row, to_scalar)
from .steps import Rewrite


def tidy(expr, symmetric=frozenset(), steps: list | None = None, hadamard_form: bool = True):
    """The textbook form of ``expr`` (equal to it).

    Transposes are pushed to the leaves (and dropped on symmetric matrices), except that an
    entrywise node keeps one orientation, Φ(Zᵀ) = Φ(Z)ᵀ and Aᵀ ⊙ Bᵀ = (A ⊙ B)ᵀ, so that equal
    terms look equal; like terms are collected (also entrywise functions of one argument,
    −1/z + 1/z = 0), common leading/trailing factors of a sum pulled out (A v + Aᵀ v → (A + Aᵀ) v),
    and common Hadamard factors too (P ⊙ v + Q ⊙ v → (P + Q) ⊙ v); inner products that are
    sums of entries simplify (vᵀ(1/v) = k for k entries, 1ᵀ softmax(z) = 1); and, when
    ``hadamard_form``, diag(u) w (w a column) is written u ⊙ w.
    """
    steps = steps if steps is not None else []
    return _Tidier(frozenset(symmetric), steps, hadamard_form).run(expr)


class _Tidier:
    def __init__(self, symmetric, steps, hadamard_form):
        self.symmetric, self.steps, self.hadamard_form = symmetric, steps, hadamard_form

    def run(self, expr):
        before = expr
        for _ in range(4):
            after = self.visit(before)
            if after == before:
                break
            before = after
        return before

    def visit(self, expr):
        if isinstance(expr, (sp.MatrixSymbol, sp.Symbol, sp.Number, sp.Identity, sp.ZeroMatrix,
                             sp.OneMatrix, sp.Dummy)) or not expr.args:
            return expr
        method = getattr(self, f"visit_{type(expr).__name__}", None)
        if method is not None:
            return method(expr)
        if isinstance(expr, ElementwiseApplyFunction):
            return self.orient(elementwise(expr.function, self.visit(expr.expr)))
        args = [self.visit(a) for a in expr.args]
        if is_matrix(expr):
            return expr.func(*args)
        return expr.func(*args)

    def visit_Transpose(self, expr):
        arg = self.visit(expr.arg)
        result = transpose(arg, self.symmetric)
        if result != sp.Transpose(arg) and not (isinstance(arg, sp.MatrixSymbol)
                                                 and arg not in self.symmetric):
            rule = ("A = Aᵀ (symmetric)" if arg in self.symmetric
                    else "(AB)ᵀ = BᵀAᵀ, (A + B)ᵀ = Aᵀ + Bᵀ, (Aᵀ)ᵀ = A")
            self.steps.append(Rewrite(rule, sp.Transpose(arg), result))
        return result

    def visit_Inverse(self, expr):
        return sp.Inverse(self.visit(expr.arg))

    def visit_Determinant(self, expr):
        arg = self.visit(expr.arg)
        if isinstance(arg, sp.Transpose):
            self.steps.append(Rewrite("det Aᵀ = det A", sp.Determinant(arg), sp.Determinant(arg.arg)))
            arg = arg.arg
        return sp.Determinant(arg)

    def visit_Trace(self, expr):
        arg = self.visit(expr.arg)
        if isinstance(arg, sp.Transpose):
            arg = arg.arg
        return sp.Trace(arg)

    def visit_AsScalar(self, expr):
        return to_scalar(self.visit(expr.matrix))

    def visit_MatMul(self, expr):
        coeff, factors = expr.as_coeff_matrices()
        factors = [self.visit(f) for f in factors]
        coeff = self.visit(coeff) if isinstance(coeff, sp.Basic) else coeff
        result = mm(coeff, *factors)
        if isinstance(result, sp.MatMul):
            result = self._softmax_sums(result)
        if isinstance(result, sp.MatMul):
            result = self._row_into_hadamard(result)
        if isinstance(result, sp.MatMul):
            result = self._trailing_scalar(result)
        if self.hadamard_form and isinstance(result, sp.MatMul):
            result = self._diag_to_hadamard(result)
        return result

    def _row_into_hadamard(self, product):
        """aᵀ (b ⊙ c) = (a ⊙ b)ᵀ c when a ⊙ b simplifies (sᵀ (y ⊙ 1/s) = 1ᵀ y); with no c,
        aᵀ b = 1ᵀ (a ⊙ b), and 1ᵀ1 = k for k entries (sᵀ (1/s) = k, xᵀAᵀ (1/(A x)) = k)."""
        coeff, factors = product.as_coeff_matrices()
        for start, stop, a, column in _inner_products(factors):
            parts = column.args if isinstance(column, sp.HadamardProduct) else (column,)
            for j, part in enumerate(parts):
                merged, extra = merge_entrywise([a, part])
                if len(merged) >= 2:
                    continue
                rest = parts[:j] + parts[j + 1:]
                left, right = factors[:start], factors[stop:]
                if merged or rest:
                    ones = merged[0] if merged else sp.OneMatrix(*a.shape)
                    inner_column = hadamard(*rest) if rest else sp.OneMatrix(*a.shape)
                    new = mm(coeff, *extra, *left, transpose(ones), inner_column, *right)
                    rule = "aᵀ (b ⊙ c) = (a ⊙ b)ᵀ c"
                else:
                    # a ⊙ b is a constant c: aᵀ b = c 1ᵀ1 = c k
                    new = mm(coeff, *extra, a.shape[0], *left, *right,
                             *([] if left or right else [sp.OneMatrix(1, 1)]))
                    rule = "aᵀ b = 1ᵀ (a ⊙ b), 1ᵀ1 = k (k entries)"
                self.steps.append(Rewrite(rule, product, new))
                return new
        return product

    def _softmax_sums(self, product):
        """1ᵀ S = 1ᵀ and Sᵀ 1 = 1 for S = softmax(Z): every column of a softmax sums to 1
        (1ᵀ softmax(z) = 1)."""
        coeff, factors = product.as_coeff_matrices()
        for i in range(len(factors) - 1):
            left, right = factors[i], factors[i + 1]
            if isinstance(left, sp.OneMatrix) and is_row(left) and isinstance(right, Softmax):
                ones = sp.OneMatrix(1, right.shape[1])
            elif (isinstance(left, sp.Transpose) and isinstance(left.arg, Softmax)
                  and isinstance(right, sp.OneMatrix) and is_column(right)):
                ones = sp.OneMatrix(left.shape[0], 1)
            else:
                continue
            outside = [*factors[:i], *factors[i + 2:]]
            if is_one_by_one(ones) and outside:
                new = mm(coeff, *outside)            # the 1×1 sum is the number 1
            else:
                new = mm(coeff, *factors[:i], ones, *factors[i + 2:])
            self.steps.append(Rewrite("1ᵀ softmax(Z) = 1ᵀ (each column sums to 1)", product, new))
            return new
        return product

    def _trailing_scalar(self, product):
        """M aᵀ b = (aᵀ b) M: a 1×1 product at the right end is a scalar coefficient
        (s 1ᵀ y = (1ᵀ y) s)."""
        coeff, factors = product.as_coeff_matrices()
        for i in range(1, len(factors) - 1):
            tail = mm(*factors[i:])
            if is_one_by_one(tail) and is_row(factors[i]):
                new = mm(coeff, to_scalar(tail), *factors[:i])
                self.steps.append(Rewrite("a 1×1 product is a scalar: M (aᵀ b) = (aᵀ b) M",
                                       product, new))
                return new
        return product

    def _diag_to_hadamard(self, product):
        coeff, factors = product.as_coeff_matrices()
        for i, factor in enumerate(factors):
            if isinstance(factor, sp.DiagMatrix) and is_column(factor.args[0]) and i + 1 < len(factors):
                rest = mm(*factors[i + 1:])
                if is_column(rest):
                    new = mm(coeff, *factors[:i], hadamard(factor.args[0], rest))
                    self.steps.append(Rewrite("diag(v) u = v ⊙ u", product, new))
                    return new
            if isinstance(factor, sp.DiagMatrix) and is_column(factor.args[0]) and i > 0:
                before = mm(*factors[:i])
                if is_row(before):
                    new = mm(coeff, transpose(hadamard(factor.args[0], transpose(before))),
                             *factors[i + 1:])
                    self.steps.append(Rewrite("uᵀ diag(v) = (v ⊙ u)ᵀ", product, new))
                    return new
        return product

    def visit_MatAdd(self, expr):
        terms = [self.visit(t) for t in expr.args]
        summed = madd(*terms)
        if not isinstance(summed, sp.MatAdd):
            return summed
        like = add_entrywise_terms(list(summed.args))
        if like != summed:
            self.steps.append(Rewrite("like terms: c Φ(Z) + d Ψ(Z) = (c Φ + d Ψ)(Z)", summed, like))
            if not isinstance(like, sp.MatAdd):
                return like
            summed = like
        by_hadamard = summed
        if sum(isinstance(split_product(t)[1][-1], sp.HadamardProduct) for t in summed.args) >= 2:
            by_hadamard = collect_hadamard_factors(list(summed.args))
        if by_hadamard != summed:
            self.steps.append(Rewrite("common entrywise factor: A ⊙ C + B ⊙ C = (A + B) ⊙ C",
                                   summed, by_hadamard))
            if not isinstance(by_hadamard, sp.MatAdd):
                return self.entrywise(by_hadamard)
            summed = by_hadamard
        collected = collect_factors(list(summed.args))
        if collected != summed:
            self.steps.append(Rewrite("collect common factors: A C + B C = (A + B) C", summed,
                                   collected))
        factored = pull_common_coefficient(collected)
        if factored != collected:
            self.steps.append(Rewrite("common factor: c A + c B = c (A + B)", collected, factored))
        return self.entrywise(factored)

    def visit_HadamardProduct(self, expr):
        return self.orient(self.entrywise(hadamard(*[self.visit(a) for a in expr.args])))

    def visit_HadamardPower(self, expr):
        return self.orient(sp.HadamardPower(self.visit(expr.base), expr.exp))

    def orient(self, expr):
        """An entrywise node in its one canonical orientation, so that equal terms look equal:
        Φ(Zᵀ) = Φ(Z)ᵀ and Aᵀ ⊙ Bᵀ = (A ⊙ B)ᵀ whenever that leaves fewer transposes inside
        (σ(aᵀWᵀ + bᵀ) = σ(W a + b)ᵀ, σ(Xᵀ) = σ(X)ᵀ), or as many and the node is a row (vectors
        are columns: exp(xᵀA) = exp(Aᵀx)ᵀ); never the other way."""
        result = _canonical_orientation(expr, self.symmetric)
        if result == expr:
            return expr
        self.steps.append(Rewrite("Φ(Zᵀ) = Φ(Z)ᵀ, Aᵀ ⊙ Bᵀ = (A ⊙ B)ᵀ (entrywise operations commute "
                               "with ᵀ)", expr, result))
        return result

    def entrywise(self, expr):
        simpler = simplify_entrywise(expr)
        if simpler != expr:
            self.steps.append(Rewrite("entrywise algebra (Φ' written out, terms cancelled)", expr,
                                   simpler))
        return simpler

    def visit_DiagonalOf(self, expr):
        return diagonal_of(self.visit(expr.arg))

    def visit_MatPow(self, expr):
        return sp.MatPow(self.visit(expr.base), expr.exp).doit(deep=False)


def _printed_transposes(expr) -> int:
    """The transposes a reader sees: Transpose nodes and rows of ones 1ᵀ (X Wᵀ + 1 bᵀ has two,
    as many as W Xᵀ + b 1ᵀ)."""
    return sum(1 for node in sp.preorder_traversal(expr)
               if isinstance(node, sp.Transpose)
               or (isinstance(node, sp.OneMatrix) and node.shape[0] == 1 and node.shape[1] != 1))


@lru_cache(maxsize=4096)
def _canonical_orientation(expr, symmetric):
    """``expr`` itself, or Fᵀ when the entrywise node ``expr`` = Fᵀ and F shows fewer
    transposes, or as many and ``expr`` is a row (see :meth:`_Tidier.orient`)."""
    if not isinstance(expr, (ElementwiseApplyFunction, sp.HadamardProduct, sp.HadamardPower)):
        return expr
    count = _printed_transposes(expr)
    if count == 0:
        return expr
    flipped = _flip_entrywise(expr, symmetric)
    flipped_count = _printed_transposes(flipped)
    row = is_row(expr) and not is_column(expr)
    if flipped_count > count or (flipped_count == count and not row):
        return expr
    return sp.Transpose(flipped)


def _flip_entrywise(expr, symmetric=frozenset()):
    """The entrywise node E with E = Fᵀ, F returned: Φ(Z) → Φ(Zᵀ), A ⊙ B → Aᵀ ⊙ Bᵀ,
    A^∘k → (Aᵀ)^∘k (transposes pushed down as :func:`transpose` does)."""
    if isinstance(expr, ElementwiseApplyFunction):
        return elementwise(expr.function, transpose(expr.expr, symmetric))
    if isinstance(expr, sp.HadamardPower):
        return sp.HadamardPower(transpose(expr.base, symmetric), expr.exp)
    return hadamard_of(*[transpose(t, symmetric) for t in expr.args])


_ENTRYWISE_NODES = (ElementwiseApplyFunction, sp.HadamardProduct, sp.HadamardPower)


def _inner_products(factors):
    """The inner products aᵀ b inside a product of ``factors``, as (start, stop, a, b) with
    factors[start:stop] = aᵀ b and one side a single factor: aᵀ then a column factor or the
    column the remaining factors make; an entrywise column after the row the factors from a
    row onwards make (xᵀAᵀ Φ(A x): a = A x)."""
    for i, factor in enumerate(factors[:-1]):
        if isinstance(factor, sp.Transpose) and is_column(factor.arg):
            if is_column(factors[i + 1]):
                yield i, i + 2, factor.arg, factors[i + 1]
            elif i + 2 < len(factors) and is_column(factors[-1]):
                yield i, len(factors), factor.arg, mm(*factors[i + 1:])
    for k, factor in enumerate(factors):
        if k < 2 or not (isinstance(factor, _ENTRYWISE_NODES) and is_column(factor)):
            continue
        start = next((j for j in range(k) if is_row(factors[j])), None)
        if start is not None and k - start >= 2:
            yield start, k + 1, transpose(mm(*factors[start:k])), factor


def collect_factors(terms: list):
    """Σ terms with the most frequent common trailing (then leading) factor pulled out.

    A term that is the factor itself (times a scalar) joins the group as c I:
    (xᵀx) Aᵀ + 2 x xᵀ Aᵀ = ((xᵀx) I + 2 x xᵀ) Aᵀ.
    """
    if len(terms) < 2:
        return madd(*terms)
    parts = [split_product(t) for t in terms]
    for side in (-1, 0):
        counts: Counter = Counter()
        for coeff, factors in parts:
            if len(factors) >= 2:
                counts[factors[side]] += 1
        for coeff, factors in parts:
            if len(factors) == 1 and counts[factors[0]]:
                counts[factors[0]] += 1
        candidates = [k for k, n in counts.items() if n >= 2]
        if not candidates:
            continue
        best = sorted(candidates, key=lambda k: (-counts[k], sp.default_sort_key(k)))[0]
        grouped, others = [], []
        for term, (coeff, factors) in zip(terms, parts):
            if len(factors) >= 2 and factors[side] == best:
                rest = factors[:-1] if side == -1 else factors[1:]
                grouped.append(mm(coeff, *rest))
            elif len(factors) == 1 and factors[0] == best:
                grouped.append(mm(coeff, sp.Identity(best.shape[0 if side == -1 else 1])))
            else:
                others.append(term)
        inside = pull_common_coefficient(collect_factors(grouped))
        product = mm(inside, best) if side == -1 else mm(best, inside)
        return madd(product, *([collect_factors(others)] if others else []))
    return madd(*terms)


def add_entrywise_terms(terms: list):
    """Σ terms with the entrywise functions of one argument added up when their sum simplifies
    (something cancels): −(1/z) + 1/z = 0, (2/z) + 1/z = 3/z.  Terms that are not entrywise
    functions are kept as they are."""
    groups: dict = {}
    for index, term in enumerate(terms):
        coeff, factors = split_product(term)
        if len(factors) != 1 or not isinstance(factors[0], (ElementwiseApplyFunction,
                                                            sp.HadamardPower)):
            continue
        if coeff.has(ENTRY) or not coeff.is_number:
            continue
        argument, body = as_entrywise(factors[0])
        groups.setdefault(argument, []).append((index, coeff * body))
    replaced: dict = {}
    for argument, members in groups.items():
        if len(members) < 2:
            continue
        total = sp.Add(*[body for _, body in members])
        if sp.count_ops(total) >= sum(sp.count_ops(body) for _, body in members):
            continue
        indices = [index for index, _ in members]
        if total == 0:
            value = None
        elif not total.has(ENTRY):
            value = mm(total, sp.OneMatrix(*argument.shape))
        elif total == ENTRY:
            value = argument
        else:
            value = elementwise(sp.Lambda(ENTRY, total), argument)
        replaced[indices[0]] = value
        replaced.update({index: None for index in indices[1:]})
    if not replaced:
        return madd(*terms)
    kept = [replaced[i] if i in replaced else term for i, term in enumerate(terms)]
    kept = [term for term in kept if term is not None]
    return madd(*kept) if kept else sp.ZeroMatrix(*terms[0].shape)


def collect_hadamard_factors(terms: list):
    """Σ terms with the most frequent common Hadamard factor pulled out, the rest of each such
    term summed with :func:`collect_factors`:
    (A u) ⊙ v + (Aᵀ u) ⊙ v = ((A + Aᵀ) u) ⊙ v, c σ'(z) ⊙ a + σ'(z) ⊙ b = σ'(z) ⊙ (c a + b).
    """
    if len(terms) < 2:
        return madd(*terms)
    parts = []
    for term in terms:
        coeff, factors = split_product(term)
        matrix = factors[0] if len(factors) == 1 else None
        parts.append((coeff, list(matrix.args) if isinstance(matrix, sp.HadamardProduct)
                      else None))
    counts: Counter = Counter()
    for _, factors in parts:
        for factor in dict.fromkeys(factors or ()):
            counts[factor] += 1
    candidates = [k for k, n in counts.items() if n >= 2]
    if not candidates:
        return madd(*terms)
    best = sorted(candidates, key=lambda k: (-counts[k], sp.default_sort_key(k)))[0]
    grouped, others = [], []
    for term, (coeff, factors) in zip(terms, parts):
        if factors is not None and best in factors:
            rest = list(factors)
            rest.remove(best)
            grouped.append(mm(coeff, hadamard(*rest)))
        else:
            others.append(term)
    inside = collect_hadamard_factors(grouped)
    if isinstance(inside, sp.MatAdd):
        inside = pull_common_coefficient(collect_factors(list(inside.args)))
    product = hadamard(best, inside)
    return madd(product, *([collect_hadamard_factors(others)] if others else []))


def _scalar_factors(coeff) -> tuple:
    """(rational, {base: exponent}) of a scalar coefficient."""
    number, rest = sp.sympify(coeff).as_coeff_Mul()
    powers: dict = {}
    for factor in (sp.Mul.make_args(rest) if rest != 1 else ()):
        base, exponent = factor.as_base_exp()
        powers[base] = powers.get(base, 0) + exponent
    return number, powers


def _shared_powers(first: dict, second: dict) -> dict:
    """The factors two coefficients share: b^min(e1, e2) when both exponents have one sign."""
    shared = {}
    for base, e1 in first.items():
        e2 = second.get(base)
        if e2 is None or not (e1.is_Rational and e2.is_Rational) or (e1 > 0) != (e2 > 0):
            if e2 is not None and e1 == e2:
                shared[base] = e1
            continue
        shared[base] = min(e1, e2) if e1 > 0 else max(e1, e2)
    return shared


def pull_common_coefficient(expr):
    """c A + c B → c (A + B) for the scalar c common to every term of a sum of matrices: the
    largest common rational (negative when every term is negative) times the powers every
    coefficient shares; 2 x − 2 a = 2 (x − a), e^s A + e^s Aᵀ = e^s (A + Aᵀ)."""
    if not isinstance(expr, sp.MatAdd):
        return expr
    numbers, shared = [], None
    for term in expr.args:
        number, powers = _scalar_factors(split_product(term)[0])
        if not number.is_Rational:
            return expr
        numbers.append(number)
        shared = powers if shared is None else _shared_powers(shared, powers)
    common = numbers[0]
    for number in numbers[1:]:
        common = sp.gcd(common, number)
    common = abs(common)
    if all(number < 0 for number in numbers):
        common = -common
    common = common * sp.Mul(*[base ** exponent for base, exponent in sorted(
        shared.items(), key=lambda item: sp.default_sort_key(item[0]))])
    if common == 1:
        return expr
    return mm(common, madd(*[mm(1 / common, term) for term in expr.args]))


__all__ = ["tidy", "collect_factors", "add_entrywise_terms", "collect_hadamard_factors",
           "pull_common_coefficient"]
