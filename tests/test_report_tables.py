"""The finite-difference table and the code listing of a report (reports.tables,
reports.listing).

Truth: the 2-3-1 sigmoid + bce gradients backpropagated by hand in NumPy below, independent of
the engine; central differences computed here; the generated module run on the same point.
"""

from __future__ import annotations

import numpy as np
import pytest

import derive
from derive.errors import BadInput
from reports.listing import code_listing
from reports.tables import ENTRIES, fd_table, numeric_point

NET = derive.mlp([2, 3, 1], activation="sigmoid", loss="bce", notation="cs229")
D = derive.backprop(NET)
TABLE = fd_table(D)


def hand_gradients(p, X, Y):
    """∇ of the mean bce of a 2-3-1 sigmoid network, z = W a + b, samples as columns."""
    sigma = lambda z: 1 / (1 + np.exp(-z))
    A1 = sigma(p["W1"] @ X + p["b1"])
    A2 = sigma(p["W2"] @ A1 + p["b2"])
    D2 = (A2 - Y) / X.shape[1]
    D1 = (p["W2"].T @ D2) * A1 * (1 - A1)
    return {"W1": D1 @ X.T, "b1": D1.sum(axis=1, keepdims=True), "W2": D2 @ A1.T,
            "b2": D2.sum(axis=1, keepdims=True)}


def hand_loss(p, X, Y):
    sigma = lambda z: 1 / (1 + np.exp(-z))
    A2 = sigma(p["W2"] @ sigma(p["W1"] @ X + p["b1"]) + p["b2"])
    return float(np.mean(-Y * np.log(A2) - (1 - Y) * np.log(1 - A2)))


def entry_rows():
    return [row for k, row in enumerate(TABLE.rows) if k not in TABLE.summary_rows]


def test_shown_entries_are_the_hand_gradient_and_its_central_difference():
    point = numeric_point(D)
    truth = hand_gradients(point.params, point.X, point.Y)
    assert np.isclose(hand_loss(point.params, point.X, point.Y), point.loss(point.params),
                      rtol=1e-12)
    for name, entry, analytic, numeric, rel, step in entry_rows():
        index = tuple(int(i) for i in entry.strip("[]").split(", "))
        assert float(analytic) == pytest.approx(truth[name][index], rel=1e-9, abs=1e-12)
        # central difference computed here, with the step the table states
        h = float(step)
        moved = {k: v.copy() for k, v in point.params.items()}
        moved[name][index] += h
        plus = hand_loss(moved, point.X, point.Y)
        moved[name][index] -= 2 * h
        minus = hand_loss(moved, point.X, point.Y)
        assert float(numeric) == pytest.approx((plus - minus) / (2 * h), rel=1e-6, abs=1e-9)
        assert float(rel) < 1e-6
        assert h == pytest.approx(np.finfo(float).eps ** (1 / 3), rel=0.01)   # |θ| < 1


def test_layout_of_the_table():
    assert TABLE.columns == ("parameter", "entry", "analytic", "central difference",
                             "relative error", "step h")
    names = [row[0] for row in TABLE.rows]
    # W1 has 6 entries: ENTRIES of them, evenly spaced; b2 its only one; then each summary
    assert names == ["W1"] * (ENTRIES + 1) + ["b1"] * 4 + ["W2"] * 4 + ["b2"] * 2
    assert [row[1] for row in TABLE.rows[:ENTRIES]] == ["[0, 0]", "[1, 0]", "[1, 1]", "[2, 1]"]
    summaries = [TABLE.rows[k] for k in TABLE.summary_rows]
    assert [row[1] for row in summaries] == ["max over 6 entries", "max over 3 entries",
                                             "max over 3 entries", "max over 1 entry"]
    for summary in summaries:
        shown = [float(row[4]) for row in entry_rows() if row[0] == summary[0]]
        assert max(shown) <= float(summary[4]) < 1e-6
    assert "$(J(\\theta + h e_i)" in TABLE.caption and "2-3-1 network" in TABLE.caption
    assert "seed" not in TABLE.caption.lower()


def test_deterministic_and_in_the_asked_notation():
    again = fd_table(derive.backprop(NET), notation="ensimag")
    assert again.rows == TABLE.rows
    assert "\\mathcal{E}(\\theta" in again.caption


def test_symbolic_sizes_are_instantiated_and_said():
    d = derive.backprop(derive.load_spec({"network": {"sizes": ["n_0", "n_1", "n_2"],
                                                      "activation": "tanh", "loss": "mse"}}))
    table = fd_table(d)
    assert "sizes 3-4-2" in table.caption and "symbols" in table.caption
    assert [table.rows[k][1] for k in table.summary_rows] == [
        "max over 12 entries", "max over 4 entries", "max over 8 entries", "max over 2 entries"]


def test_graph_has_no_table_or_listing():
    graph = derive.derive_graph({"graph": {"output": "J", "inputs": ["x"],
                                           "parameters": ["w"], "nodes": {"J": "w * x"}}})
    with pytest.raises(BadInput, match="no network"):
        fd_table(graph)
    with pytest.raises(BadInput, match="no network"):
        code_listing(graph)


def test_listing_is_the_generated_module_and_computes_the_hand_gradients():
    source = code_listing(D)
    assert source == D.to_numpy()
    namespace: dict = {}
    exec(compile(source, "mlp.py", "exec"), namespace)  # noqa: S102 - our generated module
    point = numeric_point(D)
    grads = namespace["gradients"](point.params, point.X, point.Y)
    for name, truth in hand_gradients(point.params, point.X, point.Y).items():
        np.testing.assert_allclose(grads[name], truth, rtol=1e-10, atol=1e-14)
    assert "delta2" in source and "B2" in code_listing(D, notation="ensimag")


def test_listing_refuses_symbolic_sizes():
    with pytest.raises(BadInput, match="integer sizes"):
        code_listing(derive.backprop(derive.mlp(["n_0", "n_1"], loss="mse")))
