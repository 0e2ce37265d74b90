"""The plots of a report (reports.figures): the activations with their derivatives and the
gradient check's V against the step h, as the same SVG, PDF and PNG bytes on every run.

Truth: derivatives written by hand (σ' = σ(1 − σ), tanh' = 1 − tanh², relu' = [x > 0]); the
slopes of the V measured from the sweep (2 for truncation, −1 for round-off); the step
verify's rule gives; byte identity across processes and PYTHONHASHSEED values.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import derive
from derive.activations import ACTIVATIONS
from derive.errors import BadInput
from derive.printing.mathml import mathml
from reports.figures import (
    FORMATS,
    STEPS,
    activation_figure,
    curve,
    figures,
    gradient_check_figure,
    step_sweep,
)
from reports.tables import fd_table

ROOT = Path(__file__).resolve().parents[1]
D = derive.backprop(derive.mlp([2, 3, 1], notation="cs229"))
XS = np.linspace(-3.5, 3.5, 29)


def sigma(x):
    return 1 / (1 + np.exp(-x))


@pytest.mark.parametrize("name, value, slope", [
    ("sigmoid", sigma, lambda x: sigma(x) * (1 - sigma(x))),
    ("tanh", np.tanh, lambda x: 1 - np.tanh(x) ** 2),
    ("relu", lambda x: np.maximum(x, 0), lambda x: (x > 0).astype(float)),
    ("softplus", lambda x: np.log1p(np.exp(x)), sigma),
    ("identity", lambda x: x, lambda x: np.ones_like(x)),
    # softmax along z = (x, 0): s_1 = σ(x), ∂s_1/∂z_1 = s_1 (1 − s_1)
    ("softmax", sigma, lambda x: sigma(x) * (1 - sigma(x))),
])
def test_curves_are_the_activation_and_its_derivative(name, value, slope):
    panel = curve(ACTIVATIONS.get(name))
    xs = XS[XS != 0]
    np.testing.assert_allclose(panel.value(xs), value(xs), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(panel.slope(xs), slope(xs), rtol=1e-12, atol=1e-15)


def test_kinks_are_drawn_with_the_derivation_s_value():
    assert (curve(ACTIVATIONS.get("relu")).kinks, curve(ACTIVATIONS.get("relu")).at_kinks) \
        == ((0.0,), (0.0,))                        # relu'(0) = 0, as PyTorch
    leaky = curve(ACTIVATIONS.get("leaky_relu"))
    assert leaky.at_kinks == (1.0,)                # 1/100 + 99/100·step(0), step(0) = 1
    np.testing.assert_allclose(leaky.slope(np.array([-2.0, 2.0])), [0.01, 1.0])
    assert curve(ACTIVATIONS.get("sigmoid")).kinks == ()


def test_the_v_has_slope_two_on_the_right_and_minus_one_on_the_left():
    sweep = step_sweep(D)
    h, errors = sweep.steps, sweep.errors
    assert h[0] == 1e-1 and h[-1] == pytest.approx(1e-12) and len(h) == len(STEPS)
    right = h >= 1e-3
    truncation = np.polyfit(np.log10(h[right]), np.log10(errors[right]), 1)[0]
    left = (h <= 1e-8) & np.isfinite(errors)
    roundoff = np.polyfit(np.log10(h[left]), np.log10(errors[left]), 1)[0]
    assert truncation == pytest.approx(2, abs=0.1)
    assert roundoff == pytest.approx(-1, abs=0.35)
    best = h[np.nanargmin(errors)]
    assert 1e-7 <= best <= 1e-3 and np.nanmin(errors) < 1e-9
    # the marked step is verify's: eps^(1/3)·max(1, max|θ|), here |θ| < 1
    assert sweep.chosen == pytest.approx(np.finfo(float).eps ** (1 / 3))


def test_figures_names_captions_and_formats():
    found = figures(D)
    assert [f.name for f in found] == ["activations", "gradient_check"]
    assert "(J(\\theta + h u)" in found[1].caption and "10^{-12}" in found[1].caption
    assert "sigmoid" in found[0].caption
    for f in found:
        assert "seed" not in f.caption.lower()
    svg, pdf, png = (found[1].render(fmt) for fmt in ("svg", "pdf", "png"))
    assert svg.startswith(b"<?xml") and b"<svg" in svg
    assert pdf.startswith(b"%PDF-") and png.startswith(b"\x89PNG\r\n\x1a\n")
    # no date, no version: nothing that changes from one run or install to the next
    assert b"<dc:date>" not in svg and b"CreationDate" not in pdf and b"Software" not in png
    assert b"Matplotlib v" not in svg + pdf and b"matplotlib.org" not in svg + pdf
    assert found[1].filename("pdf") == "gradient_check.pdf"
    with pytest.raises(BadInput, match="unknown figure format 'jpg'; known: svg, pdf, png"):
        found[0].render("jpg")


def test_several_activations_one_panel_each_and_softmax_said():
    net = derive.mlp([2, 3, 3], activations=["relu", "softmax"], loss="cross_entropy")
    figure = activation_figure(net)
    assert figure.caption.startswith("The activations relu and softmax of the network")
    assert "drawn along the line $z = (x, 0)$" in figure.caption and "kink" in figure.caption
    assert figure.size[0] > activation_figure(derive.mlp([2, 1])).size[0]


def test_flat_cost_has_no_gradient_check_plot():
    net = derive.mlp([2, 2, 1], activations=["tanh", "step"], loss="mse")
    d = derive.backprop(net)
    assert [f.name for f in figures(d)] == ["activations"]
    with pytest.raises(BadInput, match="derived gradient is 0"):
        gradient_check_figure(d)


def test_graph_and_symbolic_networks():
    graph = derive.derive_graph({"graph": {"output": "J", "inputs": ["x"],
                                           "parameters": ["w"], "nodes": {"J": "w * x"}}})
    with pytest.raises(BadInput, match="no network to plot"):
        figures(graph)
    symbolic = derive.backprop(derive.mlp(["n_0", "n_1", "n_2"], activation="tanh",
                                          loss="mse"))
    assert [f.name for f in figures(symbolic)] == ["activations", "gradient_check"]


DIGESTS = """
import hashlib, sys
import derive
from reports.figures import figures
d = derive.backprop(derive.mlp([2, 3, 3], activations=["leaky_relu", "softmax"],
                               loss="cross_entropy"))
for figure in figures(d):
    for fmt in ("svg", "pdf", "png"):
        print(figure.name, fmt, hashlib.sha256(figure.render(fmt)).hexdigest())
print("pyplot imported:", "matplotlib.pyplot" in sys.modules)
"""


def test_same_bytes_in_every_run_and_under_every_hash_seed():
    runs = [subprocess.run([sys.executable, "-c", DIGESTS], cwd=ROOT, capture_output=True,
                           text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout
            for seed in ("0", "12345")]
    assert runs[0] == runs[1]
    assert len(runs[0].splitlines()) == 2 * len(FORMATS) + 1
    assert runs[0].splitlines()[-1] == "pyplot imported: False"
    # and in this process, twice
    figure = figures(D)[0]
    assert figure.render("svg") == figure.render("svg")
    assert hashlib.sha256(figure.render("png")).digest() == \
        hashlib.sha256(figures(D)[0].render("png")).digest()


def _captions():
    d = derive.backprop(derive.mlp([2, 3, 3], activations=["leaky_relu", "softmax"],
                                   loss="cross_entropy"))
    return [f.caption for f in figures(d)] + [fd_table(d).caption]


def test_caption_math_is_read_by_mathml():
    for caption in _captions():
        formulas = re.findall(r"\$([^$]*)\$", caption)
        assert formulas and caption.count("$") == 2 * len(formulas)
        for formula in formulas:
            assert "\\" not in re.sub(r"<[^>]*>", "", mathml(formula)), formula
        text = re.sub(r"\$[^$]*\$", "", caption)
        assert not re.search(r"(?<!\\)[_%&#^]", text), text     # text-mode LaTeX: \_ only


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="TeX Live is not installed")
def test_captions_compile_as_latex_text(tmp_path):
    body = "\n\n".join(_captions())
    (tmp_path / "c.tex").write_text("\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n"
                                    f"\\begin{{document}}\n{body}\n\\end{{document}}\n",
                                    encoding="utf-8")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "c.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120,
                         check=False)
    assert run.returncode == 0, run.stdout[-2000:]
