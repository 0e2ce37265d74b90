"""The Durham lecture of a network (reports.lectures.durham): its sections, the Jacobian, the
multilinear map Wx + b, the chain rule J_h = J_f(g) J_g, every line checked, wrong lines
caught, any network of the spec format, determinism."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp

import derive
from derive.notation import get_profile
from reports.lectures import COURSES, course_of, lecture
from reports.lectures.durham import _jacobian_line, _vec_jacobian_check, durham_sections
from reports.lectures.lines import LineMismatch
from reports.lectures.network import NetworkLecture
from reports.markdown import markdown

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "examples" / "durham_linear.toml"


def _derive(layout=None, **network):
    net = derive.mlp(**network, notation="durham")
    return derive.backprop(net, form="matrix", **({"layout": layout} if layout else {}))


@pytest.fixture(scope="module")
def doc():
    return lecture(derive.backprop(derive.load_spec(SPEC), form="matrix"))


def _lines(doc):
    return [(line.lhs, line.rhs) for line in doc.equations()]


def test_course_entry():
    assert COURSES["durham"] is durham_sections
    assert course_of(get_profile("durham")) is durham_sections


def test_sections(doc):
    assert [s.title for s in doc.sections] == [
        "The network", "The Jacobian", "The multilinear map $Wx + b$", "The chain rule",
        "Backpropagation", "Function minimisation"]
    assert doc.course == "Durham"


def test_the_lines_of_the_lecture(doc):
    lines = _lines(doc)
    assert ("J_{f}(u_{1})", r"= \operatorname{diag}\left(f'\left(u_{1}\right)\right)") in lines
    assert (r"\frac{\partial u_{1}}{\partial x}", "= W_{1}") in lines
    assert (r"\frac{\partial u_{1}}{\partial b_{1}}", "= I_{2}") in lines
    assert (r"\frac{\partial u_{1}}{\partial \operatorname{vec}(W_{1})}",
            r"= x^{T} \otimes I_{2}") in lines
    chain = [rhs for lhs, rhs in lines]
    start = chain.index(r"= J_{f}(u_{1})\, J_g(x)")
    assert chain[start + 1:start + 3] == [
        r"= \operatorname{diag}\left(f'\left(u_{1}\right)\right) W_{1}",
        r"= \operatorname{diag}\left(\sigma'\left(W_{1} x + b_{1}\right)\right) W_{1}"]
    assert (r"\nabla_{W_{1}} C", r"= \delta_{1} x^{T}") in lines
    assert (r"\nabla_{b_{1}} C", r"= \delta_{1}") in lines


def test_every_line_is_checked_or_a_definition(doc):
    lines = list(doc.equations())
    assert all(line.check or line.definition for line in lines)
    jacobians = [line for s in doc.sections[1:4] for b in s.blocks
                 for line in getattr(b, "lines", ())]
    assert jacobians and all(line.check.against == "sympy_diff" for line in jacobians)
    assert [int(line.tag) for line in lines] == list(range(1, len(lines) + 1))


def test_a_wrong_jacobian_is_caught():
    d = _derive(sizes=[3, 2], activation="sigmoid", loss="mse")
    lec = NetworkLecture(d, get_profile("durham"))
    u, x, W = lec.pre_activation(1), lec.sym.a(0), lec.param(1, "W")
    _jacobian_line(lec, "J", W, u, x, "du/dx")                     # right
    with pytest.raises(LineMismatch):
        _jacobian_line(lec, "J", 2 * W, u, x, "du/dx")
    checker = lec.w.checker
    right = lambda k: sp.Matrix(sp.kronecker_product(checker.value(x, k).T, sp.eye(2)))
    wrong = lambda k: sp.Matrix(sp.kronecker_product(sp.eye(2), checker.value(x, k).T))
    assert _vec_jacobian_check(lec, right, u, W, "du/dvec(W)").against == "sympy_diff"
    with pytest.raises(LineMismatch):
        _vec_jacobian_check(lec, wrong, u, W, "du/dvec(W)")


def test_softmax_cross_entropy_fuses():
    doc = lecture(_derive(sizes=[3, 4, 3], activations=["tanh", "softmax"],
                          loss="cross_entropy", layout="denominator"))
    lines = _lines(doc)
    assert ("", "= y_{2} - t") in lines
    assert (r"\nabla_{u_{2}} C", r"= J_{f}(u_{2})^{T}\, \nabla_{y_{2}} C") in lines
    assert all(line.check or line.definition for line in doc.equations())


def test_columns_convention_kronecker_order():
    doc = lecture(_derive(sizes=[3, 4, 2], activation="tanh", loss="mse",
                          convention="columns"))
    assert (r"\frac{\partial u_{1}}{\partial \operatorname{vec}(W_{1})}",
            r"= I_{4} \otimes x^{T}") in _lines(doc)


@pytest.mark.parametrize("network", [
    {"sizes": [2, 3, 2, 1], "activation": "sigmoid", "loss": "bce"},
    {"sizes": [3, 4, 2], "activation": "relu", "loss": "mse", "convention": "augmented"},
    {"sizes": ["n_0", "n_1", "n_2"], "activation": "tanh", "loss": "mse",
     "layout": "denominator"},
    {"depth": "L", "activations": ["relu", "softmax"], "loss": "cross_entropy"},
])
def test_any_network(network):
    doc = lecture(_derive(**network))
    assert all(line.check or line.definition for line in doc.equations())
    assert doc.sections[0].title == "The network"
    if "sizes" in network and isinstance(network["sizes"][0], str):
        assert (r"\frac{\partial u_{1}}{\partial b_{1}}", "= I_{n_{1}}") in _lines(doc)


def test_deterministic_across_hash_seeds():
    code = ("import derive; from reports.lectures import lecture; "
            "from reports.markdown import markdown; "
            f"print(markdown(lecture(derive.backprop(derive.load_spec({str(SPEC)!r}), "
            "form='matrix'))))")
    outputs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        outputs.append(subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT,
                                      capture_output=True, text=True, check=True).stdout)
    assert outputs[0] == outputs[1] and "The multilinear map" in outputs[0]


def test_same_document_twice(doc):
    assert markdown(doc) == markdown(lecture(derive.backprop(derive.load_spec(SPEC),
                                                             form="matrix")))
