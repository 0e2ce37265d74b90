r"""The LaTeX front end (``verify.parse_latex``): what people write, read to exact SymPy.

Every case states the expression it must read as — equal structurally, or entry by entry at
concrete sizes (exact symbolic equality) — in every notation profile; never just "it parses".
Also the meanings a general reader loses (``A^T + A`` is not 2A, ``a^{[3]}`` is not a power,
``\log`` is natural, ``\hat{y}`` is not y), the two readers' agreement, and the errors with
the column they mark.
"""

from __future__ import annotations

import re

import pytest
import sympy as sp

from derive.activations import ACTIVATIONS
from derive.calculus.claim_nodes import Gradient, Partial, SampleSum
from derive.calculus.matrix import matrix_jacobian
from derive.calculus.matrix_nodes import AsScalar, MatNorm, elementwise, prime_function
from derive.errors import BadInput
from verify.latex import agreement, parse_latex

n, N = sp.Symbol("n"), sp.Symbol("N")
SIGMOID = ACTIVATIONS.get("sigmoid").function
TANH = ACTIVATIONS.get("tanh").function
SIZES = {n: 3}


def M(name, rows, cols=1):
    return sp.MatrixSymbol(name, rows, cols)


def S(name):
    return sp.Symbol(name, real=True)


def _generic(name):
    return sp.Function(name, real=True)


def _generic_prime(name, arg):
    """g'(arg) entrywise, g the course's unnamed function (resolved later by the checker)."""
    d, u = sp.Dummy("d", real=True), sp.Dummy("u", real=True)
    return elementwise(sp.Lambda(d, sp.Subs(sp.Derivative(_generic(name)(u), u), u, d)), arg)


def means(got, expected) -> bool:
    """Structurally equal, or equal entry by entry (exactly) at the sizes of SIZES."""
    if got == expected:
        return True
    if isinstance(got, sp.MatrixExpr) != isinstance(expected, sp.MatrixExpr):
        return False
    if not isinstance(got, sp.MatrixExpr):
        return sp.simplify(got - expected) == 0
    if got.shape != expected.shape:
        return False

    def explicit(expr):
        sized = expr.xreplace({s: sp.MatrixSymbol(s.name, *(sp.sympify(d).xreplace(SIZES)
                                                            for d in s.shape))
                               for s in expr.atoms(sp.MatrixSymbol)})
        return sp.Matrix(sized.xreplace(SIZES).as_explicit())
    return (explicit(got) - explicit(expected)).applyfunc(sp.expand).is_zero_matrix


A, W, X = M("A", 3, 3), M("W", 2, 3), M("X", 3, 4)
x, y, b, a2, v = M("x", 3), M("y", 2), M("b", 2), M("a", 2), M("v", 3)
SHAPES = {"A": (3, 3), "W": (2, 3), "X": (3, 4), "x": (3, 1), "y": (2, 1), "b": (2, 1),
          "a": (2, 1), "v": (3, 1)}

#: (text, keyword arguments of parse_latex, the expression it means)
PLAIN_CASES = [
    # transposes, every spelling
    (r"A^T + A", {}, A.T + A),
    (r"A^{T} x", {}, A.T * x),
    (r"A^\top x", {}, A.T * x),
    (r"A^{\top} x", {}, A.T * x),
    (r"A^\intercal x", {}, A.T * x),
    (r"W' y", {}, W.T * y),                      # a prime on a matrix name is a transpose
    (r"x' A x", {}, x.T * A * x),
    (r"\left(W x + b\right)^T y", {}, (W * x + b).T * y),
    # products
    (r"y \odot b", {}, sp.HadamardProduct(b, y)),
    (r"y \circ b", {}, sp.HadamardProduct(b, y)),
    (r"W \cdot x", {}, W * x),
    (r"x^T A x", {}, x.T * A * x),
    (r"\operatorname{diag}(y) b", {}, sp.DiagMatrix(y) * b),
    (r"\mathrm{diag}(y) b", {}, sp.DiagMatrix(y) * b),
    (r"\text{Diag}(y) b", {}, sp.DiagMatrix(y) * b),
    # names: typefaces are the same name, accents another one
    (r"\mathbf{x}^T \boldsymbol{x}", {}, x.T * x),
    (r"\hat{y} - y", {"shapes": {**SHAPES, r"\hat{y}": (2, 1)}}, M(r"\hat{y}", 2) - y),
    (r"\widehat{y} - y", {"shapes": {**SHAPES, r"\hat{y}": (2, 1)}}, M(r"\hat{y}", 2) - y),
    (r"\tilde{W} x", {"shapes": {**SHAPES, r"\tilde{W}": (2, 3)}}, M(r"\tilde{W}", 2, 3) * x),
    (r"W_1 x", {"shapes": {"W1": (2, 3), "x": (3, 1)}}, M("W1", 2, 3) * x),
    (r"W1 x", {"shapes": {"W_1": (2, 3), "x": (3, 1)}}, M("W_1", 2, 3) * x),
    (r"W_{1} x", {"shapes": {"W1": (2, 3), "x": (3, 1)}}, M("W1", 2, 3) * x),
    # norms and powers of numbers
    (r"\|x\|", {}, MatNorm(x)),
    (r"\|x\|_2", {}, MatNorm(x)),
    (r"\|X\|_F", {}, MatNorm(X)),
    (r"\|x\|^{1/2}", {}, sp.sqrt(MatNorm(x))),
    (r"\|X\|_F^{3/2}", {}, MatNorm(X) ** sp.Rational(3, 2)),
    (r"(x^T x)^{1/2}", {}, sp.sqrt(AsScalar(x.T * x))),
    (r"(x^T x)^{\frac{1}{2}}", {}, sp.sqrt(AsScalar(x.T * x))),
    (r"\sqrt[3]{x^T x}", {}, AsScalar(x.T * x) ** sp.Rational(1, 3)),
    # I and 1
    (r"(I - x x^T) v", {}, (sp.Identity(3) - x * x.T) * v),
    (r"\mathbf{1}^T x", {}, sp.OneMatrix(1, 3) * x),
    (r"1 - y", {}, sp.OneMatrix(2, 1) - y),
    # functions
    (r"\sigma(W x + b)", {}, elementwise(SIGMOID, W * x + b)),
    (r"\sigma'(W x + b) \odot y", {},
     sp.HadamardProduct(elementwise(prime_function(SIGMOID), W * x + b), y)),
    (r"\tanh(A x)", {}, elementwise(TANH, A * x)),
    (r"\arctan(x)", {}, elementwise(sp.atan, x)),
    (r"\log(1 - y)", {}, elementwise(sp.log, sp.OneMatrix(2, 1) - y)),
    # a scalar declared also 1×1; undeclared letters only used as scalars
    (r"c x", {"shapes": {**SHAPES, "c": (1, 1)}, "scalars": ("c",)}, S("c") * x),
    (r"\frac{1}{2N} \|x\|^2", {}, MatNorm(x) ** 2 / (2 * S("N"))),
    (r"\lambda W", {}, S("lambda") * W),
    (r"\frac{\lambda}{N} W", {}, S("lambda") / S("N") * W),
    # sums over the entries of a vector
    (r"\sum_i y_i \log b_i", {},
     sp.OneMatrix(1, 2) * sp.HadamardProduct(y, elementwise(sp.log, b))),
    (r"\sum_{i=1}^{n} (x_i - v_i)^2", {},
     sp.OneMatrix(1, 3) * elementwise(sp.Lambda(S("t"), S("t") ** 2), x - v)),
    (r"\frac{1}{2}\sum_i x_i^2", {},
     sp.OneMatrix(1, 3) * elementwise(sp.Lambda(S("t"), S("t") ** 2), x) / 2),
]

#: (profile, text, shapes, the expression it means)
PROFILE_CASES = [
    ("cs229", r"W^{[2]T} \delta^{[2]}", {"W^{[2]}": (2, 3), "delta^{[2]}": (2, 1)},
     M("W^{[2]}", 2, 3).T * M("delta^{[2]}", 2)),
    ("cs229", r"\delta^{[2]} a^{[1]T}", {"a^{[1]}": (3, 1), "delta^{[2]}": (2, 1)},
     M("delta^{[2]}", 2) * M("a^{[1]}", 3).T),
    ("cs229", r"a^{[3]} - y", {"a^{[3]}": (2, 1), "y": (2, 1)}, M("a^{[3]}", 2) - y),
    ("cs229", r"g'(z^{[1]}) \odot (W^{[2]T} \delta^{[2]})",
     {"z^{[1]}": (3, 1), "W^{[2]}": (2, 3), "delta^{[2]}": (2, 1)},
     sp.HadamardProduct(_generic_prime("g", M("z^{[1]}", 3)),
                        M("W^{[2]}", 2, 3).T * M("delta^{[2]}", 2))),
    ("cs229", r"\hat{y} - y", {r"\hat{y}": (2, 1), "y": (2, 1)}, M(r"\hat{y}", 2) - y),
    ("ensimag", r"\Phi'(\zeta^j) \odot \mathcal{B}^{j}", {"zeta^{j}": (3, 1),
                                                          r"\mathcal{B}^{j}": (3, 1)},
     sp.HadamardProduct(_generic_prime("Phi", M("zeta^{j}", 3)), M(r"\mathcal{B}^{j}", 3))),
    ("ensimag", r"\Omega^{j} \alpha^{j-1} + \beta^j",
     {"Omega^{j}": (2, 3), "alpha^{j-1}": (3, 1), "beta^{j}": (2, 1)},
     M("Omega^{j}", 2, 3) * M("alpha^{j-1}", 3) + M("beta^{j}", 2)),
    ("ensimag", r"\alpha^{j-1} \mathcal{B}^{jT}", {"alpha^{j-1}": (3, 1),
                                                   r"\mathcal{B}^{j}": (2, 1)},
     M("alpha^{j-1}", 3) * M(r"\mathcal{B}^{j}", 2).T),
    ("ensimag", r"x^2 + x", {"x": (1, 1)}, AsScalar(M("x", 1, 1)) ** 2 + AsScalar(M("x", 1, 1))),
    ("mines", r"W^{(2)t} E^{(2)T}", {"W^{(2)}": (2, 3), "E^{(2)}": (1, 2)},
     M("W^{(2)}", 2, 3).T * M("E^{(2)}", 1, 2).T),
    ("mines", r"E^{(2)} W^{(2)}", {"E^{(2)}": (1, 2), "W^{(2)}": (2, 3)},
     M("E^{(2)}", 1, 2) * M("W^{(2)}", 2, 3)),
    ("mines", r"\tilde{W}^{(2)t} \mathbf{v}^{(1)}", {r"\tilde{W}^{(2)}": (3, 2),
                                                      "v^{(1)}": (3, 1)},
     M(r"\tilde{W}^{(2)}", 3, 2).T * M("v^{(1)}", 3)),
    ("mines", r"h'_{(2)}(\mathbf{s}^{(2)})", {"s^{(2)}": (2, 1)},
     _generic_prime("h_{(2)}", M("s^{(2)}", 2))),
    ("cmu", r"g'(s_2) \odot (w_3^T \delta)", {"s_2": (2, 1), "w_3": (4, 2), "delta": (4, 1)},
     sp.HadamardProduct(_generic_prime("g", M("s_2", 2)), M("w_3", 4, 2).T * M("delta", 4))),
    ("durham", r"f'(u) \odot \delta", {"u": (2, 1), "delta": (2, 1)},
     sp.HadamardProduct(_generic_prime("f", M("u", 2)), M("delta", 2))),
    ("durham", r"W^T \delta x^T", {"W": (2, 3), "delta": (2, 1), "x": (4, 1)},
     W.T * M("delta", 2) * M("x", 4).T),
]

_x = S("x")
#: Scalar expressions: (text, the expression it means); both readers read them.
SCALAR_CASES = [
    (r"4\sin^3(x)\cos(x)e^{x^3}", 4 * sp.sin(_x) ** 3 * sp.cos(_x) * sp.exp(_x ** 3)),
    (r"\sigma(x)(1 - \sigma(x))", SIGMOID(_x) * (1 - SIGMOID(_x))),
    (r"\frac{1}{1 + e^{-x}}", 1 / (1 + sp.exp(-_x))),
    (r"\log x", sp.log(_x)),
    (r"\ln(1 + x^2)", sp.log(1 + _x ** 2)),
    (r"\sqrt[3]{x}", _x ** sp.Rational(1, 3)),
    (r"\arctan x", sp.atan(_x)),
    (r"2\frac{1}{2} x", _x),                          # 2 · ½, not the mixed number 5/2
    (r"0.25 x", _x / 4),
    (r"\frac{1}{2N}", 1 / (2 * S("N"))),
    (r"1 - \tanh^2(x)", 1 - TANH(_x) ** 2),
    (r"x^2 + y", _x ** 2 + S("y")),
]


@pytest.mark.parametrize("text, kwargs, expected", PLAIN_CASES, ids=[c[0] for c in PLAIN_CASES])
def test_every_notation_reads_to_its_expression(text, kwargs, expected):
    parsed = parse_latex(text, **{"shapes": SHAPES, **kwargs})
    assert means(parsed.expr, expected), (text, parsed.expr, expected)


@pytest.mark.parametrize("profile, text, shapes, expected", PROFILE_CASES,
                         ids=[f"{c[0]}:{c[1]}" for c in PROFILE_CASES])
def test_every_profile_reads_its_own_notation(profile, text, shapes, expected):
    parsed = parse_latex(text, shapes=shapes, profile=profile)
    assert means(parsed.expr, expected), (text, parsed.expr, expected)
    assert parsed.scalars == ()


@pytest.mark.parametrize("text, expected", SCALAR_CASES, ids=[c[0] for c in SCALAR_CASES])
def test_scalar_expressions_are_read_by_both_readers_alike(text, expected):
    parsed = parse_latex(text)
    assert parsed.route == "scalar"
    assert parsed.readers == ("symbackprop", "latex2sympy2_extended"), parsed.agreement
    assert means(parsed.expr, expected), (parsed.expr, expected)


def test_a_transpose_is_never_a_power_nor_dropped():
    parsed = parse_latex("A^T + A", shapes={"A": (3, 3)})
    assert parsed.expr == A.T + A and parsed.expr != 2 * A
    assert parse_latex("A^T A", shapes={"A": (3, 3)}).expr != A ** 2


def test_a_layer_index_is_not_a_power():
    parsed = parse_latex(r"a^{[3]}", profile="cs229")
    assert parsed.expr == M("a^{[3]}", n) and not parsed.expr.has(sp.MatPow, sp.Pow)
    assert parse_latex(r"W^{(2)}", profile="mines").expr == M("W^{(2)}", n, n)
    assert parse_latex(r"\alpha^{j}", profile="ensimag").expr == M("alpha^{j}", n)
    # outside Ensimag's notation a plain superscript stays a power
    assert parse_latex(r"x^{j}").expr == S("x") ** S("j")


def test_log_is_the_natural_logarithm():
    parsed = parse_latex(r"\log x")
    assert parsed.expr == sp.log(S("x")) and parsed.expr != sp.log(S("x"), 10)
    assert parse_latex(r"\log_2 x").expr == sp.log(S("x")) / sp.log(2)


def test_a_hat_makes_another_name():
    parsed = parse_latex(r"\hat{y} - y", shapes={"y": (2, 1), r"\hat{y}": (2, 1)})
    assert parsed.expr == M(r"\hat{y}", 2) - y and parsed.expr != sp.ZeroMatrix(2, 1)
    assert parse_latex(r"\hat{y} - y").expr != 0                     # as scalars too
    assert parse_latex(r"\mathcal{L}").expr != parse_latex("L").expr


def test_small_t_is_a_transpose_in_the_mines_profile_only():
    shapes = {"W": (2, 3), "y": (2, 1)}
    assert parse_latex("W^t y", shapes=shapes, profile="mines").expr == W.T * y
    with pytest.raises(BadInput, match="superscript 't'"):
        parse_latex("W^t y", shapes=shapes, profile="cs229")


def test_scalars_declared_also_one_by_one_and_inferred_are_reported():
    parsed = parse_latex(r"\frac{\lambda}{2N} \|W\|_F^2 + c", shapes={"W": (2, 3), "c": (1, 1)},
                         scalars=("c",))
    assert parsed.expr == S("lambda") * MatNorm(W) ** 2 / (2 * S("N")) + S("c")
    assert parsed.scalars == ("lambda", "N")
    assert parse_latex("x", shapes={"x": (3, 1)}).scalars == ()
    with pytest.raises(BadInput, match="declared a scalar and with the shape 2×1"):
        parse_latex("c x", shapes={"c": (2, 1)}, scalars=("c",))


def test_auxiliary_definitions_after_the_claim():
    shapes = {"W": (2, 3), "x": (3, 1), "b": (2, 1), "y": (2, 1)}
    text = r"x\delta^T,\ \delta = (a - y) \odot a \odot (1 - a),\ a = \sigma(Wx + b)"
    parsed = parse_latex(text, shapes=shapes)
    delta, a = M("delta", 2), M("a", 2)
    activation = elementwise(SIGMOID, W * x + b)
    assert parsed.expr == x * delta.T
    assert list(parsed.definitions) == ["delta", "a"]
    assert means(parsed.definitions["delta"],
                 sp.HadamardProduct(a - y, a, sp.OneMatrix(2, 1) - a))
    assert parsed.definitions["a"] == activation
    expanded = parsed.expanded()
    assert means(expanded, x * sp.HadamardProduct(activation - y, activation,
                                                  sp.OneMatrix(2, 1) - activation).T)
    assert parsed.definition_spans["a"][1].of(text) == r"\sigma(Wx + b)"
    for spelled in (r"x\delta^T \quad \text{where} \quad \delta = a - y",
                    r"x\delta^T, where \delta = a - y", r"x\delta^T\ \text{where}\ \delta = a - y.",
                    r"x\delta^T; \delta = a - y"):
        again = parse_latex(spelled, shapes={**shapes, "a": (2, 1)})
        assert means(again.expanded(), x * (M("a", 2) - y).T), spelled


def test_a_left_side_names_a_gradient_or_a_derivative():
    shapes = {"W": (2, 3), "x": (3, 1), "delta": (2, 1)}
    gradient = parse_latex(r"\nabla_{W} L = \delta x^T", shapes=shapes)
    assert gradient.left == Gradient(S("L"), W) and gradient.left.shape == (2, 3)
    assert gradient.left_kind == "gradient" and gradient.scalars == ("L",)
    for layout, shape in (("numerator", (3, 2)), ("denominator", (2, 3))):
        derivative = parse_latex(r"\frac{\partial L}{\partial W} = x\delta^T", shapes=shapes,
                                 layout=layout)
        assert derivative.left == Partial(S("L"), W, layout) and derivative.left.shape == shape
        assert derivative.left_kind == "derivative"
    cs229 = parse_latex(r"\nabla_{W^{[2]}} \mathcal{L} = \delta^{[2]} a^{[1]T}", profile="cs229",
                        shapes={"W^{[2]}": (2, 3), "delta^{[2]}": (2, 1), "a^{[1]}": (3, 1)})
    assert cs229.left == Gradient(S(r"\mathcal{L}"), M("W^{[2]}", 2, 3))
    assert parse_latex(r"x^T A x", shapes={"x": (3, 1), "A": (3, 3)}).left is None


def test_derivatives_inside_an_expression_are_structured():
    shapes = {"z": (2, 1), "a": (3, 1)}
    parsed = parse_latex(r"\frac{\partial \mathcal{L}}{\partial z} a^T", shapes=shapes,
                         layout="denominator")
    assert parsed.expr == Partial(S(r"\mathcal{L}"), M("z", 2), "denominator") * M("a", 3).T
    assert parsed.derivatives() == [Partial(S(r"\mathcal{L}"), M("z", 2), "denominator")]
    inline = parse_latex(r"\partial L / \partial z", shapes=shapes)
    assert inline.expr == Partial(S("L"), M("z", 2), "numerator")
    operator = parse_latex(r"\frac{\partial}{\partial x} (x^T A x)",
                           shapes={"x": (3, 1), "A": (3, 3)})
    assert operator.expr == Partial(x.T * A * x, x, "numerator") and operator.shape == (1, 3)
    jacobian = parse_latex(r"\frac{\partial a}{\partial z}", shapes=shapes)
    assert jacobian.expr == Partial(M("a", 3), M("z", 2), "numerator")
    assert jacobian.shape == (3, 2)
    mines = parse_latex(r"\frac{d\delta}{d\mathbf{v}^{(1)}}", profile="mines",
                        shapes={"v^{(1)}": (3, 1)})
    assert mines.expr == Partial(S("delta"), M("v^{(1)}", 3), "numerator")


def test_a_sum_over_the_samples_of_a_batch_is_structured():
    parsed = parse_latex(r"\frac{1}{N}\sum_{i=1}^{N} \delta^{[2](i)} a^{[1](i)T}",
                         profile="cs229", shapes={"delta^{[2]}": (2, 1), "a^{[1]}": (3, 1)})
    delta, a1 = M("delta^{[2]}", 2), M("a^{[1]}", 3)
    total = SampleSum(delta * a1.T, sp.Symbol("i"), S("N"), (delta, a1))
    assert parsed.expr == total / S("N")
    assert parsed.expr.shape == (2, 3) and total.sampled == (delta, a1)
    shared = parse_latex(r"\sum_{i=1}^N W x_i", shapes={"W": (2, 3), "x": (3, 1)})
    assert shared.expr == SampleSum(W * x, sp.Symbol("i"), S("N"), (x,))


def test_the_two_readers_must_agree():
    assert agreement(sp.sin(S("x")) ** 2 + sp.cos(S("x")) ** 2, 1) == "simplification"
    assert agreement(SIGMOID(S("x")), 1 / (1 + sp.exp(-S("x")))) is not None
    assert agreement(S("x") / 2, 1 / (2 * S("x"))) is None
    with pytest.raises(BadInput, match=r"reads as x\*\*2/2 but also as 1/\(2\*x\*\*2\) "
                                       r"\(latex2sympy2_extended\).* at column 1\n"
                                       r"  1/2 x\^2\n  \^"):
        parse_latex("1/2 x^2")
    only_theirs = parse_latex(r"\max(0, x)")
    assert only_theirs.expr == sp.Max(0, S("x"))
    assert only_theirs.readers == ("latex2sympy2_extended",)


#: (text, keyword arguments, the message, the column the caret marks (1-based))
ERRORS = [
    (r"x^T (A x", {}, r"expected '\)', found the end", 9),
    (r"A^T +", {}, "unexpected end of the expression", 6),
    (r"\nabla L = x", {}, r"write the variable of ∇ as a subscript", 1),
    (r"x = y = v", {}, "a claim has one '='", 7),
    (r"x\delta^T, \delta", {}, r"expected a definition NAME = …", 12),
    (r"x^T \delta, \delta = 2 \omega, \omega = \delta", {},
     r"delta is defined in terms of itself \(delta → omega → delta\)", 41),
    (r"\frac{\partial L}{\partial (W x)}", {}, "expected the name of a variable after ∂", 28),
    (r"\sum x", {}, r"expected the index of the sum", 1),
    (r"\sum_i W", {}, "no vector is indexed by i", 1),
    (r"A^{1/2}", {}, r"cannot read the superscript '1/2'", 2),
    (r"(A x)'", {}, "a prime is read after a matrix name", 6),
    (r"W x + b^{", {}, r"unclosed '\{'", 9),
    (r"x + \foo", {}, r"unknown command \\foo", 5),
    (r"x^T v + W", {}, r"cannot add 'x\^T v' \(1×1\) and 'W' \(2×3\)", 7),
    (r"x, \delta = a, \delta = b", {}, "defined twice", 16),
    (r"\frac{\partial y}{\partial W}", {}, "has no matrix form", 1),
]


@pytest.mark.parametrize("text, kwargs, message, column", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_say_what_was_expected_and_mark_the_column(text, kwargs, message, column):
    with pytest.raises(BadInput) as caught:
        parse_latex(text, **{"shapes": SHAPES, **kwargs})
    lines = str(caught.value).split("\n")
    assert len(lines) == 3, str(caught.value)
    assert lines[0].startswith("claim: ") and lines[0].endswith(f"at column {column}")
    assert re.search(message, lines[0]), lines[0]
    assert lines[1] == "  " + text
    assert lines[2] == "  " + " " * (column - 1) + "^"


def test_empty_and_bad_arguments():
    for text in ("", "   "):
        with pytest.raises(BadInput, match="empty"):
            parse_latex(text)
    with pytest.raises(BadInput, match="layout must be one of numerator, denominator"):
        parse_latex("x", layout="rows")
    with pytest.raises(BadInput, match="no notation profile named 'oxford'"):
        parse_latex("x", profile="oxford")


def test_a_fractional_power_of_a_one_by_one_expression_differentiates():
    """(xᵀx)^{1/2} — as a SymPy expression (a 1×1 MatPow), in LaTeX and in SymPy syntax —
    is ‖x‖, whose gradient is x/‖x‖ (a matrix power needs an integer exponent; a number's
    does not)."""
    expected = x / sp.sqrt(AsScalar(x.T * x))
    for expr in ((x.T * x) ** sp.Rational(1, 2), r"(x^T x)^{1/2}", "(x.T*x)**(S(1)/2)"):
        result = matrix_jacobian(expr, "x" if isinstance(expr, str) else x,
                                 layout="denominator", shapes={"x": (3, 1)})
        assert result.expr == expected, (expr, result.expr)
