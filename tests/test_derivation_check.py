r"""Checking whole derivations line by line (issue 10, item 5): ``verify.check_derivation``
and ``python -m verify derivation``.

The corpus is ``tests/derivations/*.tex``: derivations in the CS229, Ensimag and Mines
notations (the networks of ``cs229.toml``, ``ensimag.toml``, ``mines.toml``), each opening with
``% expect: correct`` or ``% expect: VERDICT LINE CLASS`` — the verdict, the first wrong line
among the '=' lines and the class of its first diagnosis.  Each wrong one is a right one with
one classic mistake put in by hand.  The truths behind the verdicts are tested on their own
against values computed here from scratch (explicit SymPy matrices, no engine).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import sympy as sp

import derive
from derive.cli import run_commands
from derive.errors import BadInput
from verify import check_claim, check_derivation
from verify.__main__ import COMMANDS
from verify.derivation_lines import equality_lines
from verify.derivation_truth import NetworkCalculus

CORPUS = Path(__file__).parent / "derivations"
NETS = {profile: derive.load_spec(CORPUS / f"{profile}.toml")
        for profile in ("cs229", "ensimag", "mines")}
FILES = sorted(CORPUS.glob("*.tex"))


def _expected(path: Path) -> tuple:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("% expect: "), path.name
    words = first[len("% expect: "):].split()
    if words == ["correct"]:
        return "correct", None, None
    return words[0], int(words[1]), words[2]


def test_the_corpus_covers_three_profiles_and_many_mistakes():
    profiles = {path.name.split("_")[0] for path in FILES}
    classes = {_expected(path)[2] for path in FILES} - {None}
    assert profiles == {"cs229", "ensimag", "mines"}
    assert {"wrong_sign", "layout_swap", "missing_transpose", "missing_activation_derivative",
            "wrong_activation_derivative", "shape_mismatch", "wrong_layer",
            "extra_factor"} <= classes
    assert sum(_expected(path)[0] == "correct" for path in FILES) >= 4


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_corpus_verdict_first_wrong_line_and_diagnosis(path):
    verdict, line, cls = _expected(path)
    profile = path.name.split("_")[0]
    result = check_derivation(path, NETS[profile], notation=profile)
    assert result.verdict == verdict
    assert result.first_wrong == line
    if line is not None:
        step = result.steps[line - 1]
        assert step.verdict.diagnosis[0].cls == cls
        # every other line of a one-mistake derivation is right (a mistake does not spread:
        # each side is compared with the true value of its left side)
        assert [s.line for s in result.steps if s.verdict.verdict != "correct"] == [line]


# --- the lines ----------------------------------------------------------------------------------

def test_lines_of_an_align_with_continuations_tags_and_remarks():
    text = r"""
    Some text $x = 1$ inline is not a display.
    \begin{align}
    f &= a + b \label{eq:f} \\
      &= b + a \nonumber \\[2pt]
    \intertext{and then}
    g &= c \quad \text{(by definition)} \tag{3}
    \end{align}
    $$= d$$
    \[ W := W - \alpha \nabla_W L \]
    \begin{equation*} M = \begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix} \end{equation*}
    """
    lines = equality_lines(text)
    assert [line.sides for line in lines] == [
        ("f", "a + b"), ("", "b + a"), ("g", "c"), ("", "d"),
        ("M", r"\begin{bmatrix} 1 2 \\ 3 4 \end{bmatrix}")]
    assert [line.number for line in lines] == [1, 2, 3, 4, 5]
    assert [line.source_line for line in lines] == [4, 5, 7, 9, 11]
    assert lines[1].continues and not lines[0].continues


def test_chains_definitions_and_underbraces():
    line, = equality_lines(r"\[ \nabla_W L = x\delta^T = x (a-y)^T,\ \delta = a - y. \]")
    assert line.sides == (r"\nabla_W L", r"x\delta^T", "x (a-y)^T")
    assert line.definitions == r"\delta = a - y"
    line, = equality_lines(r"$$\underbrace{z}_{m \times 1}^{[1]} = "
                           r"\underbrace{W x}_{2 \times 1} + b$$")
    assert line.sides == ("z^{[1]}", r"\left(W x\right) + b")
    assert [(a.body, a.shape) for a in line.annotations] == [("z", ("m", "1")),
                                                             ("W x", ("2", "1"))]


def test_a_text_without_blocks_is_one_block():
    assert [line.sides for line in equality_lines(r"a = b \\ &= c")] == [("a", "b"), ("", "c")]


# --- the truths ---------------------------------------------------------------------------------

def _explicit_network(rng):
    """A 2-2-1 sigmoid/BCE network as explicit SymPy matrices at a random rational point, the
    loss as a function of free entries of x and of a^{[1]}: the truth from scratch."""
    def matrix(rows, cols):
        return sp.Matrix(rows, cols, lambda i, j: sp.Rational(rng.randint(-9, 9),
                                                              rng.randint(2, 9)))
    W1, b1, W2, b2 = matrix(2, 2), matrix(2, 1), matrix(1, 2), matrix(1, 1)
    y = sp.Matrix([[1]])
    sigma = sp.Lambda(sp.Symbol("t"), 1 / (1 + sp.exp(-sp.Symbol("t"))))

    def loss_of_a1(a1):
        a2 = (W2 * a1 + b2).applyfunc(sigma)[0, 0]
        return -y[0, 0] * sp.log(a2) - (1 - y[0, 0]) * sp.log(1 - a2)

    return W1, b1, W2, b2, y, sigma, loss_of_a1


def test_loss_derivative_by_an_activation_and_the_input_against_sympy_diff():
    rng = random.Random(3)
    net = derive.mlp([2, 2, 1], activation="sigmoid", loss="bce")
    d = derive.backprop(net, form="matrix")
    symbols = {s.name: s for s in d.symbols.table}
    W1, b1, W2, b2, y, sigma, loss_of_a1 = _explicit_network(rng)
    x = sp.Matrix([[sp.Rational(1, 3)], [sp.Rational(-2, 5)]])
    u = sp.Matrix(sp.symbols("u0 u1", real=True))
    z1 = W1 * x + b1
    a1 = z1.applyfunc(sigma)
    calculus = NetworkCalculus(d)
    point = {symbols["W1"]: W1, symbols["b1"]: b1, symbols["W2"]: W2, symbols["b2"]: b2,
             symbols["x"]: x, symbols["y"]: y}
    from verify.claim_points import evaluate           # the engine-free evaluator
    environment = dict(point)
    for symbol, value in d.definitions.items():
        environment[symbol] = evaluate(value, environment)
    # ∂L/∂a^{[1]}: differentiate the explicit loss by free entries u, at u = a^{[1]}
    true = sp.Matrix([sp.diff(loss_of_a1(u), e) for e in u]).subs(dict(zip(u, a1)))
    claimed = evaluate(calculus.loss_gradient(symbols["a1"]), environment)
    assert all(abs(sp.N(c - t, 40)) < 1e-30 for c, t in zip(claimed, true))
    # ∂L/∂x through both layers
    loss_of_x = loss_of_a1((W1 * u + b1).applyfunc(sigma))
    true = sp.Matrix([sp.diff(loss_of_x, e) for e in u]).subs(dict(zip(u, x)))
    claimed = evaluate(calculus.loss_gradient(symbols["x"]), environment)
    assert all(abs(sp.N(c - t, 40)) < 1e-30 for c, t in zip(claimed, true))


def test_jacobians_of_quantities():
    d = derive.backprop(derive.mlp([2, 3, 2]), form="matrix")
    s = {symbol.name: symbol for symbol in d.symbols.table}
    calculus = NetworkCalculus(d)
    assert calculus.jacobian(s["z2"], s["a1"], "numerator") == s["W2"]
    assert calculus.jacobian(s["z2"], s["a1"], "denominator") == s["W2"].T
    diagonal = calculus.jacobian(s["a1"], s["z1"], "numerator")
    assert isinstance(diagonal, sp.DiagMatrix) and diagonal.shape == (3, 3)
    assert calculus.jacobian(s["z1"], s["a1"], "numerator") == sp.ZeroMatrix(3, 3)


def test_check_claim_reads_derivatives_by_activations_and_jacobians():
    net = derive.mlp([2, 3, 1], activation="sigmoid", loss="bce")
    right = (r"\frac{\partial \mathcal{L}}{\partial W^{[1]}} = x \frac{\partial \mathcal{L}}"
             r"{\partial a^{[1]}} \frac{\partial a^{[1]}}{\partial z^{[1]}}")
    assert check_claim(right, net, wrt="W1", notation="cs229").verdict == "correct"
    wrong = r"\frac{\partial \mathcal{L}}{\partial W^{[1]}} = x \frac{\partial \mathcal{L}}" \
            r"{\partial a^{[1]}}"
    verdict = check_claim(wrong, net, wrt="W1", notation="cs229")
    assert verdict.diagnosis[0].cls == "missing_activation_derivative"


def test_check_claim_by_a_quantity_name():
    net = derive.mlp([2, 3, 1], activation="sigmoid", loss="bce")
    left = r"\frac{\partial \mathcal{L}}{\partial a^{[1]}} = "
    assert check_claim(left + r"\delta^{[2]T} W^{[2]}", net, wrt="a1",
                       notation="cs229").verdict == "correct"
    swapped = check_claim(left + r"W^{[2]T} \delta^{[2]}", net, wrt="a1", notation="cs229")
    assert swapped.diagnosis[0].cls == "layout_swap"
    jacobian = r"\frac{\partial a^{[1]}}{\partial z^{[1]}} = \operatorname{diag}(%s(z^{[1]}))"
    assert check_claim(jacobian % "g'", net, wrt="z1", notation="cs229").verdict == "correct"
    wrong = check_claim(jacobian % "g", net, wrt="z1", notation="cs229")
    assert wrong.diagnosis[0].cls == "wrong_activation_derivative"
    with pytest.raises(BadInput, match="or a quantity: x, z1, a1, z2, a2"):
        check_claim(left + "x", net, wrt="q", notation="cs229")


# --- chains, annotations, errors ----------------------------------------------------------------

def test_a_jacobian_by_a_matrix_closes_a_chain_in_its_layout():
    net = NETS["cs229"]
    denominator = r"""\begin{align*}
    \frac{\partial \mathcal{L}}{\partial W^{[2]}} &= \frac{\partial z^{[2]}}{\partial W^{[2]}}
      \frac{\partial \mathcal{L}}{\partial z^{[2]}} \\
      &= \delta^{[2]} a^{[1]T} \\
      &= a^{[1]} \delta^{[2]T}
    \end{align*}"""
    result = check_derivation(denominator, net, notation="cs229", layout="denominator")
    assert [s.verdict.verdict for s in result.steps] == ["correct", "correct", "incorrect"]
    assert result.steps[2].verdict.diagnosis[0].cls == "layout_swap"
    misplaced = (r"$$\frac{\partial \mathcal{L}}{\partial W^{[2]}} = \frac{\partial z^{[2]}}"
                 r"{\partial W^{[2]}} \frac{\partial \mathcal{L}}{\partial z^{[2]}}$$")
    result = check_derivation(misplaced, net, notation="cs229", layout="numerator")
    assert result.verdict == "invalid"
    assert "only as the last factor of a chain" in result.steps[0].verdict.diagnosis[0].detail


def test_a_repeated_mistake_equals_the_line_before():
    text = r"""\begin{align*}
    \frac{\partial \mathcal{L}}{\partial W^{[3]}} &= (a^{[3]} - y) a^{[2]T} \\
      &= \delta^{[3]} a^{[2]T} \\
      &= a^{[2]} \delta^{[3]}
    \end{align*}"""
    result = check_derivation(text, NETS["cs229"], notation="cs229")
    assert result.first_wrong == 1 and result.verdict == "incorrect"
    assert [s.verdict.verdict for s in result.steps] == ["incorrect", "incorrect", "correct"]
    assert result.steps[1].equals_previous is True
    assert result.steps[0].verdict.diagnosis[0].cls == "layout_swap"


def test_an_underbrace_value_is_checked():
    template = (r"$$\frac{\partial \mathcal{L}}{\partial a^{[2]}} = \underbrace{"
                r"\frac{\partial \mathcal{L}}{\partial a^{[3]}} \frac{\partial a^{[3]}}"
                r"{\partial z^{[3]}}}_{%s} W^{[3]}$$")
    right = check_derivation(template % "(a^{[3]} - y)", NETS["cs229"], notation="cs229")
    wrong = check_derivation(template % "(y - a^{[3]})", NETS["cs229"], notation="cs229")
    words = check_derivation(template % r"\text{the error}", NETS["cs229"], notation="cs229")
    assert right.verdict == "correct" and words.verdict == "correct"
    assert wrong.verdict == "incorrect"
    assert wrong.steps[0].verdict.diagnosis[0].cls == "wrong_sign"
    assert wrong.steps[0].against == "underbrace"


def test_json_document():
    path = CORPUS / "cs229_w2_layout_swap.tex"
    document = check_derivation(path, NETS["cs229"], notation="cs229").as_dict()
    assert set(document) == {"verdict", "first_wrong", "steps"}
    assert document["verdict"] == "incorrect" and document["first_wrong"] == 4
    step = document["steps"][3]
    assert {"line", "verdict", "diagnosis"} <= set(step)
    assert step["diagnosis"][0]["class"] == "layout_swap"
    assert step["counterexample"]["true"] != step["counterexample"]["claimed"]
    json.dumps(document)


def test_bad_input():
    with pytest.raises(BadInput, match="no '=' line"):
        check_derivation("just words", NETS["cs229"])
    with pytest.raises(BadInput, match="layout"):
        check_derivation("a = b", NETS["cs229"], layout="sideways")
    with pytest.raises(BadInput, match="No such file"):
        check_derivation("missing.tex", NETS["cs229"])
    result = check_derivation(r"$$= a^{[1]}$$", NETS["cs229"], notation="cs229")
    assert result.verdict == "invalid" and "no line above" in result.headline


def test_a_line_continuing_an_unreadable_one_says_so():
    text = r"""\begin{align*}
    z^{[1]} &= Q x \\
      &= W^{[1]} x + b^{[1]} \\
    a^{[1]} &= g(z^{[1]})
    \end{align*}"""
    result = check_derivation(text, NETS["cs229"], notation="cs229")
    assert [s.verdict.verdict for s in result.steps] == ["invalid", "invalid", "correct"]
    assert "continues line 1, which could not be read" in \
        result.steps[1].verdict.diagnosis[0].detail


def test_unknown_names_are_invalid_and_say_which():
    result = check_derivation(r"$$z^{[1]} = Q^{[1]} x + b^{[1]}$$", NETS["cs229"],
                              notation="cs229")
    assert result.verdict == "invalid" and result.first_wrong == 1
    assert "Q^{[1]} is not a quantity of this network" in \
        result.steps[0].verdict.diagnosis[0].detail


def _run(argv, capsys):
    status = run_commands("python -m verify", "", COMMANDS, ["derivation", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_command_exit_status_text_and_json(capsys):
    spec = str(CORPUS / "cs229.toml")
    status, out, _ = _run([str(CORPUS / "cs229_w2.tex"), "--spec", spec], capsys)
    assert status == 0 and out.startswith("correct: 9 lines")
    status, out, _ = _run([str(CORPUS / "cs229_w2_wrong_sign.tex"), "--spec", spec], capsys)
    assert status == 1 and out.splitlines()[0] == "incorrect: line 2 (wrong sign)"
    assert "decided by" in out and "counterexample at line 2:" in out
    status, out, _ = _run([str(CORPUS / "ensimag_unreadable.tex"), "--spec",
                           str(CORPUS / "ensimag.toml"), "--json"], capsys)
    assert status == 2 and json.loads(out)["first_wrong"] == 8
    status, out, err = _run([str(CORPUS / "nothing.tex"), "--spec", spec], capsys)
    assert status == 2 and "No such file" in err and "Traceback" not in err
