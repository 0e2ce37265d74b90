r"""A spec's own ``[notation]`` symbols: LaTeX that pdflatex or MathML could not read is refused
when the spec is read, naming the field (``[notation] B``, or ``notation.B`` through the API),
and what is accepted is what both really read (checked with latex2mathml, and with pdflatex
where TeX Live is installed).
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

import derive
from derive.errors import BadInput, UnknownName
from derive.notation import PROFILES, get_profile
from derive.printing.mathml import KNOWN_COMMANDS, KNOWN_SYMBOLS, check_symbol, mathml

HEADER = '[network]\nsizes = [2, 3, 1]\nactivation = "tanh"\nloss = "mse"\n\n[notation]\n'

# (template, fragment of the message): each is LaTeX that pdflatex or latex2mathml cannot read.
INVALID = [
    (r"\delta^{[l", "unbalanced brace: the { at character 8"),
    (r"\delta{l}}", "unbalanced brace: the } at character 10"),
    (r"$\delta{l}$", "a stray $"),
    (r"\delta_#{l}", "a stray #"),
    (r"a{l} 100%", "a stray %"),
    (r"a{l} & b", "a stray &"),
    (r"a{l} \\ b", r"a stray \\"),
    (r"\foo{l}", r"unknown control sequence \foo at character 1"),
    (r"\bolsymbol{\delta}{l}", r"did you mean \boldsymbol"),
    (r"\mathcal^{l}", r"\mathcal at character 1 has no argument"),
    ("\u03b4{l}", "non-ASCII character"),
    (r"\begin{matrix} a \end{matrix}{l}", "an environment"),
    (r"\left( a{l}", r"\left without its \right"),
    (r"a{l} \right)", r"\right at character 6 without a \left"),
    (r"a^", "nothing to raise"),
    (r"a_{l}\ ", None),                         # a control space: valid, accepted
    ("  ", "empty"),
]


def spec_file(tmp_path, key: str, template: str):
    path = tmp_path / "spec.toml"
    escaped = template.replace("\\", "\\\\").replace('"', '\\"')
    path.write_text(HEADER + f'{key} = "{escaped}"\n', encoding="utf-8")
    return path


@pytest.mark.parametrize("template, problem", INVALID)
def test_spec_notation_symbol_refused_on_its_line(tmp_path, template, problem):
    path = spec_file(tmp_path, "B", template)
    if problem is None:
        profile = derive.load_spec(path).notation
        assert profile.latex["B"] == template
        return
    with pytest.raises(BadInput) as info:
        derive.load_spec(path)
    message = str(info.value)
    assert message.startswith(f"{path}:7: [notation] B: "), message
    assert problem in message


@pytest.mark.parametrize("template, problem", [case for case in INVALID if case[1]])
def test_api_override_names_the_field(template, problem):
    with pytest.raises(BadInput) as info:
        get_profile("cs229", {"B": template})
    assert str(info.value).startswith("notation.B: ")
    assert problem in str(info.value)


@pytest.mark.parametrize("key", ["transpose", "hadamard", "index", "W", "E"])
def test_every_latex_field_is_checked(key):
    with pytest.raises(BadInput, match=rf"^notation\.{key}: unbalanced brace"):
        get_profile("ensimag", {key: "{x"})


def test_code_names_are_not_latex():
    # an identifier template is not LaTeX: an underscore run or a brace-free name is fine
    assert get_profile("cs229", {"code.B": "d_{l}"}).name_in_code("B", 2) == "d_2"


def test_unknown_field_is_named_before_its_latex():
    with pytest.raises(UnknownName, match="no notation object named 'signal'"):
        get_profile("cs229", {"signal": r"\delta{l}"})


VALID = [r"\tilde{\boldsymbol{\delta}}{l}", r"\hat{W}{l}", r"\bar{a}{l}", r"\mathbf{W}{l}",
         r"\operatorname{err}{l}", r"\nabla_{z{l}} J", r"\Theta{l}",
         r"\frac{\partial J}{\partial s{l}}", r"\left(W{l}\right)^{\top}",
         r"\omega_{\cdot,0}{l}", r"\{a\}{l}"]


@pytest.mark.parametrize("template", VALID)
def test_valid_symbols_accepted_and_read_by_mathml(template):
    check_symbol(template, "notation.B")
    profile = get_profile("cs229", {"B": template})
    assert "\\" not in _text_of(mathml(profile.symbol("B", 2)))


@pytest.mark.parametrize("template", [r"\mathcal{E}", r"\mathbb{E}", "J"])
def test_unindexed_symbols_accepted(template):
    assert get_profile("cs229", {"E": template}).symbol("E") == template


def test_every_builtin_profile_template_passes():
    for profile in PROFILES.values():
        for kind, template in profile.latex.items():
            check_symbol(template, f"{profile.name}.{kind}")
        for template in (profile.index, profile.transpose, profile.hadamard):
            check_symbol(template, profile.name)


def _text_of(markup: str) -> str:
    """The characters of MathML that are not markup (a leaked command shows as ``\\foo``)."""
    return re.sub(r"<[^>]*>", "", markup)


def _usage(name: str) -> str:
    if name in ("left", "right"):
        return r"\left( x \right)"
    if name.lower().startswith("big"):
        return f"\\{name}( x"
    return f"\\{name}" + "{x}" * KNOWN_COMMANDS[name] + (" x" if not KNOWN_COMMANDS[name] else "")


USAGES = [_usage(name) for name in KNOWN_COMMANDS] + [f"\\{c} x" for c in sorted(KNOWN_SYMBOLS)]


@pytest.mark.parametrize("usage", USAGES)
def test_every_known_command_is_read_by_latex2mathml(usage):
    check_symbol(usage, "usage")
    assert "\\" not in _text_of(mathml(usage)), usage


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="TeX Live is not installed")
def test_every_known_command_compiles_and_a_refused_one_does_not(tmp_path):
    def compile_math(formulas) -> subprocess.CompletedProcess:
        body = "\n".join(f"${formula}$\\par" for formula in formulas)
        (tmp_path / "t.tex").write_text(
            "\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n\\begin{document}\n"
            f"{body}\n\\end{{document}}\n", encoding="utf-8")
        return subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                               "t.tex"], cwd=tmp_path, capture_output=True, text=True,
                              timeout=120, check=False)

    accepted = compile_math(USAGES + [get_profile("cs229", {"B": t}).symbol("B", 2)
                                      for t in VALID])
    assert accepted.returncode == 0, accepted.stdout[-2000:]
    for template in (r"\foo{l}", r"a{l} & b"):           # refused here, and pdflatex agrees
        with pytest.raises(BadInput):
            check_symbol(template, "notation.B")
        assert compile_math([template.replace("{l}", "^{2}")]).returncode != 0
