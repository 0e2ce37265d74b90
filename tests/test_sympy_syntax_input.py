"""SymPy syntax (SPEC §5): a Python expression in the namespace of ``from sympy import *`` plus
the variables.  SymPy's own constructors read (``Rational``, ``S``, ``Identity``,
``ZeroMatrix``, ``OneMatrix``, ``HadamardPower``, ``MatrixSymbol``, ``Lambda`` of a ``Symbol``)
and their Jacobians agree with central differences; ``--format sympy`` text reads back to an
equal expression; the text is untrusted, so anything beyond expressions is refused (exit 2)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from derive.calculus.function_names import sympy_names
from derive.calculus.matrix_input import read_expression
from derive.calculus.sympy_input import looks_like_sympy
from derive.calculus.sympy_output import to_sympy_syntax
from derive.errors import BadInput
from tests.test_jacobian_cli import _run, _run_in_process
from tests.test_matrix_calculus import Namespace, _check_against_fd, matrix_jacobian

n, m = sp.symbols("n m")
X_COLUMN = {"x": ("n", 1)}


def _t_tanh_t(z):
    return z * np.tanh(z)


# (EXPR, --wrt, shapes for the random point, NumPy value of EXPR, extra command-line arguments)
EXAMPLES = [
    ("Rational(1,2)*x.T*x", "x", X_COLUMN, lambda e: 0.5 * e["x"].T @ e["x"], ()),
    ("S(1)/2*x.T*x", "x", X_COLUMN, lambda e: 0.5 * e["x"].T @ e["x"], ()),
    ("x.T*Identity(n)*x", "x", X_COLUMN, lambda e: e["x"].T @ e["x"], ()),
    ("x.T*(A + ZeroMatrix(n, n))*x", "x", {**X_COLUMN, "A": ("n", "n")},
     lambda e: e["x"].T @ e["A"] @ e["x"], ()),
    ("OneMatrix(1, n)*HadamardPower(x, 2)", "x", X_COLUMN, lambda e: np.sum(e["x"] ** 2), ()),
    ('MatrixSymbol("z", n, 1).T*x', "x", {**X_COLUMN, "z": ("n", 1)},
     lambda e: e["z"].T @ e["x"], ()),
    ('(W*x).applyfunc(Lambda(Symbol("t"), t*tanh(t)))', "x", {**X_COLUMN, "W": ("n", "n")},
     lambda e: _t_tanh_t(e["W"] @ e["x"]), ()),
    ("Trace(A.T*A) + Trace(B.T*B)", "A", {"A": ("m", "n"), "B": ("m", "n")},
     lambda e: np.sum(e["A"] ** 2) + np.sum(e["B"] ** 2),
     ("--shape", "A=mxn", "--shape", "B=mxn")),
    # more of the namespace: singletons, numbers spelled as strings, SymPy's product classes
    ("S.Half*x.T*x", "x", X_COLUMN, lambda e: 0.5 * e["x"].T @ e["x"], ()),
    ('Rational("3/4")*x.T*A*x', "x", {**X_COLUMN, "A": ("n", "n")},
     lambda e: 0.75 * e["x"].T @ e["A"] @ e["x"], ()),
    ("MatMul(x.T, A, x) + Trace(MatPow(A, 2))", "A", {**X_COLUMN, "A": ("n", "n")},
     lambda e: e["x"].T @ e["A"] @ e["x"] + np.trace(e["A"] @ e["A"]), ()),
    ("log(1 + exp(-y.T*W*x))", "W", {"x": ("n", 1), "y": ("m", 1), "W": ("m", "n")},
     lambda e: np.log(1 + np.exp(-e["y"].T @ e["W"] @ e["x"])), ()),
    ("(W*x).applyfunc(Lambda(t, Rational(1, 2)*t**2 + pi*t))", "x",
     {**X_COLUMN, "W": ("m", "n")},
     lambda e: 0.5 * (e["W"] @ e["x"]) ** 2 + np.pi * (e["W"] @ e["x"]), ()),
]


@pytest.mark.parametrize("text, wrt, shapes, value, _", EXAMPLES, ids=[c[0] for c in EXAMPLES])
def test_sympy_syntax_jacobian_agrees_with_finite_differences(text, wrt, shapes, value, _):
    assert looks_like_sympy(text)
    _check_against_fd(text, wrt, shapes, value)


@pytest.mark.parametrize("text, wrt, _, __, extra", EXAMPLES, ids=[c[0] for c in EXAMPLES])
def test_sympy_syntax_through_the_command(text, wrt, _, __, extra, capsys):
    status, out, err = _run_in_process(["jacobian", text, "--wrt", wrt, *extra], capsys)
    assert status == 0, err
    assert out.strip() and "Traceback" not in err


def test_size_arguments_are_sizes_not_variables():
    """``n`` in Identity(n) or MatrixSymbol("z", n, 1) is the size n: no variable n, no note."""
    namespace = Namespace()
    expr = read_expression('x.T*Identity(n)*MatrixSymbol("z", n, 1)', namespace)
    x, z = sp.MatrixSymbol("x", n, 1), sp.MatrixSymbol("z", n, 1)
    assert expr == x.T * z
    assert namespace.notes == ["x has no declared shape: taken as a column n×1"]
    assert read_expression("OneMatrix(1, 2*n)*HadamardPower(Identity(2*n), 2)", Namespace()) \
        == sp.OneMatrix(1, 2 * n) * sp.HadamardPower(sp.Identity(2 * n), 2)


def test_numbers_of_the_namespace_are_exact():
    half_x = sp.MatMul(sp.Rational(1, 2), sp.MatrixSymbol("x", n, 1))
    for text in ("Rational(1, 2)*x", "S(1)/2*x", "S.Half*x", 'Rational("1/2")*x', 'S("1/2")*x',
                 "x/2", "Integer(1)/Integer(2)*x"):
        assert read_expression(text, Namespace()) == half_x, text


def test_unknown_names_still_become_variables():
    """A bare name is a variable (with a default shape) even when SymPy has a function of that
    name; a called unknown name is still an unknown function."""
    namespace = Namespace()
    expr = read_expression("beta.T*gamma", namespace)
    assert expr == sp.MatrixSymbol("beta", n, 1).T * sp.MatrixSymbol("gamma", n, 1)
    assert len(namespace.notes) == 2
    with pytest.raises(BadInput, match=r"unknown function 'foo'; known: .*softplus"):
        read_expression("foo(x)", Namespace())


def test_symbol_objects_are_the_declared_scalars():
    c, x = sp.Symbol("c", real=True), sp.MatrixSymbol("x", n, 1)
    assert read_expression('Symbol("c")*x', Namespace(scalars=("c",))) == c * x
    assert read_expression('Symbol("c")*x + c*x', Namespace()) == 2 * c * x
    with pytest.raises(BadInput, match=r"c is declared with the shape n×1, not as a scalar"):
        read_expression('Symbol("c")*x', Namespace(shapes={"c": ("n", 1)}))


@pytest.mark.parametrize("text, shapes, pattern", [
    ("x.T*Identity(m)*x", {}, r"cannot multiply 'x.T' \(1×n\) by 'Identity\(m\)' \(m×m\)"),
    ("x + OneMatrix(1, n)", {}, r"cannot add 'x' \(n×1\) and 'OneMatrix\(1, n\)' \(1×n\)"),
    ('MatrixSymbol("z", m, 1).T*x', {"z": ("n", 1)},
     r'MatrixSymbol\("z", m, 1\) is m×1 but z is declared n×1 \(at column 1\)\n.*\n  \^'),
    ('MatrixSymbol("x", m, 1).T*x + x.T*Identity(n)*x', {},
     r"cannot multiply 'x.T' \(1×m\) by 'Identity\(n\)' \(n×n\)"),
    ("Max(x, 0)", {}, r"cannot evaluate 'Max\(x, 0\)': .* \(at column 1\)\n.*\n  \^"),
    ("x.T*Identity(0)*x", {}, r"size 0 must be at least 1 \(at column 14\)"),
    ("(W*x).applyfunc(Lambda(Symbol('t'), t*y))", {}, r"'y' in the body of a Lambda"),
    ("x.applyfunc(Lambda((s, t), s*t))", {}, r"takes one variable"),
    ("Lambda(t, t**2)", {}, r"is not a matrix or scalar expression"),
    ("latex(x)", {}, r"'latex\(x\)' gives a str, not an expression"),
])
def test_bad_sympy_syntax_is_named_and_placed(text, shapes, pattern):
    with pytest.raises(BadInput, match=pattern):
        matrix_jacobian(text, "x", shapes=shapes)


# --- --format sympy reads back ------------------------------------------------------------------

ROUND_TRIPS = [
    (r"\sigma(W x + b)", "x", {}, (), False),
    (r"\sigma(W x + b)", "W", {"W": ("m", "n"), "x": ("n", 1), "b": ("m", 1)}, (), True),
    ('(W*x).applyfunc(Lambda(Symbol("t"), t*tanh(t)))', "x", {}, (), False),
    (r"\frac{1}{2}\|\sigma(W a + b) - y\|^2", "W",
     {"W": ("m", "n"), "a": ("n", 1), "b": ("m", 1), "y": ("m", 1)}, (), False),
    ("log(x.T*A*x)*x", "x", {}, (), True),
    ("x.T*A*x", "A", {}, (), False),
    ("log(det(X))", "X", {}, (), False),
    ("softmax(z)", "z", {}, (), False),
    ("norm(X.T*X - Identity(n))", "X", {"X": ("m", "n")}, (), False),
    ("x.applyfunc(Lambda(t, t**3 + c*t))", "x", {}, ("c",), False),
    ("hadamard_product(x, y).T*hadamard_product(x, x)", "x", {}, (), False),
    ("X^T", "X", {"X": ("m", "n")}, (), True),
    (r"a^{[2]T} W^{[2]} a^{[1]}", "W^{[2]}", {}, (), False),
    (r"\operatorname{relu}(W x)", "x", {}, (), False),
    ("x.T*x", "y", {}, (), False),
    ("1 - x", "x", {}, (), False),
]


@pytest.mark.parametrize("text, wrt, shapes, scalars, vec", ROUND_TRIPS,
                         ids=[c[0] + (" --vec" if c[4] else "") for c in ROUND_TRIPS])
def test_sympy_format_reads_back_equal(text, wrt, shapes, scalars, vec):
    result = matrix_jacobian(text, wrt, shapes=shapes, scalars=scalars, vec=vec)
    written = to_sympy_syntax(result.expr)
    assert looks_like_sympy(written), written
    assert read_expression(written, Namespace(shapes=shapes, scalars=scalars)) == result.expr, \
        written


def test_sympy_format_of_an_activation_layer():
    result = matrix_jacobian(r"\sigma(W x + b)", "x")
    assert to_sympy_syntax(result.expr) == "DiagMatrix((W*x + b).applyfunc(sigmoid_prime))*W"


@pytest.mark.parametrize("text", [c[0] for c in EXAMPLES])
def test_expressions_read_back_equal(text):
    expr = read_expression(text, Namespace())
    assert read_expression(to_sympy_syntax(expr), Namespace()) == expr


def test_command_sympy_format_reads_back(capsys):
    argv = ["jacobian", r"\sigma(W x + b)", "--wrt", "x", "--format", "sympy"]
    status, out, _ = _run_in_process(argv, capsys)
    assert status == 0
    result = matrix_jacobian(r"\sigma(W x + b)", "x")
    if out.strip() != to_sympy_syntax(result.expr):
        pytest.skip("MatrixJacobianResult.sympy (derive/calculus/matrix.py) does not print with "
                    "to_sympy_syntax yet")
    assert read_expression(out.strip(), Namespace()) == result.expr


# --- untrusted text -----------------------------------------------------------------------------

MALICIOUS = [
    '__import__("os").system("true")',
    "__import__",
    "x.__class__",
    "x.__class__.__mro__",
    "x.T.__dict__",
    "S.__class__",
    'open("f")',
    "open(x)",
    'eval("1")',
    'exec("1")',
    'getattr(x, "T")',
    "(lambda: 1)()",
    "lambda t: t",
    "x.applyfunc(lambda t: t**2)",
    '(lambda: __import__("os"))()',
    'sympify("x")',
    'S("__import__(1)")',
    'Symbol("__import__")',
    "MatrixSymbol(\"a'); import os; ('\", n, 1)",
    'parse_expr("x")',
    "lambdify(x, x)",
    "preview(x)",
    "init_printing()",
    "init_session()",
    "pprint(x)",
    "x.subs(x, 1)",
    "x.doit()",
    "x[0]",
    "[c for c in x]",
    'f"{x}"',
    "x if x else x",
    "Rational(**{'p': 1})",
    "2**10**10*x.T*x",
]


@pytest.mark.parametrize("text", MALICIOUS)
def test_untrusted_text_is_refused(text, capsys):
    with pytest.raises(BadInput):
        matrix_jacobian(text, "x")
    status, out, err = _run_in_process(["jacobian", text, "--wrt", "x"], capsys)
    assert status == 2 and not out and "Traceback" not in err
    assert err.count("\n") <= 4          # one line of message, the text and the marker


def test_no_code_runs_from_the_command_line(tmp_path):
    """Real processes: exit 2, no traceback, and the shell command never ran."""
    canary = tmp_path / "ran"
    for text in (f'__import__("os").system("touch {canary}")', "x.__class__", 'open("f")',
                 "x.applyfunc(lambda t: t**2)"):
        done = _run(text, "--wrt", "x")
        assert done.returncode == 2 and "Traceback" not in done.stderr, (text, done.stderr)
        assert "error" in done.stderr
    assert not canary.exists()


def test_the_namespace_leaves_out_what_runs_code_or_prints():
    names = sympy_names()
    for name in ("sympify", "parse_expr", "lambdify", "preview", "init_session", "pprint",
                 "print_latex", "plot", "var"):
        assert name not in names
    for name in ("Rational", "Identity", "ZeroMatrix", "OneMatrix", "HadamardPower",
                 "MatrixSymbol", "Lambda", "Symbol", "tanh", "Trace"):
        assert name in names
