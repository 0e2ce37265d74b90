r"""Fuzzing the LaTeX front end (``verify.parse_latex``) with Hypothesis.

Three properties:

- **no traceback**: random strings over a LaTeX-ish alphabet, and random edits of valid claims,
  are read or refused with :class:`~derive.errors.BadInput` (whose caret lies inside the
  echoed input) — never another exception;
- **meaning kept**: an edit that does not change the meaning (spacing, ``^{T}`` ↔ ``^\top``,
  ``\left(`` ↔ ``(``, ``\odot`` ↔ ``\circ``, ``\mathbf`` ↔ ``\boldsymbol``, ``\frac`` ↔
  ``\dfrac``, a comma ↔ "where") reads to the very same parse;
- **meaning never lost silently**: an edit that drops a mark with meaning (a transpose, a hat,
  a layer index, a prime, a Hadamard product) either reads to something else or is refused.
"""

from __future__ import annotations

import re

import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from derive.errors import BadInput
from verify.latex import parse_latex

SHAPES = {"A": (3, 3), "W": (2, 3), "x": (3, 1), "y": (2, 1), "b": (2, 1), "a": (2, 1),
          "v": (3, 1), r"\hat{y}": (2, 1), "W^{[2]}": (2, 3), "a^{[1]}": (3, 1),
          "delta^{[2]}": (2, 1), "z^{[1]}": (3, 1), "W^{(2)}": (2, 3), "E^{(2)}": (1, 2),
          "alpha^{j-1}": (3, 1), "Omega^{j}": (2, 3), "zeta^{j}": (2, 1),
          r"\mathcal{B}^{j}": (2, 1)}
PROFILES = (None, "cs229", "ensimag", "mines", "cmu", "durham")

#: Valid claims, each with the profile it is written in.
VALID = [
    (r"A^T + A", None),
    (r"W^T (a - y) x^T", None),
    (r"x^T A x + \frac{1}{2}\|x\|^2", None),
    (r"\sigma(W x + b) \odot (1 - \sigma(W x + b))", None),
    (r"\operatorname{diag}(a) W x", None),
    (r"\hat{y} - y", None),
    (r"\nabla_{W} L = \delta x^T,\ \delta = (a - y) \odot a \odot (1 - a),\ a = \sigma(Wx + b)",
     None),
    (r"\frac{\partial L}{\partial W} = x \delta^T \text{ where } \delta = \hat{y} - y", None),
    (r"\frac{\lambda}{N} W + y \mathbf{1}_3^T", None),
    (r"\left(x^T x\right)^{1/2}", None),
    (r"\sum_i y_i \log a_i", None),
    (r"\nabla_{W^{[2]}} \mathcal{L} = \delta^{[2]} a^{[1]T}", "cs229"),
    (r"g'(z^{[1]}) \odot (W^{[2]T} \delta^{[2]})", "cs229"),
    (r"\frac{1}{N}\sum_{i=1}^{N} \delta^{[2](i)} a^{[1](i)T}", "cs229"),
    (r"\Omega^{j} \alpha^{j-1} \odot \zeta^{j}", "ensimag"),
    (r"E^{(2)} W^{(2)}", "mines"),
    (r"W^{(2)t} E^{(2)T}", "mines"),
    (r"4\sin^3(t)\cos(t)e^{t^3}", None),
    (r"\frac{1}{1 + e^{-t}}", None),
    (r"\sigma(t)(1 - \sigma(t))", None),
]
_CHECK = settings(deadline=None, max_examples=400, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.too_slow])


def _parse(text, profile):
    """The parse, or the BadInput (asserted well formed); any other exception fails."""
    try:
        return parse_latex(text, shapes=SHAPES, profile=profile)
    except BadInput as exc:
        message = str(exc)
        assert message.startswith("claim: ") or message.startswith("shapes: "), message
        lines = message.split("\n")
        if len(lines) == 3:                    # the input echoed, a caret under a column
            assert lines[1] == "  " + text
            caret = lines[2].index("^") - 2
            assert 0 <= caret <= len(text) and lines[2].strip() == "^"
            assert lines[0].endswith(f"at column {caret + 1}")
        return exc


def _meaning(parsed):
    return (parsed.expr, parsed.left, tuple(parsed.definitions.items()))


_ALPHABET = ["x", "y", "A", "W", "a", "b", "N", "I", "e", "1", "2", "0.5", "^", "_", "{", "}",
             "(", ")", "[", "]", "+", "-", "*", "/", "'", ",", "=", "|", r"\|", " ", r"\ ",
             r"\quad", r"\frac", r"\partial", r"\nabla", r"\sum", r"\sigma", r"\log", r"\exp",
             r"\odot", r"\circ", r"\cdot", "T", r"\top", r"^T", r"^{[2]}", r"^{(1)}", r"\hat",
             r"\mathbf", r"\mathcal", r"\left(", r"\right)", r"\sqrt", r"\sqrt[3]", r"\alpha",
             r"\delta", r"\lambda", r"\pi", r"\text{where}", "where", r"\mathbf{1}",
             r"\operatorname{diag}", r"\tanh", "g'", ".", "&", r"\Phi", r"\zeta^j", "_F", "!"]


@settings(_CHECK, max_examples=1500)
@given(st.lists(st.sampled_from(_ALPHABET), min_size=1, max_size=14),
       st.sampled_from(PROFILES))
def test_random_strings_are_read_or_refused_with_a_message(pieces, profile):
    result = _parse("".join(pieces), profile)
    if not isinstance(result, BadInput):
        assert isinstance(result.expr, sp.Basic)


_EDITS = st.tuples(st.sampled_from(("delete", "duplicate", "swap", "insert")),
                   st.integers(min_value=0, max_value=200), st.sampled_from(_ALPHABET))


def _edited(text: str, edit) -> str:
    kind, at, piece = edit
    at %= len(text)
    if kind == "delete":
        return text[:at] + text[at + 1:]
    if kind == "duplicate":
        return text[:at] + text[at] + text[at:]
    if kind == "swap" and at + 1 < len(text):
        return text[:at] + text[at + 1] + text[at] + text[at + 2:]
    return text[:at] + piece + text[at:]


@_CHECK
@given(st.sampled_from(VALID), st.lists(_EDITS, min_size=1, max_size=3))
def test_edits_of_valid_claims_are_read_or_refused_with_a_message(case, edits):
    text, profile = case
    for edit in edits:
        text = _edited(text, edit) or "x"
    _parse(text, profile)


#: Rewrites that keep the meaning: (pattern, replacement) applied at one match.
_SAME = [
    (r"\^T(?![A-Za-z{])", r"^{T}"), (r"\^T(?![A-Za-z{])", r"^\top"),
    (r"\^\{T\}", r"^{\top}"), (r"\^T(?![A-Za-z{])", r"^\intercal"),
    (r"(?<![\]{])\(", r"\left("), (r"\)(?![Tt}])", r"\right)"), (r"\\left\(", "("),
    (r"\\right\)", ")"),
    (r"\\odot", r"\circ"), (r"\\frac", r"\dfrac"), (r"\\mathbf\{1\}", r"\mathbb{1}"),
    (r",\\ ", r" \quad\text{where}\quad "), (r",\\ ", r", where "), (r",\\ ", "; "),
    (r"\\text\{ where \}", ","), (r"(?<!\\) ", "  "), (r"(?<!\\) ", r"\,"),
    (r"(?<!\\) ", r"\ "), (r"(?<!\\) ", "~"),
    (r"\+", " + "), (r"-", " - "), (r"=", " = "), (r"\\cdot", r"\times"),
    (r"\\hat\{y\}", r"\widehat{y}"), (r"\\mathcal\{L\}", r"\mathcal L"),
    (r"\\log", r"\ln"), (r"\^\{\[2\]\}", r"^{ [2] }"), (r"_i", r"_{i}"),
    (r"\\frac\{1\}\{2\}", r"\frac12"), (r"\\delta", r"\mathbf{\delta}"), ("x", r"\mathbf{x}"),
    ("x", r"\boldsymbol{x}"), ("x", r"\vec{x}"), (r"\^\{t\^3\}", r"^{t^{3}}"),
]


@_CHECK
@given(st.sampled_from(VALID), st.sampled_from(_SAME), st.integers(min_value=0, max_value=9))
def test_meaning_preserving_edits_keep_the_parse(case, rewrite, which):
    text, profile = case
    pattern, replacement = rewrite
    matches = list(re.finditer(pattern, text))
    if not matches:
        return
    match = matches[which % len(matches)]
    if pattern == "x" and (text[max(0, match.start() - 1)].isalpha() or
                           text[match.end():match.end() + 1].isalpha() or
                           text[match.end():match.end() + 1] in ("_", "^") or
                           text[max(0, match.start() - 1)] in "\\{"):
        return                                     # x inside a word, or x_i, x^{(i)}
    edited = text[:match.start()] + replacement + text[match.end():]
    original, again = _parse(text, profile), _parse(edited, profile)
    assert not isinstance(original, BadInput), original
    assert not isinstance(again, BadInput), (edited, again)
    assert _meaning(again) == _meaning(original), (text, edited)


#: Marks with meaning: dropping one must change the reading or be refused.
_MARKS = [r"\^T(?![A-Za-z])", r"\^\{T\}", r"(?<=[A-Za-z}])T(?=\s|$|\))", r"\\hat\{y\}",
          r"\^\{\[\d\]\}", r"'", r"\\odot", r"\\operatorname\{diag\}", r"\\sigma", r"\^\{1/2\}",
          r"\\frac\{1\}\{2\}", r"\\log"]


@_CHECK
@given(st.sampled_from(VALID), st.sampled_from(_MARKS), st.integers(min_value=0, max_value=9))
def test_dropping_a_meaningful_mark_is_never_silent(case, mark, which):
    text, profile = case
    matches = list(re.finditer(mark, text))
    if not matches:
        return
    match = matches[which % len(matches)]
    replacement = "y" if mark == r"\\hat\{y\}" else (" " if mark == r"\\odot" else "")
    edited = text[:match.start()] + replacement + text[match.end():]
    original, again = _parse(text, profile), _parse(edited, profile)
    if isinstance(again, BadInput):
        return
    assert _meaning(again) != _meaning(original), (text, edited)


@pytest.mark.parametrize("text, profile", VALID)
def test_the_valid_claims_are_valid(text, profile):
    assert not isinstance(_parse(text, profile), BadInput)
