r"""More of the corpus of hand-derived gradients (issue 10, items 3 and 7): seeded mistakes of
every class of SPEC §7 in every profile — CMU 10-315 (z_i the activations, s_i the
pre-activations, w_i, ∂J/∂z_i in numerator layout, a row), Durham (y_i, u_i, W_i, t the target,
f), Ensimag, Mines, CS229 — and equivalent right forms (δ written out or named, the diag(g') W
form and the ⊙ form, a fused a − y), each with its exact verdict and first diagnosis class.
The same checks as ``tests/test_claims.py``'s corpus; ``benchmarks/claim_corpus_accuracy.py``
prints the accuracy per class over both.
"""

from __future__ import annotations

import pytest

import derive
from tests import test_claims as base

MORE_NETS = {
    "softmax_mse": derive.mlp([2, 3, 3], activations=["sigmoid", "softmax"], loss="mse"),
    "softmax_ce": derive.mlp([2, 3, 3], activations=["tanh", "softmax"], loss="cross_entropy"),
    "augmented_square": derive.mlp([2, 2, 2], activation="tanh", loss="mse",
                                   convention="augmented"),
    "columns": derive.mlp([2, 3, 2], activation="tanh", loss="mse", convention="columns"),
    "deep": derive.mlp([2, 2, 2, 2], activation="tanh", loss="mse"),
    "relu_augmented": derive.mlp([2, 3, 1], activations=["relu", "sigmoid"], loss="bce",
                                 convention="augmented"),
}
base.NETS.update(MORE_NETS)

# More seeded mistakes in every profile: CMU 10-315 (z_i the activations, s_i the
# pre-activations, w_i, ∂J/∂z_i in numerator layout, a row), Durham (y_i, u_i, W_i, t the
# target, f), the wrong order of a product (also one that cannot be formed: invalid, named
# wrong_order),
# softmax's coupling kept on its diagonal only, an activation derivative too many on a fused
# a − y, block matrices (the Mines augmented vector [1; v]).
MORE_NETWORK_CORPUS = [
 # cs229: Φ' applied twice; the − y of a − y dropped inside the signal
 ("cs229", "sigmoid_bce", "W1", "numerator",
  r"\nabla_{W^{[1]}} \mathcal{L} = ((W^{[2]T} \delta^{[2]}) \odot g'(z^{[1]}) \odot g'(z^{[1]}))"
  r" x^T", "incorrect", "wrong_activation_derivative"),
 ("cs229", "sigmoid_bce", "W1", "numerator",
  r"\nabla_{W^{[1]}} \mathcal{L} = ((W^{[2]T} a^{[2]}) \odot g'(z^{[1]})) x^T",
  "incorrect", "missing_term"),
 # cmu
 ("cmu", "sigmoid_bce", "W2", "numerator", r"\nabla_{w_2} J = (z_2 - y) z_1^T", "correct", None),
 ("cmu", "sigmoid_bce", "W2", "numerator",
  r"\frac{\partial J}{\partial w_2} = z_1 (z_2 - y)", "correct", None),
 ("cmu", "sigmoid_bce", "W2", "numerator", r"(z_2 - y) z_1^T", "incorrect", "layout_swap"),
 ("cmu", "sigmoid_bce", "W2", "numerator",
  r"\nabla_{w_2} J = z_1 (z_2 - y)", "incorrect", "missing_transpose"),
 ("cmu", "sigmoid_bce", "W2", "numerator",
  r"\nabla_{w_2} J = (y - z_2) z_1^T", "incorrect", "wrong_sign"),
 ("cmu", "sigmoid_bce", "W1", "numerator",
  r"\nabla_{w_1} J = (w_2^T (z_2 - y) \odot g'(s_1)) x^T", "correct", None),
 ("cmu", "sigmoid_bce", "W1", "numerator",
  r"\nabla_{w_1} J = (w_2^T (z_2 - y) \odot z_1 \odot (1 - z_1)) x^T", "correct", None),
 ("cmu", "sigmoid_bce", "W1", "numerator",
  r"\nabla_{w_1} J = (w_2^T (z_2 - y)) x^T", "incorrect", "missing_activation_derivative"),
 ("cmu", "sigmoid_bce", "W1", "numerator",
  r"\nabla_{w_1} J = x^T (w_2^T (z_2 - y) \odot g'(s_1))", "invalid", "wrong_order"),
 ("cmu", "sigmoid_bce", "b1", "numerator",
  r"\frac{\partial J}{\partial b_1} = \frac{\partial J}{\partial z_1} "
  r"\operatorname{diag}(g'(s_1))", "correct", None),
 ("cmu", "sigmoid_bce", "b1", "numerator",
  r"\frac{\partial J}{\partial b_1} = \frac{\partial J}{\partial z_1}",
  "incorrect", "missing_activation_derivative"),
 ("cmu", "tanh_mse", "b2", "numerator",
  r"\nabla_{b_2} J = (z_2 - y) \odot g'(s_2)", "correct", None),
 ("cmu", "tanh_mse", "b2", "numerator",
  r"\nabla_{b_2} J = 2 (z_2 - y) \odot g'(s_2)", "incorrect", "extra_factor"),
 ("cmu", "tanh_mse", "b2", "numerator",
  r"\nabla_{b_2} J = (z_2 - y) \odot g(s_2)", "incorrect", "wrong_activation_derivative"),
 ("cmu", "tanh_mse", "W2", "numerator",
  r"\nabla_{w_2} J = (z_2 - y) \odot g'(s_2) z_1^T", "correct", None),
 ("cmu", "tanh_mse", "W2", "numerator",
  r"\nabla_{w_2} J = z_1^T ((z_2 - y) \odot g'(s_2))", "invalid", "wrong_order"),
 ("cmu", "square", "W2", "numerator",
  r"\nabla_{w_2} J = ((z_2 - y) \odot g'(s_2)) x^T", "incorrect", "wrong_layer"),
 # durham
 ("durham", "sigmoid_bce", "W2", "numerator", r"\nabla_{W_2} C = (y_2 - t) y_1^T", "correct", None),
 ("durham", "sigmoid_bce", "W2", "numerator", r"\nabla_{W_2} C = \delta_2 y_1^T", "correct", None),
 ("durham", "sigmoid_bce", "W2", "numerator",
  r"\nabla_{W_2} C = y_1 \delta_2", "incorrect", "missing_transpose"),
 ("durham", "sigmoid_bce", "W1", "numerator",
  r"\nabla_{W_1} C = (W_2^T \delta_2 \odot f'(u_1)) x^T", "correct", None),
 ("durham", "sigmoid_bce", "W1", "numerator",
  r"\nabla_{W_1} C = \operatorname{diag}(f'(u_1)) W_2^T \delta_2 x^T", "correct", None),
 ("durham", "sigmoid_bce", "W1", "numerator",
  r"\nabla_{W_1} C = (W_2^T \delta_2 \odot f(u_1)) x^T",
  "incorrect", "wrong_activation_derivative"),
 ("durham", "sigmoid_bce", "W1", "numerator",
  r"\nabla_{W_1} C = (W_2 \delta_2 \odot f'(u_1)) x^T", "invalid", "shape_mismatch"),
 ("durham", "sigmoid_bce", "b2", "numerator",
  r"\nabla_{b_2} C = (y_2 - t) \odot f'(u_2)", "incorrect", "wrong_activation_derivative"),
 ("durham", "sigmoid_bce", "b2", "numerator",
  r"\nabla_{b_2} C = \frac{1}{3}(y_2 - t)", "incorrect", "missing_factor"),
 ("durham", "tanh_mse", "b2", "numerator",
  r"\nabla_{b_2} C = (y_2 - t) \odot f'(u_2)", "correct", None),
 ("durham", "tanh_mse", "b2", "numerator",
  r"\nabla_{b_2} C = (y_2 - t) f'(u_2)", "invalid", "hadamard_vs_matmul"),
 ("durham", "square", "b2", "numerator",
  r"\nabla_{b_2} C = (y_2 - t) f'(u_2)^T", "invalid", "shape_mismatch"),
 ("durham", "square", "b1", "numerator",
  r"\nabla_{b_1} C = (\operatorname{diag}(f'(u_1)) \odot W_2^T) \delta_2",
  "incorrect", "hadamard_vs_matmul"),
 ("durham", "square", "b1", "numerator",
  r"\nabla_{b_1} C = \operatorname{diag}(f'(u_1)) W_2^T \delta_2", "correct", None),
 ("durham", "square", "b1", "numerator",
  r"\nabla_{b_1} C = W_2^T \operatorname{diag}(f'(u_1)) \delta_2", "incorrect", "wrong_order"),
 # cs229 more
 ("cs229", "square", "b1", "numerator",
  r"\nabla_{b^{[1]}} \mathcal{L} = W^{[2]T} \operatorname{diag}(g'(z^{[1]})) \delta^{[2]}",
  "incorrect", "wrong_order"),
 ("cs229", "square", "b1", "numerator",
  r"\nabla_{b^{[1]}} \mathcal{L} = \operatorname{diag}(g'(z^{[1]})) W^{[2]T} \delta^{[2]}",
  "correct", None),
 ("cs229", "square", "b1", "numerator",
  r"\nabla_{b^{[1]}} \mathcal{L} = (W^{[2]T} \delta^{[2]}) g'(z^{[1]})^T",
  "invalid", "shape_mismatch"),
 ("cs229", "square", "b1", "numerator",
  r"\nabla_{b^{[1]}} \mathcal{L} = (\operatorname{diag}(g'(z^{[1]})) \odot W^{[2]T}) "
  r"\delta^{[2]}", "incorrect", "hadamard_vs_matmul"),
 ("cs229", "tanh_mse", "W2", "numerator",
  r"\nabla_{W^{[2]}} \mathcal{L} = a^{[1]T} \delta^{[2]}", "invalid", "wrong_order"),
 ("cs229", "sigmoid_bce", "W1", "numerator",
  r"\nabla_{W^{[1]}} \mathcal{L} = x^T (W^{[2]T}\delta^{[2]} \odot g'(z^{[1]}))",
  "invalid", "wrong_order"),
 ("cs229", "sigmoid_bce", "b2", "numerator",
  r"\nabla_{b^{[2]}} \mathcal{L} = (a^{[2]} - y) \odot g'(z^{[2]})",
  "incorrect", "wrong_activation_derivative"),
 ("cs229", "sigmoid_bce", "b2", "numerator",
  r"\nabla_{b^{[2]}} \mathcal{L} = (a^{[2]} - y) \odot \sigma'(z^{[2]})",
  "incorrect", "wrong_activation_derivative"),
 ("cs229", "sigmoid_bce", "b2", "numerator",
  r"\nabla_{b^{[2]}} \mathcal{L} = -(a^{[2]} - y)", "incorrect", "wrong_sign"),
 ("cs229", "sigmoid_bce", "b2", "numerator",
  r"\nabla_{b^{[2]}} J = \frac{1}{N}(A^{[2]} - Y)\mathbf{1}", "correct", None),
 ("cs229", "sigmoid_bce", "b2", "numerator",
  r"\nabla_{b^{[2]}} J = (A^{[2]} - Y)\mathbf{1}", "incorrect", "missing_factor"),
 ("cs229", "sigmoid_bce", "W1", "numerator",
  r"\nabla_{W^{[1]}} J = \frac{1}{N} (W^{[2]T} \Delta^{[2]} \odot g'(Z^{[1]})) X",
  "invalid", "missing_transpose"),
 ("cs229", "sigmoid_bce", "W1", "numerator",
  r"\nabla_{W^{[1]}} J = \frac{1}{N} X^T (W^{[2]T} \Delta^{[2]} \odot g'(Z^{[1]}))",
  "invalid", "wrong_order"),
 ("cs229", "softmax_mse", "b2", "numerator",
  r"\nabla_{b^{[2]}} \mathcal{L} = (\operatorname{diag}(a^{[2]}) - a^{[2]} a^{[2]T}) (a^{[2]} "
  r"- y)", "correct", None),
 ("cs229", "softmax_mse", "b2", "numerator",
  r"\nabla_{b^{[2]}} \mathcal{L} = (a^{[2]} - y) \odot a^{[2]} \odot (1 - a^{[2]})",
  "incorrect", "missing_term"),
 ("cs229", "softmax_mse", "b2", "numerator",
  r"\nabla_{b^{[2]}} \mathcal{L} = \operatorname{diag}(a^{[2]}) (a^{[2]} - y)",
  "incorrect", "missing_term"),
 ("cs229", "softmax_ce", "b2", "numerator",
  r"\nabla_{b^{[2]}} \mathcal{L} = a^{[2]} - y", "correct", None),
 ("cs229", "softmax_ce", "W2", "numerator",
  r"\nabla_{W^{[2]}} \mathcal{L} = (\hat{y} - y) a^{[1]T}", "correct", None),
 ("cs229", "softmax_ce", "W2", "numerator",
  r"\nabla_{W^{[2]}} \mathcal{L} = (y - \hat{y}) a^{[1]T}", "incorrect", "wrong_sign"),
 ("cs229", "softmax_ce", "W1", "numerator",
  r"\nabla_{W^{[1]}} \mathcal{L} = (W^{[2]T}(a^{[2]} - y) \odot (1 - a^{[1]} \odot a^{[1]})) "
  r"x^T", "correct", None),
 ("cs229", "softmax_ce", "W1", "numerator",
  r"\nabla_{W^{[1]}} \mathcal{L} = (W^{[2]T}(a^{[2]} - y) \odot (1 - a^{[1]})) x^T",
  "incorrect", "other"),
 ("cs229", "softmax_ce", "W1", "numerator",
  r"\nabla_{W^{[1]}} \mathcal{L} = (W^{[2]T}(a^{[2]} - y) \odot a^{[1]} \odot (1 - a^{[1]})) "
  r"x^T", "incorrect", "other"),
 ("cs229", "softmax_ce", "W1", "numerator",
  r"\nabla_{W^{[1]}} \mathcal{L} = (W^{[2]T}(a^{[2]} - y) \odot \sigma'(z^{[1]})) x^T",
  "incorrect", "wrong_activation_derivative"),
 # ensimag
 ("ensimag", "sigmoid_bce", "W2", "numerator",
  r"\nabla_{\Omega^{2}} \mathcal{C} = -\mathcal{B}^{2} \alpha^{1T}", "incorrect", "wrong_sign"),
 ("ensimag", "sigmoid_bce", "W2", "numerator",
  r"\frac{\partial \mathcal{C}}{\partial \Omega^{2}} = \alpha^{1} \mathcal{B}^{2T}",
  "correct", None),
 ("ensimag", "sigmoid_bce", "W2", "numerator",
  r"\mathcal{B}^{2} \alpha^{1T}", "incorrect", "layout_swap"),
 ("ensimag", "tanh_mse", "W2", "numerator",
  r"\nabla_{\Omega^{2}} \mathcal{C} = \alpha^{1T} \mathcal{B}^{2}", "invalid", "wrong_order"),
 ("ensimag", "square", "W2", "numerator",
  r"\nabla_{\Omega^{2}} \mathcal{C} = \mathcal{B}^{2} \alpha^{0T}", "incorrect", "wrong_layer"),
 ("ensimag", "square", "b1", "numerator",
  r"\nabla_{\beta^{1}} \mathcal{C} = (\Omega^{2T} \odot \operatorname{diag}(\Phi'(\zeta^{1})))"
  r" \mathcal{B}^{2}", "incorrect", "hadamard_vs_matmul"),
 ("ensimag", "tanh_mse", "b1", "numerator",
  r"\nabla_{\beta^{1}} \mathcal{C} = 2\,\Omega^{2T}\mathcal{B}^{2} \odot \Phi'(\zeta^{1})",
  "incorrect", "extra_factor"),
 # mines
 ("mines", "augmented", "W2", "numerator",
  r"\nabla_{\tilde{W}^{(2)}} \delta = E^{(2)t} \begin{bmatrix} 1 \\ \mathbf{v}^{(1)} "
  r"\end{bmatrix}^t", "correct", None),
 ("mines", "augmented", "W2", "numerator",
  r"\nabla_{\tilde{W}^{(2)}} \delta = E^{(2)t} \begin{bmatrix} 1 & \mathbf{v}^{(1)t} "
  r"\end{bmatrix}", "correct", None),
 ("mines", "augmented", "W2", "numerator",
  r"\nabla_{\tilde{W}^{(2)}} \delta = -E^{(2)t} \tilde{v}^{(1)t}", "incorrect", "wrong_sign"),
 ("mines", "augmented", "W2", "numerator",
  r"\nabla_{\tilde{W}^{(2)}} \delta = \frac{1}{2} E^{(2)t} \tilde{v}^{(1)t}",
  "incorrect", "missing_factor"),
 ("mines", "augmented", "W2", "numerator",
  r"\nabla_{\tilde{W}^{(2)}} \delta = \tilde{v}^{(1)t} E^{(2)t}", "correct", None),
 ("mines", "augmented", "W2", "numerator",
  r"\nabla_{\tilde{W}^{(2)}} \delta = E^{(2)t} \begin{bmatrix} \mathbf{v}^{(1)} \\ 1 "
  r"\end{bmatrix}^t", "incorrect", "other"),
 ("mines", "augmented", "W1", "numerator",
  r"\nabla_{\tilde{W}^{(1)}} \delta = (W^{(2)t} E^{(2)t} \odot h(\mathbf{s}^{(1)})) "
  r"\tilde{x}^{t}", "incorrect", "wrong_activation_derivative"),
 ("mines", "augmented", "W1", "numerator",
  r"\nabla_{\tilde{W}^{(1)}} \delta = (W^{(2)t} E^{(2)t} \odot \mathbf{v}^{(1)} \odot (1 - "
  r"\mathbf{v}^{(1)})) \begin{bmatrix} 1 \\ \mathbf{x} \end{bmatrix}^{t}", "correct", None),
 ("mines", "augmented", "W1", "numerator",
  r"\nabla_{\tilde{W}^{(1)}} \delta = \tilde{x} (W^{(2)t} E^{(2)t} \odot "
  r"h'(\mathbf{s}^{(1)}))^t", "incorrect", "missing_transpose"),
 # a quantity of the wrong layer at one of its places, the layers exchanged, a chain reversed
 ("cmu", "square", "W1", "numerator", r"\nabla_{w_1} J = (w_1^T ((z_2 - y) \odot g'(s_2)) \odot "
  r"g'(s_1)) x^T", "incorrect", "wrong_layer"),
 ("cmu", "square", "W1", "numerator", r"\nabla_{w_1} J = (w_2^T ((z_2 - y) \odot g'(s_2)) \odot "
  r"g'(s_2)) x^T", "incorrect", "wrong_layer"),
 ("durham", "sigmoid_bce", "W2", "numerator", r"\frac{\partial C}{\partial W_2} = \delta_2 y_1^T",
  "incorrect", "layout_swap"),
 ("ensimag", "square", "W1", "numerator", r"\nabla_{\Omega^{1}} \mathcal{C} = (\Omega^{1T}"
  r"\mathcal{B}^{2} \odot \Phi'(\zeta^{1})) \alpha^{0T}", "incorrect", "wrong_layer"),
 ("ensimag", "columns", "W2", "numerator", r"\nabla_{\Omega^{2}} \mathcal{C} = \alpha^{1} "
  r"\mathcal{B}^{2T}", "correct", None),
 ("ensimag", "columns", "W2", "numerator", r"\nabla_{\Omega^{2}} \mathcal{C} = \mathcal{B}^{2} "
  r"\alpha^{1T}", "incorrect", "missing_transpose"),
 ("ensimag", "columns", "W1", "numerator", r"\nabla_{\Omega^{1}} \mathcal{C} = \alpha^{0} "
  r"(\Omega^{2}\mathcal{B}^{2} \odot \Phi'(\zeta^{1}))^T", "correct", None),
 ("mines", "augmented_square", "W1", "numerator", r"\nabla_{\tilde{W}^{(1)}} \delta = (W^{(2)t} "
  r"E^{(2)t} \odot h'(\mathbf{s}^{(1)})) \tilde{x}^{t}", "correct", None),
 ("mines", "augmented_square", "W1", "numerator", r"\nabla_{\tilde{W}^{(1)}} \delta = (W^{(2)} "
  r"E^{(2)t} \odot h'(\mathbf{s}^{(1)})) \tilde{x}^{t}", "incorrect", "missing_transpose"),
 ("mines", "augmented_square", "W1", "numerator", r"\nabla_{\tilde{W}^{(1)}} \delta = (W^{(2)t} "
  r"E^{(2)t} \odot h'(\mathbf{s}^{(2)})) \tilde{x}^{t}", "incorrect", "wrong_layer"),
 ("mines", "augmented_square", "W1", "numerator", r"\nabla_{\tilde{W}^{(1)}} \delta = (W^{(2)t} "
  r"E^{(2)t} \odot h'(\mathbf{s}^{(1)})) \tilde{v}^{(1)t}", "incorrect", "wrong_layer"),
 ("mines", "augmented_square", "W2", "numerator", r"\nabla_{\tilde{W}^{(2)}} \delta = (E^{(2)} "
  r"\odot h'(\mathbf{s}^{(2)})^t)^t \tilde{v}^{(1)t}", "incorrect",
  "wrong_activation_derivative"),
 ("cs229", "deep", "W1", "numerator", r"\nabla_{W^{[1]}} \mathcal{L} = (W^{[2]T} (W^{[3]T}"
  r"\delta^{[3]} \odot g'(z^{[2]})) \odot g'(z^{[1]})) x^T", "correct", None),
 ("cs229", "deep", "W1", "numerator", r"\nabla_{W^{[1]}} \mathcal{L} = (W^{[2]T} W^{[3]T}"
  r"\delta^{[3]} \odot g'(z^{[1]})) x^T", "incorrect", "missing_activation_derivative"),
 ("cs229", "deep", "W1", "numerator", r"\nabla_{W^{[1]}} \mathcal{L} = (W^{[3]T} (W^{[2]T}"
  r"\delta^{[3]} \odot g'(z^{[2]})) \odot g'(z^{[1]})) x^T", "incorrect", "wrong_order"),
 ("cs229", "deep", "b1", "numerator", r"\nabla_{b^{[1]}} \mathcal{L} = \operatorname{diag}"
  r"(g'(z^{[1]})) W^{[2]T} \operatorname{diag}(g'(z^{[2]})) W^{[3]T} \delta^{[3]}", "correct",
  None),
 ("cs229", "deep", "b1", "numerator", r"\nabla_{b^{[1]}} \mathcal{L} = W^{[3]T} \operatorname"
  r"{diag}(g'(z^{[2]})) W^{[2]T} \operatorname{diag}(g'(z^{[1]})) \delta^{[3]}", "incorrect",
  "wrong_order"),
 ("cs229", "deep", "b1", "numerator", r"\nabla_{b^{[1]}} \mathcal{L} = \operatorname{diag}"
  r"(g'(z^{[1]})) W^{[2]T} \operatorname{diag}(g'(z^{[2]})) W^{[3]T} \delta^{[2]}", "incorrect",
  "wrong_layer"),
 ("cs229", "tanh_mse", "W2", "numerator", r"\nabla_{W^{[2]}} J = \frac{1}{N}((A^{[2]} - Y) "
  r"\odot g'(Z^{[2]})) A^{[1]T}", "correct", None),
 ("cs229", "tanh_mse", "W2", "numerator", r"\nabla_{W^{[2]}} J = \frac{1}{N}(A^{[2]} - Y) "
  r"A^{[1]T}", "incorrect", "missing_activation_derivative"),
 ("cs229", "tanh_mse", "W2", "numerator", r"\nabla_{W^{[2]}} J = \frac{2}{N}((A^{[2]} - Y) "
  r"\odot g'(Z^{[2]})) A^{[1]T}", "incorrect", "extra_factor"),
 ("cs229", "tanh_mse", "b2", "numerator", r"\nabla_{b^{[2]}} J = \frac{1}{N}((A^{[2]} - Y) "
  r"\odot g'(Z^{[2]})) \mathbf{1}", "correct", None),
 ("cs229", "tanh_mse", "b2", "numerator", r"\nabla_{b^{[2]}} J = \frac{1}{N}((A^{[2]} - Y) "
  r"\odot g'(Z^{[2]}))", "invalid", "shape_mismatch"),
    # ⊙ where the diag(g') W form has a matrix product
    ("cmu", "square", "b1", "numerator",
     r"\nabla_{b_1} J = (\operatorname{diag}(g'(s_1)) \odot w_2^T) ((z_2 - y) \odot g'(s_2))",
     "incorrect", "hadamard_vs_matmul"),
    ("cmu", "square", "b1", "numerator",
     r"\nabla_{b_1} J = \operatorname{diag}(g'(s_1)) w_2^T ((z_2 - y) \odot g'(s_2))",
     "correct", None),
    ("mines", "augmented_square", "W1", "numerator",
     r"\nabla_{\tilde{W}^{(1)}} \delta = ((\operatorname{diag}(h'(\mathbf{s}^{(1)})) \odot "
     r"W^{(2)t}) E^{(2)t}) \tilde{x}^{t}", "incorrect", "hadamard_vs_matmul"),
    ("mines", "augmented_square", "W1", "numerator",
     r"\nabla_{\tilde{W}^{(1)}} \delta = (\operatorname{diag}(h'(\mathbf{s}^{(1)})) W^{(2)t} "
     r"E^{(2)t}) \tilde{x}^{t}", "correct", None),
]

SQ = {"A": (3, 3), "X": (3, 3)}
AXB = {"A": (3, 2), "x": (2, 1), "b": (3, 1)}
ASQ = {"A": (3, 3), "x": (3, 1), "b": (3, 1)}
XI = {"a": (3, 1), "b": (3, 1), "X": (3, 3)}

# identities of the standard tables with their classic mistakes (the same fields as
# tests/test_claims.py's IDENTITY_CORPUS)
MORE_IDENTITY_CORPUS = [
    (r"\operatorname{tr}(A X)", "X", SQ, (), "denominator", r"A^T", "correct", None),
    (r"\operatorname{tr}(A X)", "X", SQ, (), "denominator", r"A", "incorrect", "layout_swap"),
    (r"\operatorname{tr}(X^T A X)", "X", SQ, (), "denominator", r"(A + A^T) X", "correct", None),
    (
     r"\operatorname{tr}(X^T A X)", "X", SQ, (), "denominator", r"2 A X",
     "incorrect", "missing_term"),
    (
     r"\operatorname{tr}(X^T A X)", "X", SQ, (), "denominator", r"X (A + A^T)",
     "incorrect", "wrong_order"),
    (r"\|A x - b\|^2", "x", AXB, (), "denominator", r"2 A^T (A x - b)", "correct", None),
    (r"\|A x - b\|^2", "x", AXB, (), "numerator", r"2 (A x - b)^T A", "correct", None),
    (
     r"\|A x - b\|^2", "x", AXB, (), "denominator", r"A^T (A x - b)",
     "incorrect", "missing_factor"),
    (r"\|A x - b\|^2", "x", AXB, (), "denominator", r"2 (A x - b)^T A", "incorrect", "layout_swap"),
    (
     r"\|A x - b\|^2", "x", ASQ, (), "denominator", r"2 A (A x - b)",
     "incorrect", "missing_transpose"),
    (r"\|A x - b\|^2", "x", AXB, (), "denominator", r"2 (A x - b) A^T", "invalid", "wrong_order"),
    (r"\|A x - b\|^2", "x", AXB, (), "denominator", r"(A x - b)^T A 2", "incorrect", "layout_swap"),
    (r"\|A x - b\|^2", "x", AXB, (), "denominator", r"-2 A^T (A x - b)", "incorrect", "wrong_sign"),
    (r"\|A x - b\|^2", "x", AXB, (), "denominator", r"2 A^T (A x + b)", "incorrect", "other"),
    (r"\log\det X", "X", {"X": (3, 3)}, (), "denominator", r"X^{-T}", "correct", None),
    (r"\log\det X", "X", {"X": (3, 3)}, (), "denominator", r"X^{-1}", "incorrect", "layout_swap"),
    (r"a^T X^{-1} b", "X", XI, (), "denominator", r"-X^{-T} a b^T X^{-T}", "correct", None),
    (r"a^T X^{-1} b", "X", XI, (), "denominator",
     r"X^{-T} a b^T X^{-T}", "incorrect", "wrong_sign"),
    (r"a^T X^{-1} b", "X", XI, (), "denominator",
     r"-X^{-1} a b^T X^{-1}", "incorrect", "missing_transpose"),
    (r"a^T X^{-1} b", "X", XI, (), "denominator", r"-a b^T", "incorrect", "other"),
    (
     r"\operatorname{logsumexp}(z)", "z", {"z": (3, 1)}, (),
     "denominator", r"\operatorname{softmax}(z)",
     "correct", None),
    (
     r"\operatorname{logsumexp}(z)", "z", {"z": (3, 1)}, (), "denominator", r"\exp(z)",
     "incorrect", "other"),
    (r"x^T A x", "x", ASQ, (), "numerator", r"x^T (A + A^T)", "correct", None),
    (r"x^T A x", "x", ASQ, (), "numerator", r"2 x^T A", "incorrect", "missing_term"),
    (r"x^T A x", "x", ASQ, (), "numerator", r"(A + A^T) x", "incorrect", "layout_swap"),
    (r"\mathbf{1}^T \tanh(W x)", "x", {"W": (3, 2), "x": (2, 1)}, (), "numerator",
     r"(1 - \tanh(W x) \odot \tanh(Wx))^T W", "correct", None),
    (
     r"\mathbf{1}^T \tanh(W x)", "x", {"W": (3, 2), "x": (2, 1)}, (),
     "numerator", r"\sigma'(W x)^T W",
     "incorrect", "wrong_activation_derivative"),
    (
     r"\mathbf{1}^T \tanh(W x)", "x", {"W": (3, 2), "x": (2, 1)}, (),
     "numerator", r"\tanh(W x)^T W",
     "incorrect", "wrong_activation_derivative"),
    (
     r"\mathbf{1}^T \tanh(W x)", "x", {"W": (3, 2), "x": (2, 1)}, (),
     "denominator", r"W^T \tanh'(W x)",
     "correct", None),
    (
     r"\mathbf{1}^T \tanh(W x)", "x", {"W": (3, 2), "x": (2, 1)}, (),
     "denominator", r"W \tanh'(W x)",
     "invalid", "missing_transpose"),
]

# a relu hidden layer in four notations (ten points: no region of relu' hides a mistake)
MORE_NETWORK_CORPUS += [
    ("ensimag", "relu", "W1", "numerator",
     r"\nabla_{\Omega^{1}} \mathcal{C} = (\Omega^{2T}\mathcal{B}^{2} \odot \Phi'(\zeta^{1})) "
     r"\alpha^{0T}", "correct", None),
    ("ensimag", "relu", "W1", "numerator",
     r"\nabla_{\Omega^{1}} \mathcal{C} = \Omega^{2T}\mathcal{B}^{2} \alpha^{0T}",
     "incorrect", "missing_activation_derivative"),
    ("cmu", "relu", "W1", "numerator",
     r"\nabla_{w_1} J = (w_2^T (z_2 - y) \odot g'(s_1)) x^T", "correct", None),
    ("cmu", "relu", "W1", "numerator",
     r"\nabla_{w_1} J = (w_2^T (z_2 - y) \odot \sigma'(s_1)) x^T",
     "incorrect", "wrong_activation_derivative"),
    ("durham", "relu", "b1", "numerator",
     r"\nabla_{b_1} C = W_2^T (y_2 - t) \odot f'(u_1)", "correct", None),
    ("durham", "relu", "b1", "numerator",
     r"\nabla_{b_1} C = W_2^T (y_2 - t) \odot y_1", "incorrect", "wrong_activation_derivative"),
    ("mines", "relu_augmented", "W1", "numerator",
     r"\nabla_{\tilde{W}^{(1)}} \delta = (W^{(2)t} E^{(2)t} \odot h'(\mathbf{s}^{(1)})) "
     r"\tilde{x}^{t}", "correct", None),
]


@pytest.mark.parametrize("notation, net, wrt, layout, claim, expected, cls", MORE_NETWORK_CORPUS)
def test_more_network_claims(notation, net, wrt, layout, claim, expected, cls):
    base.test_network_claims(notation, net, wrt, layout, claim, expected, cls)


@pytest.mark.parametrize("expr, wrt, shapes, symmetric, layout, claim, expected, cls",
                         MORE_IDENTITY_CORPUS)
def test_more_identity_claims(expr, wrt, shapes, symmetric, layout, claim, expected, cls):
    base.test_identity_claims(expr, wrt, shapes, symmetric, layout, claim, expected, cls)


def test_every_class_is_seeded_in_several_profiles():
    profiles = {}
    for notation, _, _, _, _, _, cls in base.NETWORK_CORPUS + MORE_NETWORK_CORPUS:
        profiles.setdefault(cls, set()).add(notation)
    for cls in ("layout_swap", "missing_transpose", "wrong_order", "missing_factor",
                "extra_factor", "wrong_sign", "missing_activation_derivative",
                "wrong_activation_derivative", "hadamard_vs_matmul", "wrong_layer",
                "shape_mismatch", None):
        assert len(profiles[cls]) >= 3, (cls, profiles.get(cls))
