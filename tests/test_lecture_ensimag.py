"""The Ensimag lecture (reports/lectures/ensimag.py): its sections in the order of the notes,
the lines the notes derive (the product of the layer Jacobians, P^j and its recursion, the
single-neuron partials, the layer partials Diag(Φ'(ζ)) Ωᵀ, the B^j rules and the gradients),
every line checked or a definition, a wrong line refused, the algorithms, and determinism.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy as sp

import derive
from derive.calculus.constructors import madd, mm, transpose
from derive.calculus.matrix_nodes import elementwise, elementwise_derivative
from derive.jacobians import jacobian
from derive.notation import get_profile
from reports.lectures import lecture
from reports.lectures.document import Algorithm
from reports.lectures.ensimag import neuron_check
from reports.lectures.lines import LineMismatch
from reports.lectures.network import NetworkLecture
from reports.markdown import markdown

ROOT = Path(__file__).resolve().parents[1]
TITLES = ["Some formalism", "Using the chain rule", "Partial derivatives for a single neuron",
          "Partial derivatives for a single layer",
          "Back to partial derivatives for an entire network", "Backpropagation rules",
          "Backpropagation and gradient computation"]


def _doc(net, layout="numerator", batch=False):
    return lecture(derive.backprop(net, form="matrix", layout=layout, batch=batch), "ensimag")


@pytest.fixture(scope="module")
def example():
    """The Ensimag example: 3-4-2, sigmoid, mse, neurons as columns, numerator layout."""
    return _doc(derive.load_spec(str(ROOT / "examples" / "ensimag_columns.toml")))


@pytest.fixture(scope="module")
def deep():
    return _doc(derive.mlp([3, 4, 3, 2], activation="tanh", loss="mse", convention="columns",
                           notation="ensimag"), layout="denominator")


def _math(doc) -> list[str]:
    return [line.math for line in doc.equations()]


def _algorithms(doc) -> dict:
    return {block.caption: [text for _, text in block.lines]
            for section in doc.sections for block in section.blocks
            if isinstance(block, Algorithm)}


def test_sections_follow_the_notes(example):
    assert example.course == "Ensimag"
    assert [section.title for section in example.sections] == TITLES


def test_every_line_is_checked_or_a_definition_and_numbered_in_order(example, deep):
    for doc in (example, deep):
        lines = list(doc.equations())
        assert all(line.check or line.definition for line in lines)
        assert [int(line.tag) for line in lines] == list(range(1, len(lines) + 1))
    definitions = [line.math for line in example.equations() if line.definition]
    # only g^i, the error function, the forward pass and the error are definitions
    assert definitions[:3] == [
        r"g^{1} = f^{1}(\alpha^{0}, \Omega^{1}, \beta^{1})",
        r"g^{i}(\alpha^{0}, \Omega^{1}, \beta^{1}, \dots, \Omega^{i}, \beta^{i}) = f^{i}(g^{i-1}("
        r"\alpha^{0}, \Omega^{1}, \beta^{1}, \dots, \Omega^{i-1}, \beta^{i-1}), \Omega^{i}, "
        r"\beta^{i})",
        r"\mathcal{E}(\alpha^{0}, \Omega^{1}, \beta^{1}, \dots, \Omega^{L}, \beta^{L}, \rho) = "
        r"\mathcal{C}(g^{L}(\alpha^{0}, \Omega^{1}, \beta^{1}, \dots, \Omega^{L}, \beta^{L}), "
        r"\rho)"]
    assert definitions[3:] == [r"\zeta^{1} = [\Omega^{1}]^{T} \alpha^{0} + \beta^{1}",
                           r"\alpha^{1} = f^{1}(\alpha^{0}, \Omega^{1}, \beta^{1}) = "
                           r"\Phi\left(\zeta^{1}\right)",
                           r"\zeta^{2} = [\Omega^{2}]^{T} \alpha^{1} + \beta^{2}",
                           r"\alpha^{2} = f^{2}(\alpha^{1}, \Omega^{2}, \beta^{2}) = "
                           r"\Phi\left(\zeta^{2}\right)",
                           r"\epsilon = \mathcal{C}(\alpha^{2}, \rho) = \mathbf{1}^{T} "
                           r"\left(\frac{1}{2} \left(\rho - \alpha^{2}\right)^{\odot 2}\right)"]


def test_the_lines_of_the_notes(example):
    math = _math(example)
    expected = [
        # the product of the layer Jacobians, against the engine's dC/da^1
        r"\frac{\partial \mathcal{C}}{\partial \alpha^{1}} = \frac{\partial \mathcal{C}}"
        r"{\partial \alpha^{2}} \, \frac{\partial f^{2}}{\partial \alpha^{1}}",
        r"= \left(\alpha^{2} - \rho\right)^{T} \operatorname{diag}\left(\Phi'\left(\zeta^{2}"
        r"\right)\right) [\Omega^{2}]^{T}",
        # single neuron
        r"\frac{\partial h}{\partial a} = \Phi'\left(\zeta\right) \omega^{T}",
        r"\frac{\partial h}{\partial w} = \Phi'\left(\zeta\right) \alpha^{T}",
        r"\frac{\partial h}{\partial b} = \Phi'\left(\zeta\right)",
        # single layer: Diag(Φ'(ζ)) Ωᵀ in the neurons-as-columns convention
        r"\frac{\partial f^{1}}{\partial \alpha^{0}} = \operatorname{diag}\left(\Phi'\left("
        r"\zeta^{1}\right)\right) [\Omega^{1}]^{T}",
        r"\frac{\partial f^{2}}{\partial \beta^{2}} = \operatorname{diag}\left(\Phi'\left("
        r"\zeta^{2}\right)\right)",
        # P^j and its recursion
        r"\mathcal{P}^{3} = \frac{\partial \mathcal{C}}{\partial \alpha^{2}}",
        r"\mathcal{P}^{2} = \mathcal{P}^{3} \frac{\partial f^{2}}{\partial \alpha^{1}}",
        r"= \mathcal{P}^{3} \operatorname{diag}\left(\Phi'\left(\zeta^{2}\right)\right) "
        r"[\Omega^{2}]^{T}",
        r"= \left(\Phi'\left(\zeta^{2}\right) \odot [\mathcal{P}^{3}]^{T}\right)^{T} "
        r"[\Omega^{2}]^{T}",
        r"= [\mathcal{B}^{2}]^{T} [\Omega^{2}]^{T}",
        r"= \left[\Omega^{2} \mathcal{B}^{2}\right]^{T}",
        # the B^j rules and the gradients
        r"\mathcal{B}^{2} = \Phi'\left(\zeta^{2}\right) \odot \left(\alpha^{2} - \rho\right)",
        r"\mathcal{B}^{1} = \Phi'\left(\zeta^{1}\right) \odot \left(\Omega^{2} "
        r"\mathcal{B}^{2}\right)",
        r"\nabla_{\Omega^{1}} \mathcal{E} = \alpha^{0} [\mathcal{B}^{1}]^{T}",
        r"\nabla_{\beta^{1}} \mathcal{E} = \mathcal{B}^{1}"]
    for line in expected:
        assert line in math, line
    # in the order of the notes
    assert [math.index(line) for line in expected] == sorted(math.index(l) for l in expected)


def test_how_the_lines_were_checked(example):
    lines = {line.math: line for line in example.equations()}
    neuron = lines[r"\frac{\partial h}{\partial a} = \Phi'\left(\zeta\right) \omega^{T}"]
    assert (neuron.check.method, neuron.check.against) == ("exact", "sympy_diff")
    layer = lines[r"\frac{\partial f^{1}}{\partial \alpha^{0}} = \operatorname{diag}\left("
                  r"\Phi'\left(\zeta^{1}\right)\right) [\Omega^{1}]^{T}"]
    assert (layer.check.method, layer.check.against, layer.check.digits) == \
        ("rational_points", "sympy_diff", 50)
    rule = lines[r"\mathcal{B}^{1} = \Phi'\left(\zeta^{1}\right) \odot \left(\Omega^{2} "
                 r"\mathcal{B}^{2}\right)"]
    assert (rule.check.method, rule.check.against, rule.check.sizes) == \
        ("rational_points", "engine", (3, 4, 2))


def test_the_algorithms(example, deep):
    algorithms = _algorithms(example)
    assert list(algorithms) == ["Forward propagation", "Backpropagation algorithm",
                                "Gradient computation",
                                r"Stochastic gradient descent, learning rate $\eta$"]
    backward = algorithms["Backpropagation algorithm"]
    assert r"$\mathcal{B}^{L} \leftarrow \Phi'(\zeta^{L}) \odot \nabla_{\alpha^{L}} " \
           r"\mathcal{C}(\alpha^{L}, \rho)$;" in backward
    assert r"$[\mathcal{P}^{j}]^{T} \leftarrow \Omega^{j} \mathcal{B}^{j}$;" in backward
    gradient = algorithms["Gradient computation"]
    assert r"Gradient($\Omega^{j}$) $\leftarrow \alpha^{j-1} [\mathcal{B}^{j}]^{T}$;" in gradient
    assert r"Gradient($\beta^{j}$) $\leftarrow \mathcal{B}^{j}$;" in gradient
    forward = algorithms["Forward propagation"]
    assert r"$\zeta^{j} \leftarrow [\Omega^{j}]^{T} \alpha^{j-1} + \beta^{j}$;" in forward
    assert _algorithms(deep)["Gradient computation"] == gradient


def test_deeper_network_in_denominator_layout(deep):
    math = _math(deep)
    # the product of the layer Jacobians down to a^1, in the layout's order (transposed)
    assert r"\nabla_{\alpha^{1}} \mathcal{C} = \frac{\partial f^{2}}{\partial \alpha^{1}} \, " \
           r"\frac{\partial f^{3}}{\partial \alpha^{2}} \, \frac{\partial \mathcal{C}}" \
           r"{\partial \alpha^{3}}" in math
    # P^j written as [P^j]^T, a column, in this layout
    assert any(line.startswith(r"[\mathcal{P}^{2}]^{T} = ") for line in math)
    assert r"= \Omega^{2} \mathcal{B}^{2}" in math


def test_softmax_output_and_augmented_weights():
    net = derive.mlp([3, 4, 3], activations=["tanh", "softmax"], loss="cross_entropy",
                     convention="augmented", notation="ensimag")
    doc = _doc(net)
    math = _math(doc)
    assert r"= \alpha^{2} - \rho" in math or r"\mathcal{B}^{2} = \alpha^{2} - \rho" in math
    assert r"\frac{\partial f^{1}}{\partial \alpha^{0}} = \operatorname{diag}\left(\Phi'" \
           r"\left(\zeta^{1}\right)\right) \bar{\Omega}^{1}" in math
    assert all(line.check or line.definition for line in doc.equations())
    backward = _algorithms(doc)["Backpropagation algorithm"]
    assert r"$\mathcal{B}^{L} \leftarrow \alpha^{L} - \rho$;" in backward


def test_a_wrong_line_is_refused():
    net = derive.mlp([3, 4, 2], activation="sigmoid", loss="mse", convention="columns",
                     notation="ensimag")
    d = derive.backprop(net, form="matrix")
    lec = NetworkLecture(d, get_profile("ensimag"))
    sym = lec.sym
    upstream = next(s.rhs for s in d.steps if s.lhs.kind == "dC/da" and s.lhs.layer == 2)
    truth = next(s.rhs for s in d.steps if s.lhs.kind == "dC/da" and s.lhs.layer == 1)
    right = mm(upstream, lec.dadz(2), lec.dzda(2))
    assert lec.w.line("x", right, truth).check.method == "rational_points"
    with pytest.raises(LineMismatch):                 # the diagonal Jacobian forgotten
        lec.w.line("x", mm(upstream, lec.dzda(2)), truth)
    with pytest.raises(LineMismatch):                 # a row P^3 aliased to the wrong value
        P = lec.alias("P3wrong", "P", transpose(sym.signal(2)))
        lec.named_line("x", mm(P, lec.dadz(2), lec.dzda(2)), truth)


def test_the_neuron_check_refuses_a_wrong_partial():
    n = sp.Symbol("n", integer=True, positive=True)
    a, w = sp.MatrixSymbol("alpha", n, 1), sp.MatrixSymbol("omega", n, 1)
    b = sp.MatrixSymbol("beta", 1, 1)
    sigmoid = derive.mlp([2, 1]).activation(1).function
    net_input = madd(mm(transpose(w), a), b)
    h = elementwise(sigmoid, net_input)
    prime = elementwise_derivative(h)
    calculus = jacobian(h, a).expr
    assert neuron_check(mm(prime, transpose(w)), calculus, h, a, n).against == "sympy_diff"
    with pytest.raises(LineMismatch):
        neuron_check(mm(prime, transpose(a)), calculus, h, a, n)      # ∂h/∂w shown for ∂h/∂a


def test_symbolic_depth_is_checked_by_instantiation():
    net = derive.mlp(depth="L", activations=["relu", "softmax"], loss="cross_entropy",
                     convention="rows", notation="ensimag")
    doc = _doc(net)
    checks = {line.check.method for line in doc.equations() if line.check}
    assert checks == {"instantiation", "exact"}          # the engine's rules; the neuron
    assert r"\mathcal{B}^{j} = \Phi'\left(\zeta^{j}\right) \odot \left([\Omega^{j+1}]^{T} " \
           r"\mathcal{B}^{j+1}\right)" in _math(doc)


def test_a_batch_derivation_shows_the_per_sample_lecture(example):
    net = derive.load_spec(str(ROOT / "examples" / "ensimag_columns.toml"))
    batch = _doc(net, batch=True)
    assert [section.title for section in batch.sections] == TITLES
    assert _math(batch) == _math(example)


def test_deterministic(example):
    again = _doc(derive.load_spec(str(ROOT / "examples" / "ensimag_columns.toml")))
    assert markdown(again) == markdown(example)
