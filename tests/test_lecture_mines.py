"""The Mines lecture (reports/lectures/mines.py): the augmented bias, the row E^{(l)} with the
shapes under the factors, W^{(l)} = W̃^{(l)} without its bias column, softmax + cross-entropy
giving (v − y)ᵀ, the batch form (its rows the samples) after the per-sample one, momentum and
Adam; every line checked or a definition, a wrong line refused, determinism.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import derive
from derive.calculus.constructors import hadamard, mm, transpose
from derive.engine import derive_matrix
from derive.layers.dense import DropBias
from derive.notation import get_profile
from reports.lectures import lecture
from reports.lectures.document import Algorithm
from reports.lectures.lines import LineMismatch
from reports.lectures.network import NetworkLecture
from reports.markdown import markdown

ROOT = Path(__file__).resolve().parents[1]
MINES = str(ROOT / "examples" / "mines_augmented_batch.toml")
TITLES = ["One layer", "The output layer", "Back-propagation",
          "Back-propagation for multiple inputs", "Stochastic gradient and variants"]


@pytest.fixture(scope="module")
def example():
    """The Mines example: symbolic sizes, augmented, tanh + softmax, cross-entropy, a batch."""
    d = derive.backprop(derive.load_spec(MINES), form="matrix", batch=True)
    assert d.batch
    return lecture(d, "mines")


def _math(doc) -> list[str]:
    return [line.math for line in doc.equations()]


def _section(doc, title) -> list[str]:
    section = next(s for s in doc.sections if s.title == title)
    return [line.math for block in section.blocks for line in getattr(block, "lines", ())
            if hasattr(line, "math")]


def test_sections_per_sample_first_then_the_batch(example):
    assert example.course == "Mines"
    assert [section.title for section in example.sections] == TITLES


def test_every_line_is_checked_or_a_definition_and_numbered_in_order(example):
    lines = list(example.equations())
    assert all(line.check or line.definition for line in lines)
    assert [int(line.tag) for line in lines] == list(range(1, len(lines) + 1))


def test_the_augmented_layer(example):
    math = _section(example, "One layer")
    assert r"\tilde{\mathbf{x}} = \begin{bmatrix} 1 \\ \mathbf{x} \end{bmatrix}" in math
    assert r"\tilde{\mathbf{v}}^{(1)} = \begin{bmatrix} 1 \\ \mathbf{v}^{(1)} \end{bmatrix}" \
        in math
    assert any(line.startswith(r"\underbrace{\mathbf{s}^{(2)}}_{n_{2} \times 1} = "
                               r"\underbrace{\tilde{W}^{(2)}}") and
               r"\underbrace{\tilde{\mathbf{v}}^{(1)}}" in line for line in math)
    # the bias column split off: b^{(l)} + W^{(l)} v^{(l-1)}, checked
    split = [line for line in example.equations()
             if line.math == r"= W^{(2)} \mathbf{v}^{(1)} + \omega_{\cdot,0}^{(2)}"]
    assert len(split) == 1 and split[0].check.against == "engine"


def test_the_row_recursion_with_the_shapes_of_the_notes(example):
    math = _section(example, "The output layer") + _section(example, "Back-propagation")
    expected = [
        r"E^{(2)} = \frac{d\delta}{d\mathbf{v}^{(2)}} \frac{d\mathbf{v}^{(2)}}{d\mathbf{s}^{(2)}}",
        r"= \underbrace{\left(\mathbf{v}^{(2)} - \mathbf{y}\right)^{t}}_{1 \times n_{2}}",
        r"\frac{d\mathbf{s}^{(2)}}{d\mathbf{v}^{(1)}} = W^{(2)}",
        r"E^{(1)} = E^{(2)} \frac{d\mathbf{s}^{(2)}}{d\mathbf{v}^{(1)}} \frac{d\mathbf{v}^{(1)}}"
        r"{d\mathbf{s}^{(1)}}",
        r"= \underbrace{E^{(2)}}_{1 \times n_{2}} \underbrace{W^{(2)}}_{n_{2} \times n_{1}} "
        r"\underbrace{\operatorname{Diag}\left(h'\left(\mathbf{s}^{(1)}\right)\right)}"
        r"_{n_{1} \times n_{1}}",
        r"= \underbrace{\left(E^{(2)} W^{(2)}\right) \odot h'\left(\mathbf{s}^{(1)}\right)^{t}}"
        r"_{1 \times n_{1}}"]
    for line in expected:
        assert line in math, line
    assert [math.index(line) for line in expected] == sorted(math.index(l) for l in expected)
    gradient = next(line for line in math
                    if line.startswith(r"\left[\frac{d\delta}{d\tilde{W}^{(2)}}\right] = "))
    assert r"\underbrace{E^{(2)t}}_{n_{2} \times 1} \underbrace{\tilde{\mathbf{v}}^{(1)t}}" \
        in gradient


def test_softmax_and_cross_entropy(example):
    lines = {line.math: line for line in example.equations()}
    upstream = lines[r"\frac{d\delta}{d\mathbf{v}^{(2)}} = \left(- \frac{\mathbf{y}}"
                     r"{\mathbf{v}^{(2)}}\right)^{t}"]
    jac = lines[r"\frac{d\mathbf{v}^{(2)}}{d\mathbf{s}^{(2)}} = \operatorname{Diag}\left("
                r"\operatorname{softmax}\left(\mathbf{s}^{(2)}\right)\right) - "
                r"\operatorname{softmax}\left(\mathbf{s}^{(2)}\right) \operatorname{softmax}"
                r"\left(\mathbf{s}^{(2)}\right)^{t}"]
    assert upstream.check.against == jac.check.against == "sympy_diff"


def test_the_batch_form(example):
    math = _section(example, "Back-propagation for multiple inputs")
    assert r"\mathbf{E}^{(2)} = \underbrace{\left(V^{(2)} - Y\right)^{t}}_{N \times n_{2}}" \
        in math
    assert r"\mathbf{E}^{(1)} = \underbrace{\left(\mathbf{E}^{(2)} W^{(2)}\right) \odot " \
           r"h'\left(S^{(1)}\right)^{t}}_{N \times n_{1}}" in math
    assert any(r"\frac{1}{N} \mathbf{E}^{(1)t} \tilde{X}^{t}" in line for line in math)
    checks = [line.check for line in example.equations()
              if line.check and line.check.batch is not None]
    assert checks and {check.batch for check in checks} == {3}


def test_momentum_and_adam(example):
    algorithms = {block.caption: [text for _, text in block.lines]
                  for block in example.sections[-1].blocks if isinstance(block, Algorithm)}
    momentum = algorithms["Stochastic gradient with momentum"]
    assert r"${\tilde{W}^{(l)}}_{(t+1)} = {\tilde{W}^{(l)}}_{(t)} - \eta\, m_{(t+1)}$" in momentum
    adam = algorithms["Adaptive Moment Estimation (Adam; Kingma and Ba, 2014)"]
    assert any(r"\beta_2 v_{(t)} + (1 - \beta_2)" in line for line in adam)
    assert any(r"\sqrt{\hat{v}_{(t+1)}} + \varepsilon" in line for line in adam)


def test_a_wrong_line_is_refused():
    net = derive.load_spec(MINES)
    d = derive_matrix(net, layout="denominator", batch=False, check=False)
    lec = NetworkLecture(d, get_profile("mines"))
    sym = lec.sym
    E2 = lec.alias("E2", "E^{(2)}", transpose(sym.signal(2)))
    W2 = DropBias(lec.param(2, "W"))
    prime = lec.d.definitions[sym.signal(1)].args[1]          # h'(s^{(1)})
    truth = transpose(sym.signal(1))
    right = hadamard(mm(E2, W2), transpose(prime))
    assert lec.named_line("E^{(1)}", right, truth).check.method == "rational_points"
    with pytest.raises(LineMismatch):                 # h' forgotten
        lec.named_line("E^{(1)}", mm(E2, W2), truth)
    with pytest.raises(LineMismatch):                 # E^{(2)} taken as the wrong row
        wrong = lec.alias("E2wrong", "E^{(2)}", transpose(lec.activation(2)))
        lec.named_line("E^{(1)}", hadamard(mm(wrong, W2), transpose(prime)), truth)


def test_other_networks_and_layouts():
    for kwargs, layout in (
            (dict(sizes=[3, 4, 3, 2], activation="sigmoid", loss="mse",
                  convention="columns"), "numerator"),
            (dict(sizes=[2, 3, 1], activation="sigmoid", loss="bce", convention="rows"),
             "denominator")):
        net = derive.mlp(notation="mines", layout=layout, **kwargs)
        doc = lecture(derive.backprop(net, form="matrix", layout=layout), "mines")
        assert [section.title for section in doc.sections] == TITLES
        assert all(line.check or line.definition for line in doc.equations())
        assert any(r"\odot h'\left(\mathbf{s}^{(1)}\right)^{t}" in line for line in _math(doc))


def test_symbolic_depth_falls_back_to_the_engine_rules():
    net = derive.mlp(depth="L", activations=["relu", "softmax"], loss="cross_entropy",
                     convention="rows", notation="mines")
    doc = lecture(derive.backprop(net, form="matrix"), "mines")
    assert [section.title for section in doc.sections] == [
        "One layer", "Back-propagation", "Stochastic gradient and variants"]
    assert {line.check.method for line in doc.equations() if line.check} == {"instantiation"}


def test_deterministic(example):
    again = lecture(derive.backprop(derive.load_spec(MINES), form="matrix", batch=True), "mines")
    assert markdown(again) == markdown(example)
