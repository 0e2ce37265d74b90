"""The CMU 10-315 lecture of a computation graph (reports.lectures.cmu): its sections, the
lines of the notes, every line checked against sympy.diff, wrong lines caught, determinism."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp

import derive
from derive.derivation import Check
from reports.lectures import lecture
from reports.lectures.cmu import (
    GraphChecker,
    GraphMismatch,
    _true_local,
    layout_sections,
    quadratic_form_section,
)
from reports.lectures.document import Algorithm, Group, Table
from reports.lectures.lines import LineMismatch
from reports.markdown import markdown

ROOT = Path(__file__).resolve().parent.parent
CMU = ROOT / "examples" / "graph_cmu.toml"


@pytest.fixture(scope="module")
def graph():
    return derive.derive_graph(CMU)


@pytest.fixture(scope="module")
def doc(graph):
    return lecture(graph, "cmu")


def _lines(doc):
    return [(line.lhs, line.rhs) for line in doc.equations()]


def _section(doc, title):
    return next(s for s in doc.sections if s.title == title)


def test_sections_follow_the_notes(doc):
    assert [s.title for s in doc.sections] == [
        "The computation graph", "Local derivatives", "Reverse accumulation", "Gradients",
        "Layouts", "Derivatives of functions with respect to vectors",
        r"Exercise: the derivative of $\mathbf{v}^T A \mathbf{v}$"]
    assert doc.course == "CMU 10-315"


def test_forward_nodes_as_functions_of_their_inputs(doc):
    lines = _lines(doc)
    assert ("z_{4}", r"= f_{4}(w_{D}, w_{E}, z_{2}, z_{3}) = w_{D} z_{2} z_{3} + w_{E} z_{3}") \
        in lines
    assert ("z_{1}", r"= f_{1}(w_{A}, x) = \sin{\left(w_{A} x \right)}") in lines
    assert ("J", "= z_{4}") in lines                       # a copy: no f_J
    forward = _section(doc, "The computation graph").blocks
    assert all(line.definition for line in forward[0].lines)
    assert "$z_{1}$ feeds $z_{2}$ and $z_{3}$" in forward[1].text


def test_accumulation_adds_the_paths(doc):
    dz1 = r"\frac{\partial J}{\partial z_{1}}"
    rhs = {lhs: rhs for lhs, rhs in _lines(doc) if lhs == dz1}[dz1]
    assert rhs == (r"= \frac{\partial J}{\partial z_{2}} \frac{\partial z_{2}}{\partial z_{1}} "
                   r"+ \frac{\partial J}{\partial z_{3}} \frac{\partial z_{3}}{\partial z_{1}}")
    # the same with the local derivatives written out, each after its adjoint
    written_out = (r"= \frac{\partial J}{\partial z_{2}} \cdot 7 w_{B}^{5} z_{1}^{6} + "
                   r"\frac{\partial J}{\partial z_{3}} w_{C} e^{w_{C} z_{1}}")
    assert ("", written_out) in _lines(doc)


def test_accumulation_is_grouped_by_level_as_in_the_notes(doc):
    groups = [b for b in _section(doc, "Reverse accumulation").blocks if isinstance(b, Group)]
    firsts = [[line.lhs for line in g.lines if line.lhs] for g in groups]
    frac = r"\frac{\partial J}{\partial %s}"
    assert firsts[2] == [frac % n for n in ("w_{E}", "w_{D}", "z_{3}", "z_{2}")]
    assert firsts[3] == [frac % n for n in ("w_{C}", "w_{B}", "z_{1}")]
    assert firsts[4] == [frac % n for n in ("w_{A}", "x")]
    assert "multivariate chain rule" in groups[3].note and "$z_{1}$" in groups[3].note
    assert "multivariate" not in groups[2].note           # one justification per group
    algorithm = next(b for b in _section(doc, "Reverse accumulation").blocks
                     if isinstance(b, Algorithm))
    assert algorithm.lines[2][1] == (r"$\frac{\partial J}{\partial x}$ += $\frac{\partial J}"
                                     r"{\partial y} \frac{\partial y}{\partial x}$")


def test_every_line_is_checked_or_a_definition(doc):
    lines = list(doc.equations())
    assert all(line.check or line.definition for line in lines)
    definitions = [line for line in lines if line.definition]
    assert len(definitions) == 6                            # five nodes and dJ/dJ = 1
    local = [line for g in _section(doc, "Local derivatives").blocks for line in g.lines]
    assert {line.check for line in local} == {Check("rational_points", "sympy_diff", points=3,
                                                    digits=50)}
    tags = [int(line.tag) for line in lines]
    assert tags == list(range(1, len(lines) + 1))


def test_gradients_equal_sympy_diff(graph, doc):
    lines = dict(_lines(doc))
    assert lines[r"\nabla_{w_{D}} J"] == "= z_{2} z_{3}"
    # an independent value: J written out by hand from the notes' graph
    x, wA, wB, wC, wD, wE = sp.symbols("x wA wB wC wD wE", real=True)
    z1 = sp.sin(wA * x)
    z2, z3 = wB ** 5 * z1 ** 7, sp.exp(wC * z1)
    J = wD * z2 * z3 + wE * z3
    assert sp.simplify(graph.gradient("wA", explicit=True) - sp.diff(J, wA)) == 0


def test_a_wrong_line_is_caught(graph):
    checker = GraphChecker(graph)
    with pytest.raises(GraphMismatch):
        checker.compare(graph.gradient("wA"), graph.gradient("wB"), "a wrong gradient")
    with pytest.raises(GraphMismatch):   # the local derivative by the wrong input
        checker.compare(graph.local_jacobian("z4", "z3"), _true_local(graph, "z4", "z2"),
                        "a wrong local derivative")
    assert checker.compare(graph.local_jacobian("z4", "z3"), _true_local(graph, "z4", "z3"),
                           "dz4/dz3").method == "rational_points"


def test_layout_table():
    sections = layout_sections("numerator")
    shapes, identities = [b for s in sections for b in s.blocks if isinstance(b, Table)]
    assert (r"$\partial \mathbf{y} / \partial \mathbf{x}$", r"$m \times n$", r"$n \times m$") \
        == shapes.rows[3][:3]
    assert shapes.rows[4][1:3] == (r"$q \times p$", r"$p \times q$")
    rows = {row[0]: row[1:3] for row in identities.rows[:6]}
    assert rows[r"$\partial (\mathbf{v}^T A \mathbf{v}) / \partial \mathbf{v}$"] == (
        r"$\mathbf{v}^{T} \left(A + A^{T}\right)$", r"$\left(A + A^{T}\right) \mathbf{v}$")
    assert identities.rows[6][1:] == (r"$2 \mathbf{v}^{T} A$", r"$2 A \mathbf{v}$",
                                      r"if $A = A^T$")
    assert identities.rows[7][1:3] == ("$B$", "$B^{T}$")
    assert identities.rows[0][1:3] == ("$I_N$", "$I_N$")


def test_quadratic_form_exercise():
    section = quadratic_form_section("denominator")
    lines = [line for b in section.blocks if isinstance(b, Group) for line in b.lines]
    closed = [line.rhs for line in lines if line.lhs == r"\frac{\partial f}{\partial \mathbf{v}}"]
    assert closed == [r"= (A + A^T)\mathbf{v} \quad \text{(denominator layout)}",
                      r"= \mathbf{v}^T (A + A^T) \quad \text{(numerator layout)}"]
    assert all(line.check.method == "exact" for line in lines)
    partial = next(line for line in lines if line.lhs == r"\frac{\partial f}{\partial v_1}")
    assert partial.rhs == r"= 2 A_{1,1} v_{1} + \left(A_{1,2} + A_{2,1}\right) v_{2}"
    assert partial.check.against == "sympy_diff"


def test_exercise_check_catches_a_wrong_line():
    from reports.lectures.cmu import _exact
    v = sp.Matrix(sp.symbols("v1 v2", real=True))
    A = sp.Matrix(2, 2, sp.symbols("a b c d", real=True))
    assert _exact(A * v, A * v, "Av").method == "exact"
    with pytest.raises(LineMismatch):
        _exact(A.T * v, A * v, "Av")


@pytest.mark.parametrize("name", ["graph_mlp", "graph_residual"])
def test_vector_graphs_in_denominator_layout(name):
    d = derive.derive_graph(ROOT / "examples" / f"{name}.toml", layout="denominator")
    doc = lecture(d, "cmu")
    assert all(line.check or line.definition for line in doc.equations())
    algorithm = next(b for b in _section(doc, "Reverse accumulation").blocks
                     if isinstance(b, Algorithm))
    assert "denominator" in algorithm.caption
    exercise = doc.sections[-1]
    first = [line for b in exercise.blocks if isinstance(b, Group) for line in b.lines][-2]
    assert "denominator layout" in first.rhs                 # the document's layout first


def test_other_profiles_keep_the_engine_sections(graph):
    assert lecture(graph, "cs229").sections[0].title != "The computation graph"


def test_deterministic_across_hash_seeds():
    code = ("import derive; from reports.lectures import lecture; "
            "from reports.markdown import markdown; "
            f"print(markdown(lecture(derive.derive_graph({str(CMU)!r}), 'cmu')))")
    outputs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        outputs.append(subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT,
                                      capture_output=True, text=True, check=True).stdout)
    assert outputs[0] == outputs[1] and "Reverse accumulation" in outputs[0]


def test_same_document_twice(graph, doc):
    assert markdown(doc) == markdown(lecture(graph, "cmu"))


def test_vector_adjoints_in_block_form():
    d = derive.derive_graph(ROOT / "examples" / "graph_residual.toml")
    lines = dict(_lines(lecture(d, "cmu")))
    frac = r"\frac{\partial %s}{\partial %s}"
    assert lines[frac % ("J", "x")] == (f"= {frac % ('J', 'u')} {frac % ('u', 'x')} + "
                                        f"{frac % ('J', 'y')} {frac % ('y', 'x')}")
    # a node's expression is written as the node in a vector's local Jacobian
    mlp = dict(_lines(lecture(derive.derive_graph(ROOT / "examples" / "graph_mlp.toml"), "cmu")))
    assert mlp[frac % ("h", "b")].startswith(r"= \begin{bmatrix} 1 - h_{1}^{2} & 0 & 0")
