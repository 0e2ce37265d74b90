"""Hand-written NumPy gradient modules: fixtures for the numeric verifier (SPEC §6 interface).

Each file is a self-contained module (it imports numpy only) exposing ``PARAM_SHAPES``,
``init_params(rng=None)``, ``forward(params, X) -> (Yhat, cache)``, ``loss(params, X, Y)`` and
``gradients(params, X, Y)``; X is n_0 × N with samples as columns.  They are written by hand,
independently of ``derive``, so that the verifier is tested on code it did not produce.  The
tests load them both by import and from their file path, and build faulty variants by editing
one line of their source (``tests/test_verify_numeric.py``).

=============================  ======================================================
smooth
``sigmoid_bce_rows``           2-3-1, sigmoid, binary cross-entropy, rows, mean
``tanh_mse_columns``           3-4-2, tanh, mse, columns (ζ = Wᵀa + b), mean
``relu_softmax_ce``            4-5-5-3, relu, relu, softmax + cross-entropy, rows
``augmented_sum``              2-3-2, augmented bias column (Mines), tanh, sigmoid,
                               squared loss, sum over the batch
``float32_tanh_mse``           3-4-2 tanh/mse computed in float32
with kinks
``relu_l1``                    3-4-2, relu, identity output, l1
``step_sigmoid_mse``           3-4-1, step hidden layer, sigmoid output, mse
``relu_hinge``                 2-4-1, relu, identity output, hinge on ±1 targets
``tanh_huber``                 3-4-2, tanh, identity output, huber (δ = 1)
``maxout_mse``                 3-(2·4)-2, maxout (max of two affine maps), mse
=============================  ======================================================
"""
