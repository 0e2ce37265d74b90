r"""Jupyter's rich display of derivations: ``_repr_latex_`` (``$$`` math only),
``_repr_markdown_`` (``$$`` blocks) and ``_repr_html_`` (MathML, self-contained), on a network's
per-neuron and matrix derivations and on a computation graph's.

Truth: every step of the derivation is one tagged line, in order; the symbols are the
notation profile's; the HTML parses as XML, fetches nothing and shows no raw LaTeX.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import derive
from derive.printing.fragment import read_fragment
from derive.render import render

ROOT = Path(__file__).resolve().parents[1]


def _sections(d) -> list:
    """The parts of ``d``'s LaTeX fragment that have display lines."""
    return [section for section in read_fragment(render(d, "latex")).sections if section.lines]


def _derivations():
    return {
        "per-neuron": derive.backprop(derive.mlp([2, 3, 1])),
        "matrix cs229": derive.backprop(derive.mlp(["n_0", "n_1", "n_2"], notation="cs229")),
        "batch": derive.backprop(derive.mlp([2, 2, 2], activations=["tanh", "softmax"],
                                            loss="cross_entropy"), form="matrix", batch=True),
        "graph": derive.derive_graph(ROOT / "examples" / "graph_cmu.toml"),
    }


DERIVATIONS = _derivations()


@pytest.fixture(params=sorted(DERIVATIONS))
def d(request):
    return DERIVATIONS[request.param]


def _tags(text: str) -> list[str]:
    return re.findall(r"&& \((\d+)\)", text)


def test_latex_is_math_only_and_tags_every_step_in_order(d):
    latex = d._repr_latex_()
    numbers = [str(n) for n in range(1, len(d.steps) + 1)]
    assert _tags(latex) == numbers
    blocks = latex.split("\n$$")
    assert latex.startswith("$$\\begin{aligned}") and latex.endswith("\\end{aligned}$$")
    # nothing outside $$…$$: no prose, no \intertext, no \tag (not allowed inside aligned)
    outside = re.sub(r"\$\$.*?\$\$", "", latex, flags=re.DOTALL)
    assert outside.strip() == ""
    assert "\\intertext" not in latex and "\\tag{" not in latex
    assert len(blocks) == len(_sections(d))


def test_markdown_has_titled_dollar_blocks(d):
    markdown = d._repr_markdown_()
    assert markdown.count("$$\n\\begin{aligned}") == markdown.count("\\end{aligned}\n$$")
    assert _tags(markdown) == [str(n) for n in range(1, len(d.steps) + 1)]
    titles = [section.title for section in _sections(d) if section.title]
    assert titles and all(f"**{title.replace(chr(92), '')}**" in markdown for title in titles)
    assert markdown.startswith("*") and "seed" not in markdown.lower()


def test_html_is_self_contained_mathml_without_raw_latex(d):
    page = d._repr_html_()
    root = ET.fromstring(page)                       # well-formed: no bare & or <
    maths = [math for math in root.iter("{http://www.w3.org/1998/Math/MathML}math")
             if math.get("display") == "block"]
    lines = sum(len(section.lines) for section in _sections(d))
    assert len(maths) == lines
    assert "<script" not in page and "<link" not in page
    assert "http" not in page.replace("http://www.w3.org/1998/Math/MathML", "")
    text = "".join(root.itertext())
    assert "\\" not in text and "^{" not in text and "$" not in text
    tags = [span.text for span in root.iter("span")]
    assert tags == [f"({n})" for n in range(1, len(d.steps) + 1)]


def test_symbols_are_the_profile_s():
    cs229 = DERIVATIONS["matrix cs229"]
    assert "\\delta^{[1]} &= g'\\left(z^{[1]}\\right)" in cs229._repr_latex_()
    ensimag = DERIVATIONS["per-neuron"]._repr_latex_()
    assert "\\zeta^{1} &= \\begin{bmatrix}" in ensimag
    # a matrix's rows stay inside their line: the bmatrix of z^1 has 3 rows, one line
    z1 = _sections(DERIVATIONS["per-neuron"])[0].lines[0]
    assert (z1.lhs, z1.tag, z1.rhs.count("\\\\")) == ("\\zeta^{1}", "1", 2)


def test_the_fragment_is_read_with_its_alignment_and_notes():
    fragment = ("\\noindent\\textbf{Gradients of n\\_0.} Intro.\n\\begin{align*}\n"
                "A &= \\begin{bmatrix} a & b \\\\ c & d \\end{bmatrix} \\tag{1}\\\\\n"
                "\\intertext{\\textit{Rule {with} braces}.}\n &= B\n\\end{align*}\n")
    [block] = read_fragment(fragment).sections
    assert block.title == "Gradients of n\\_0"
    assert [(line.lhs, line.rhs, line.tag) for line in block.lines] == [
        ("A", "= \\begin{bmatrix} a & b \\\\ c & d \\end{bmatrix}", "1"), ("", "= B", "")]
    assert "**Gradients of n_0**" in derive.printing.mathml.jupyter_markdown(fragment)


def test_same_bytes_under_every_hash_seed():
    code = ("import derive; d = derive.backprop(derive.mlp([2, 2, 1], activation='relu', "
            "loss='mse')); import sys; sys.stdout.write(d._repr_html_() + d._repr_markdown_() "
            "+ d._repr_latex_())")
    outputs = {subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                              text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout
               for seed in ("0", "1")}
    assert len(outputs) == 1 and "<math" in outputs.pop()
