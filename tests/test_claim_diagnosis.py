r"""The names of mistakes (issue 10, item 3): wrong order (also of a product that cannot be
formed), factors of a scalar input (×N, ×1/N), softmax's coupling, an activation derivative too
many; block matrices in a claim; CMU 10-315's ∂J/∂z_i and Durham's J_f; and the likely bug
``verify code`` names from the numbers of a failing tensor.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import derive
from derive.errors import BadInput
from verify.claim_diagnosis import reordered_texts
from verify.claims import check_claim
from verify.latex import parse_latex
from verify.report import diagnose_tensor

SIGMOID_BCE = derive.mlp([2, 3, 1], activation="sigmoid", loss="bce")
TANH_MSE = derive.mlp([2, 3, 2], activation="tanh", loss="mse")
SOFTMAX_MSE = derive.mlp([2, 3, 3], activations=["sigmoid", "softmax"], loss="mse")
X3 = {"x": (3, 1)}

# (expression, claim, verdict, [classes], a phrase of the first detail): scalars N and λ
SCALAR_FACTORS = [
    (r"\frac{1}{N} x^T x", r"\frac{2}{N} x", "correct", [], None),
    (r"\frac{1}{N} x^T x", r"2 x", "incorrect", ["missing_factor"],
     "N times the true value (a factor 1/N is missing)"),
    (r"\frac{1}{N} x^T x", r"x", "incorrect", ["missing_factor"], "N/2 times"),
    (r"\frac{1}{N} x^T x", r"\frac{2}{N^2} x", "incorrect", ["extra_factor"],
     "1/N times the true value (an extra factor 1/N)"),
    (r"\frac{1}{N} x^T x", r"-2 x", "incorrect", ["wrong_sign", "missing_factor"], "-N times"),
    (r"\frac{\lambda}{2} x^T x", r"x", "incorrect", ["missing_factor"],
     "a factor lambda is missing"),
    (r"\frac{1}{2} x^T x", r"\lambda x", "incorrect", ["extra_factor"], "an extra factor lambda"),
]


@pytest.mark.parametrize("expr, claim, verdict, classes, phrase", SCALAR_FACTORS)
def test_factor_of_a_scalar_input(expr, claim, verdict, classes, phrase):
    scalars = [name for name in ("N", "lambda") if name in expr]
    result = check_claim(claim, expr, wrt="x", shapes=X3, scalars=scalars,
                         layout="denominator")
    assert result.verdict == verdict, result.to_text()
    assert [d.cls for d in result.diagnosis] == classes
    if phrase:
        assert phrase in result.diagnosis[0].detail, result.diagnosis[0].detail


def test_reordered_texts_swaps_the_two_factors():
    class Failed:
        operands = ((4, 7), (8, 14))
    assert reordered_texts(r"2 + x^T \delta - y", Failed()) == [
        (r"2 + \delta x^T - y", r"\delta x^T", "wrong_order"),
        (r"2 + {x^T}^T \delta - y", r"{x^T}^T \delta", "missing_transpose"),
        (r"2 + x^T {\delta}^T - y", r"x^T {\delta}^T", "missing_transpose"),
        (r"2 + x^T \odot \delta - y", r"x^T \odot \delta", "hadamard_vs_matmul")]
    Failed.operands = ((0, 3), (2, 5))                   # overlapping spans: nothing
    assert reordered_texts("abcdef", Failed()) == []
    assert reordered_texts("x", object()) == []


def test_a_product_that_cannot_be_formed_in_the_order_written():
    verdict = check_claim(r"\nabla_{W^{[2]}} \mathcal{L} = a^{[1]T} \delta^{[2]}", TANH_MSE,
                          wrt="W2", notation="cs229")
    assert verdict.verdict == "invalid" and verdict.headline == "invalid: wrong order"
    assert [d.cls for d in verdict.diagnosis] == ["wrong_order", "shape_mismatch"]
    assert verdict.diagnosis[0].detail == (r"the product cannot be formed as written; in the "
                                           r"other order, \delta^{[2]} a^{[1]T}, it is the "
                                           "true value")
    assert "cannot multiply 'a^{[1]T}' (1×3) by '\\delta^{[2]}' (2×1)" in \
        verdict.diagnosis[1].detail
    # swapped, it is still wrong, by a named mistake: both are said
    wrong = check_claim(r"b^T a", "a^T X b", wrt="X", shapes={"a": (3, 1), "X": (3, 2),
                                                              "b": (2, 1)}, layout="numerator")
    assert [d.cls for d in wrong.diagnosis] == ["wrong_order", "layout_swap", "shape_mismatch"]
    # a transpose repairs it: W v for Wᵀ v
    transpose = check_claim(r"W \tanh'(W x)", r"\mathbf{1}^T \tanh(W x)", wrt="x",
                            shapes={"W": (3, 2), "x": (2, 1)}, layout="denominator")
    assert [d.cls for d in transpose.diagnosis] == ["missing_transpose", "shape_mismatch"]
    assert "with a transpose, {W}^T \\tanh'(W x), it is the true value" in \
        transpose.diagnosis[0].detail
    # juxtaposition for ⊙
    entrywise = check_claim(r"\nabla_{b^{[1]}} \mathcal{L} = W^{[2]T}\delta^{[2]} g'(z^{[1]})",
                            SIGMOID_BCE, wrt="b1", notation="cs229")
    assert [d.cls for d in entrywise.diagnosis] == ["hadamard_vs_matmul", "shape_mismatch"]
    assert r"entrywise, W^{[2]T}\delta^{[2]} \odot g'(z^{[1]}), it is the true value" in \
        entrywise.diagnosis[0].detail
    # a shape error that no swap repairs stays a plain shape mismatch
    plain = check_claim(r"\nabla_{W^{[2]}} \mathcal{L} = (a^{[2]} - y) x", SIGMOID_BCE, wrt="W2",
                        notation="cs229")
    assert [d.cls for d in plain.diagnosis] == ["shape_mismatch"]


def test_wrong_order_inside_a_product_names_both_orders():
    verdict = check_claim("B A", "A B x", wrt="x", shapes={"A": (3, 3), "B": (3, 3),
                                                           "x": (3, 1)}, layout="numerator")
    assert verdict.headline == "incorrect: wrong order"
    assert verdict.diagnosis[0].detail == \
        "the factors of B A are in the wrong order: the true value has A B"


def test_softmax_treated_elementwise_is_the_coupling_term_missing():
    verdict = check_claim(r"\nabla_{b^{[2]}} \mathcal{L} = (a^{[2]} - y) \odot a^{[2]} \odot "
                          r"(1 - a^{[2]})", SOFTMAX_MSE, wrt="b2", notation="cs229")
    assert verdict.headline == "incorrect: missing term"
    assert "softmax is not elementwise" in verdict.diagnosis[0].detail
    assert "kept on its diagonal only" in verdict.diagnosis[0].detail


def test_a_derivative_too_many_on_a_fused_signal():
    verdict = check_claim(r"\nabla_{b^{[2]}} \mathcal{L} = (a^{[2]} - y) \odot g'(z^{[2]})",
                          SIGMOID_BCE, wrt="b2", notation="cs229")
    assert verdict.headline == "incorrect: wrong activation derivative"
    assert "too many" in verdict.diagnosis[0].detail


# --- block matrices ---------------------------------------------------------------------------

SHAPES = {"W": (3, 2), "v": (2, 1), "b": (3, 1), "x": (2, 1)}


def test_block_matrices_are_read_with_their_shapes():
    augmented = parse_latex(r"\begin{bmatrix} 1 \\ v \end{bmatrix}", shapes=SHAPES).expr
    assert augmented.shape == (3, 1)
    point = {sp.MatrixSymbol("v", 2, 1): sp.Matrix([[5], [7]])}
    assert sp.Matrix(augmented.xreplace(point).as_explicit()) == sp.Matrix([[1], [5], [7]])
    weights = parse_latex(r"\begin{bmatrix} b & W \end{bmatrix}", shapes=SHAPES).expr
    assert weights.shape == (3, 3)
    entries = parse_latex(r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \\ \end{pmatrix}").expr
    assert entries == sp.ImmutableMatrix([[1, 2], [3, 4]])
    product = parse_latex(r"\begin{bmatrix} b & W \end{bmatrix} \begin{bmatrix} 1 \\ x "
                          r"\end{bmatrix}", shapes=SHAPES).expr
    assert product.shape == (3, 1)


@pytest.mark.parametrize("text, message, column", [
    (r"\begin{bmatrix} b & v \end{bmatrix}", "the blocks of a row must have one height", 21),
    (r"\begin{bmatrix} 1 & 2 \\ v \end{bmatrix}", "row 2 has 1 entry, row 1 has 2", 26),
    (r"\begin{bmatrix} v \\ W \end{bmatrix}", "the blocks of a column must have one width", 22),
    (r"\begin{bmatrix} 1 \\ v", r"expected & (the next entry), \\ (the next row) or "
                              r"\end{bmatrix}", 23),
    (r"\begin{cases} 1 \end{cases}", "unknown environment 'cases'", 1),
    (r"\begin{bmatrix} 1 \\ v \end{pmatrix}", "closed by another environment", 24),
    (r"\begin{bmatrix} 1 + \end{bmatrix}", r"unexpected \end: an entry is missing", 21),
])
def test_unreadable_block_matrices_say_where(text, message, column):
    with pytest.raises(BadInput) as caught:
        parse_latex(text, shapes=SHAPES)
    assert message in str(caught.value)
    assert f"at column {column}\n" in str(caught.value)


def test_blocks_of_clashing_shapes_are_a_shape_mismatch():
    verdict = check_claim(r"\begin{bmatrix} x & 1 \end{bmatrix}", "x^T x", wrt="x",
                          shapes={"x": (2, 1)}, layout="denominator")
    assert verdict.verdict == "invalid"
    assert [d.cls for d in verdict.diagnosis] == ["shape_mismatch"]
    assert "the blocks of a row must have one height" in verdict.diagnosis[0].detail


def test_the_mines_augmented_vector_written_as_a_block():
    net = derive.mlp([2, 3, 1], activation="sigmoid", loss="bce", convention="augmented")
    right = check_claim(r"\nabla_{\tilde{W}^{(2)}} \delta = E^{(2)t} \begin{bmatrix} 1 \\ "
                        r"\mathbf{v}^{(1)} \end{bmatrix}^t", net, wrt="W2", notation="mines")
    assert right.verdict == "correct"
    swapped = check_claim(r"\nabla_{\tilde{W}^{(2)}} \delta = E^{(2)t} \begin{bmatrix} "
                          r"\mathbf{v}^{(1)} \\ 1 \end{bmatrix}^t", net, wrt="W2",
                          notation="mines")
    assert swapped.verdict == "incorrect"


# --- CMU 10-315 and Durham --------------------------------------------------------------------

def test_cmu_derivative_by_an_activation_is_a_row_in_numerator_layout():
    right = check_claim(r"\frac{\partial J}{\partial b_1} = \frac{\partial J}{\partial z_1} "
                        r"\operatorname{diag}(g'(s_1))", SIGMOID_BCE, wrt="b1", notation="cmu")
    assert right.verdict == "correct", right.to_text()
    column = check_claim(r"\nabla_{w_1} J = (\frac{\partial J}{\partial z_1} \odot g'(s_1)) x^T",
                         SIGMOID_BCE, wrt="W1", notation="cmu")
    assert column.verdict == "invalid" and "(1×3) and 'g'(s_1)' (3×1)" in \
        column.diagnosis[0].detail


def test_durham_jacobian_is_numerator_whatever_the_layout():
    shapes = {"W": (3, 2), "b": (3, 1), "x": (2, 1)}
    for layout in ("numerator", "denominator"):
        assert check_claim("J_f = W", "y = f(x) = W x + b", wrt="x", shapes=shapes,
                           layout=layout, notation="durham").verdict == "correct"
    assert check_claim("W", "W x + b", wrt="x", shapes=shapes,
                       layout="denominator").headline == "incorrect: layout swap"


# --- verify code: the likely bug from the numbers ---------------------------------------------

NUMERIC = np.array([[0.5, -1.0, 0.3], [2.0, 0.25, -0.7], [0.1, 0.9, 1.3]])


@pytest.mark.parametrize("analytic, classes, phrase", [
    (5 * NUMERIC, ["missing_factor"], "not averaged over the batch (×N, N = 5)"),
    (NUMERIC / 5, ["extra_factor"], "(×1/N, N = 5)"),
    (2 * NUMERIC, ["extra_factor"], "2 times the numeric one (an extra factor 2)"),
    (0.5 * NUMERIC, ["missing_factor"], "a factor 2 is missing"),
    (-NUMERIC, ["wrong_sign"], "opposite sign"),
    (-0.5 * NUMERIC, ["wrong_sign", "missing_factor"], "-1/2 times"),
    (NUMERIC.T, ["missing_transpose"], "transposed"),
    (0 * NUMERIC, ["missing_term"], "zero where the numeric one is not"),
    (NUMERIC + np.diag([0, 0, 1.0]), ["other"], "only row 2 disagrees"),
    (NUMERIC ** 2, ["other"], "no simple relation"),
])
def test_diagnose_tensor(analytic, classes, phrase):
    found = diagnose_tensor(analytic, NUMERIC * (1 + 1e-9), batch_size=5)
    assert [d["class"] for d in found] == classes
    assert phrase in found[0]["detail"], found


def test_details_name_the_quantities_as_the_profile_writes_them():
    deep = derive.mlp([2, 2, 2, 2], activation="tanh", loss="mse")
    verdict = check_claim(r"\nabla_{b^{[1]}} \mathcal{L} = \operatorname{diag}(g'(z^{[1]})) "
                          r"W^{[2]T} \operatorname{diag}(g'(z^{[2]})) W^{[3]T} \delta^{[2]}", deep,
                          wrt="b1", notation="cs229")
    assert verdict.diagnosis[0].cls == "wrong_layer"
    assert verdict.diagnosis[0].detail == (r"\delta^{[2]} where the truth has \delta^{[3]}: a "
                                           "quantity of the wrong layer")
    swapped = check_claim(r"\nabla_{w_1} J = (w_1^T ((z_2 - y) \odot g'(s_2)) \odot g'(s_1)) "
                          r"x^T", derive.mlp([2, 2, 2], activation="tanh", loss="mse"),
                          wrt="W1", notation="cmu")
    assert swapped.diagnosis[0].detail == "w_{1} where the truth has w_{2}: a quantity of the " \
        "wrong layer"
    reversed_chain = check_claim(r"\nabla_{b^{[1]}} \mathcal{L} = W^{[3]T} \operatorname{diag}"
                                 r"(g'(z^{[2]})) W^{[2]T} \operatorname{diag}(g'(z^{[1]})) "
                                 r"\delta^{[3]}", deep, wrt="b1", notation="cs229")
    assert reversed_chain.diagnosis[0].cls == "wrong_order"
    assert r"\operatorname{diag}\left(\tanh'\left(z^{[2]}\right)\right)" in \
        reversed_chain.diagnosis[0].detail
