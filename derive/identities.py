r"""The table of standard matrix-calculus identities, as data: what the engine must reproduce.

Each :class:`Identity` is one row of a textbook table: an EXPR (LaTeX, or SymPy syntax where the
row says so), the variable, the shapes and declarations, the result a textbook prints in
numerator and in denominator layout (SPEC §3.1), and the value of EXPR written directly in NumPy
(independent of the engine, for finite-difference checks).  The tests
(``tests/test_identity_table.py``) and the benchmark read this one table, differentiating each
row through ``derive.jacobian``: rows use the activations (σ, tanh), so the table lives beside
the registry, outside the calculus.

Rows: the ten rows of the CMU 10-315 layout table; linear and quadratic forms; aᵀXb; traces of
products; the inverse; det and log-det; Frobenius and 2-norms; least squares and ridge;
elementwise layers; softmax with cross-entropy; log-sum-exp; a user function applied entrywise;
and the examples on which SymPy's own MatrixSymbol calculus fails (issue 3).

Sizes are symbols (``n``, ``m``, ``p``, ``n_j``, ``n_k``); :func:`instantiate` substitutes
integers for them.  Expected forms are built from the same MatrixSymbols that reading EXPR with
the row's ``shapes`` creates, so a result is compared by structural equality.

Sources: CMU 10-315 ("Derivatives of Functions with Respect to Vectors"); the Matrix Cookbook
(Petersen & Pedersen, 2012), equations cited as MC(n).

Glossary: σ the logistic sigmoid, σ' its derivative, z a pre-activation, s = softmax(z),
lse = log-sum-exp, 1 a column of ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import sympy as sp

from .activations import ACTIVATIONS
from .calculus.matrix_nodes import (MatNorm, Softmax, elementwise, hadamard_of, prime_function,
                                    to_scalar)

n, m, p = sp.symbols("n m p")
n_j, n_k = sp.symbols("n_j n_k")
t = sp.Symbol("t", real=True)
lam = sp.Symbol("lambda", real=True)
SIGMOID = ACTIVATIONS.get("sigmoid").function
TANH = ACTIVATIONS.get("tanh").function


def _matrix(name: str, rows, cols) -> sp.MatrixSymbol:
    return sp.MatrixSymbol(name, rows, cols)


def _scaled(coeff, matrix) -> sp.MatMul:
    """c (A + B) as a textbook writes it (SymPy would distribute c over the sum)."""
    return sp.MatMul(coeff, matrix)


def _mul(*factors):
    """A product as the engine forms it: flattened, but transposes of sums kept whole
    ((x − a)ᵀ, not xᵀ − aᵀ, which SymPy's ``*`` would produce)."""
    return sp.MatMul(*factors).doit(deep=False)


_T = sp.Transpose


def _had(*factors):
    return hadamard_of(*factors)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


@dataclass(frozen=True)
class Identity:
    """One identity: ∂ EXPR / ∂ wrt in both layouts.

    Attributes
    ----------
    name : str
        A short id (also the pytest id).
    expr : str
        EXPR in LaTeX or SymPy syntax, as a user types it.
    wrt : str
        The variable's name.
    shapes : tuple of (str, (rows, cols))
        Every matrix name of EXPR with its shape (sizes are ints or size names).
    numerator, denominator : sympy.Basic
        The expected results: numerator ∂y/∂x m×n, ∂f/∂x 1×n, ∂f/∂X q×p for X p×q;
        denominator the transposes.
    value : callable
        EXPR in NumPy: ``value(env)`` with ``env`` name → ndarray (n×1 columns, 2-D) or float.
    scalars, symmetric : tuple of str
        Names declared real scalars / symmetric matrices.
    invertible : tuple of str
        Square matrices that must be drawn invertible with det > 0 (inverse, log-det rows).
    source : str
        Where the identity is printed.
    """

    name: str
    expr: str
    wrt: str
    shapes: tuple
    numerator: sp.Basic
    denominator: sp.Basic
    value: Callable = field(compare=False, repr=False)
    scalars: tuple = ()
    symmetric: tuple = ()
    invertible: tuple = ()
    source: str = ""

    @property
    def shape_dict(self) -> dict:
        """name → (rows, cols), in the order declared."""
        return dict(self.shapes)

    def expected(self, layout: str) -> sp.Basic:
        return self.numerator if layout == "numerator" else self.denominator


def _sizes_of(shapes) -> list:
    return [s for _, shape in shapes for s in shape if isinstance(s, sp.Symbol)]


def instantiate(identity: Identity, sizes: dict) -> Identity:
    """The identity with integer sizes: ``sizes`` maps size Symbols (or names) to ints.

    >>> row = IDENTITIES_BY_NAME["aT X b by X"]
    >>> instantiate(row, {"m": 2, "n": 3}).denominator.shape
    (2, 3)
    """
    table = {sp.Symbol(k) if isinstance(k, str) else k: int(v) for k, v in sizes.items()}

    def size(s):
        return table.get(s, s) if isinstance(s, sp.Symbol) else s

    shapes = tuple((name, (size(r), size(c))) for name, (r, c) in identity.shapes)
    return Identity(name=identity.name, expr=identity.expr, wrt=identity.wrt, shapes=shapes,
                    numerator=identity.numerator.xreplace(table),
                    denominator=identity.denominator.xreplace(table), value=identity.value,
                    scalars=identity.scalars, symmetric=identity.symmetric,
                    invertible=identity.invertible, source=identity.source)


# --- symbols of the rows (MatrixSymbols are equal when name and shape are) ------------------------

A = _matrix("A", n, n)
B_nn = _matrix("B", n, n)
u = _matrix("u", n, 1)
v = _matrix("v", n, 1)
I_n = sp.Identity(n)
SQUARE = (("A", (n, n)), ("u", (n, 1)), ("v", (n, 1)))

a_m, b_n = _matrix("a", m, 1), _matrix("b", n, 1)
a_n, b_m = _matrix("a", n, 1), _matrix("b", m, 1)
X_mn = _matrix("X", m, n)
X_nn = _matrix("X", n, n)
A_nm, A_mn, A_mm, A_pm = (_matrix("A", n, m), _matrix("A", m, n), _matrix("A", m, m),
                          _matrix("A", p, m))
B_mn, B_np, B_pn = _matrix("B", m, n), _matrix("B", n, p), _matrix("B", p, n)
c_n = _matrix("c", n, 1)
x_n, a_x = _matrix("x", n, 1), _matrix("a", n, 1)
w_n, y_m = _matrix("w", n, 1), _matrix("y", m, 1)
W_mn, b_m_bias = _matrix("W", m, n), _matrix("b", m, 1)
z_n = _matrix("z", n, 1)

# an elementwise layer: z = W x + b
Z_LAYER = W_mn * x_n + b_m_bias
# a sigmoid output unit: z = W a + b with a ∈ R^n
Z_OUT = W_mn * a_n + b_m_bias
# two layers: z1 = W1 x + b1 (n_j), z2 = W2 σ(z1) + b2 (n_k)
W1, W2 = _matrix("W_1", n_j, n), _matrix("W_2", n_k, n_j)
b1, b2, y_k = _matrix("b_1", n_j, 1), _matrix("b_2", n_k, 1), _matrix("y", n_k, 1)
Z1 = W1 * x_n + b1
RESIDUAL2 = W2 * elementwise(SIGMOID, Z1) + b2 - y_k
# a user function of one variable, entrywise: f(t) = log(1 + t²), f'(t) = 2t / (1 + t²)
USER_F = sp.Lambda(t, sp.log(1 + t**2))
USER_F_PRIME = sp.Lambda(t, 2 * t / (t**2 + 1))

ONES_M_T = sp.OneMatrix(1, m)
S_WX = Softmax(W_mn * x_n)


IDENTITIES: tuple[Identity, ...] = (
    # --- CMU 10-315: the layout table, all ten rows --------------------------------------------
    Identity("d v / dv", "v", "v", SQUARE, I_n, I_n, lambda e: e["v"], source="CMU 10-315"),
    Identity("d v^T / dv", "v^T", "v", SQUARE, I_n, I_n, lambda e: e["v"].T,
             source="CMU 10-315"),
    Identity("d t v / dv", "t v", "v", SQUARE, t * I_n, t * I_n, lambda e: e["t"] * e["v"],
             scalars=("t",), source="CMU 10-315"),
    Identity("d u^T v / du", "u^T v", "u", SQUARE, v.T, v, lambda e: e["u"].T @ e["v"],
             source="CMU 10-315"),
    Identity("d u^T v / dv", "u^T v", "v", SQUARE, u.T, u, lambda e: e["u"].T @ e["v"],
             source="CMU 10-315"),
    Identity("d v^T v / dv", "v^T v", "v", SQUARE, 2 * v.T, 2 * v, lambda e: e["v"].T @ e["v"],
             source="CMU 10-315"),
    Identity("d v^T A v / dv", "v^T A v", "v", SQUARE, v.T * (A + A.T), (A + A.T) * v,
             lambda e: e["v"].T @ e["A"] @ e["v"], source="CMU 10-315"),
    Identity("d v^T A v / dv, A = A^T", "v^T A v", "v", SQUARE, 2 * v.T * A, 2 * A * v,
             lambda e: e["v"].T @ e["A"] @ e["v"], symmetric=("A",), source="CMU 10-315"),
    Identity("d A v / dv", "A v", "v", SQUARE, A, A.T, lambda e: e["A"] @ e["v"],
             source="CMU 10-315"),
    Identity("d v^T A / dv", "v^T A", "v", SQUARE, A.T, A, lambda e: e["v"].T @ e["A"],
             source="CMU 10-315"),

    # --- linear and quadratic forms --------------------------------------------------------------
    Identity("a^T x by x", r"a^{T} x", "x", (("a", (n, 1)), ("x", (n, 1))), a_x.T, a_x,
             lambda e: e["a"].T @ e["x"], source="MC(69)"),
    Identity("x^T a by x", r"x^\top a", "x", (("a", (n, 1)), ("x", (n, 1))), a_x.T, a_x,
             lambda e: e["x"].T @ e["a"], source="MC(69)"),
    Identity("aT X b by X", "a^T X b", "X", (("a", (m, 1)), ("X", (m, n)), ("b", (n, 1))),
             b_n * a_m.T, a_m * b_n.T, lambda e: e["a"].T @ e["X"] @ e["b"], source="MC(70)"),
    Identity("aT XT b by X", "a^T X^T b", "X", (("a", (n, 1)), ("X", (m, n)), ("b", (m, 1))),
             a_n * b_m.T, b_m * a_n.T, lambda e: e["a"].T @ e["X"].T @ e["b"],
             source="MC(71)"),
    Identity("(x - a)^T A (x - a) by x", "(x - a)^T A (x - a)", "x",
             (("x", (n, 1)), ("a", (n, 1)), ("A", (n, n))),
             _mul(_T(x_n - a_x), A + A.T), (A + A.T) * (x_n - a_x),
             lambda e: (e["x"] - e["a"]).T @ e["A"] @ (e["x"] - e["a"]), source="MC(86)"),
    Identity("x^T A x, SymPy syntax", "v.T*A*v", "v", SQUARE, v.T * (A + A.T), (A + A.T) * v,
             lambda e: e["v"].T @ e["A"] @ e["v"], source="CMU 10-315, SymPy syntax"),
    Identity("bT XT X c by X", "b^T X^T X c", "X", (("b", (n, 1)), ("X", (m, n)), ("c", (n, 1))),
             (b_n * c_n.T + c_n * b_n.T) * X_mn.T, X_mn * (b_n * c_n.T + c_n * b_n.T),
             lambda e: e["b"].T @ e["X"].T @ e["X"] @ e["c"], source="MC(77)"),

    # --- traces of products ----------------------------------------------------------------------
    Identity("tr(X) by X", r"\operatorname{tr}(X)", "X", (("X", (n, n)),), I_n, I_n,
             lambda e: np.trace(e["X"]), source="MC(99)"),
    Identity("tr(AX) by X", r"\operatorname{tr}(A X)", "X", (("A", (n, m)), ("X", (m, n))),
             A_nm, A_nm.T, lambda e: np.trace(e["A"] @ e["X"]), source="MC(100)"),
    Identity("tr(X^T A) by X", r"\mathrm{tr}(X^T A)", "X", (("A", (m, n)), ("X", (m, n))),
             A_mn.T, A_mn, lambda e: np.trace(e["X"].T @ e["A"]), source="MC(101)"),
    Identity("tr(AXB) by X", r"\operatorname{Tr}(A X B)", "X",
             (("A", (p, m)), ("X", (m, n)), ("B", (n, p))),
             B_np * A_pm, A_pm.T * B_np.T, lambda e: np.trace(e["A"] @ e["X"] @ e["B"]),
             source="MC(102)"),
    Identity("tr(X^T A X) by X", r"\operatorname{tr}(X^T A X)", "X",
             (("A", (m, m)), ("X", (m, n))), X_mn.T * (A_mm + A_mm.T), (A_mm + A_mm.T) * X_mn,
             lambda e: np.trace(e["X"].T @ e["A"] @ e["X"]), source="MC(108)"),
    Identity("tr(X^2) by X", r"\tr(X^2)", "X", (("X", (n, n)),), 2 * X_nn, 2 * X_nn.T,
             lambda e: np.trace(e["X"] @ e["X"]), source="MC(106)"),
    Identity("tr(A^T A) + tr(B^T B) by A", r"\operatorname{tr}(A^T A) + \operatorname{tr}(B^T B)",
             "A", (("A", (m, n)), ("B", (m, n))), 2 * A_mn.T, 2 * A_mn,
             lambda e: np.trace(e["A"].T @ e["A"]) + np.trace(e["B"].T @ e["B"]),
             source="issue 3 (SymPy returns 0)"),
    Identity("tr(A^T A) plain-letter trace", "tr(A^T A)", "A", (("A", (m, n)),),
             2 * A_mn.T, 2 * A_mn, lambda e: np.trace(e["A"].T @ e["A"]), source="MC(103)"),

    # --- inverse, determinant, log-determinant ---------------------------------------------------
    Identity("a^T X^-1 b by X", r"a^T X^{-1} b", "X",
             (("a", (n, 1)), ("X", (n, n)), ("b", (n, 1))),
             -X_nn.I * b_n * a_n.T * X_nn.I, -X_nn.T.I * a_n * b_n.T * X_nn.T.I,
             lambda e: e["a"].T @ np.linalg.inv(e["X"]) @ e["b"], invertible=("X",),
             source="MC(61)"),
    Identity("det X by X", r"\det X", "X", (("X", (n, n)),),
             sp.Determinant(X_nn) * X_nn.I, sp.Determinant(X_nn) * X_nn.T.I,
             lambda e: np.linalg.det(e["X"]), invertible=("X",), source="MC(49)"),
    Identity("log det X by X", r"\log\det X", "X", (("X", (n, n)),), X_nn.I, X_nn.T.I,
             lambda e: np.log(np.linalg.det(e["X"])), invertible=("X",),
             source="MC(57); issue 3 (SymPy returns 0)"),
    Identity("log det X, SymPy syntax", "log(det(X))", "X", (("X", (n, n)),), X_nn.I, X_nn.T.I,
             lambda e: np.log(np.linalg.det(e["X"])), invertible=("X",), source="MC(57)"),
    Identity("log |det X| by X", r"\log|\det X|", "X", (("X", (n, n)),), X_nn.I, X_nn.T.I,
             lambda e: np.log(abs(np.linalg.det(e["X"]))), invertible=("X",), source="MC(57)"),

    # --- norms -----------------------------------------------------------------------------------
    Identity("||X||_F^2 by X", r"\|X\|_F^2", "X", (("X", (m, n)),), 2 * X_mn.T, 2 * X_mn,
             lambda e: np.sum(e["X"] ** 2), source="MC(112)"),
    Identity("||AX - B||_F^2 by X", r"\|A X - B\|_F^2", "X",
             (("A", (p, m)), ("X", (m, n)), ("B", (p, n))),
             _mul(2, _T(A_pm * _matrix("X", m, n) - B_pn), A_pm),
             _mul(2, A_pm.T, A_pm * _matrix("X", m, n) - B_pn),
             lambda e: np.sum((e["A"] @ e["X"] - e["B"]) ** 2), source="MC(2.7.1)"),
    Identity("||x||_2 by x", r"\|x\|_2", "x", (("x", (n, 1)),),
             x_n.T / MatNorm(x_n), x_n / MatNorm(x_n),
             lambda e: np.linalg.norm(e["x"]), source="MC(129)"),
    Identity("||x - a||_2^2 by x", r"\left\|x - a\right\|_2^2", "x",
             (("x", (n, 1)), ("a", (n, 1))),
             _mul(2, _T(x_n - a_x)), _scaled(2, x_n - a_x),
             lambda e: np.sum((e["x"] - e["a"]) ** 2), source="MC(130)"),

    # --- least squares and ridge -----------------------------------------------------------------
    Identity("least squares by w", r"\frac{1}{2}\|X w - y\|^2", "w",
             (("X", (m, n)), ("w", (n, 1)), ("y", (m, 1))),
             _mul(_T(X_mn * w_n - y_m), X_mn), X_mn.T * (X_mn * w_n - y_m),
             lambda e: 0.5 * np.sum((e["X"] @ e["w"] - e["y"]) ** 2), source="normal equations"),
    Identity("ridge by w", r"\frac{1}{2}\|X w - y\|^2 + \frac{\lambda}{2}\|w\|^2", "w",
             (("X", (m, n)), ("w", (n, 1)), ("y", (m, 1))),
             sp.MatAdd(_mul(_T(X_mn * w_n - y_m), X_mn), lam * w_n.T).doit(deep=False),
             X_mn.T * (X_mn * w_n - y_m) + lam * w_n,
             lambda e: 0.5 * np.sum((e["X"] @ e["w"] - e["y"]) ** 2)
             + 0.5 * e["lambda"] * np.sum(e["w"] ** 2),
             scalars=("lambda",), source="ridge regression"),

    # --- elementwise layers ----------------------------------------------------------------------
    Identity("sigma(Wx + b) by x", r"\sigma(W x + b)", "x",
             (("W", (m, n)), ("x", (n, 1)), ("b", (m, 1))),
             sp.DiagMatrix(elementwise(prime_function(SIGMOID), Z_LAYER)) * W_mn,
             W_mn.T * sp.DiagMatrix(elementwise(prime_function(SIGMOID), Z_LAYER)),
             lambda e: _sigmoid(e["W"] @ e["x"] + e["b"]), source="Ensimag (P^j)"),
    Identity("tanh(Ax + b), SymPy syntax", "(A*x + b).applyfunc(tanh)", "x",
             (("A", (n, n)), ("x", (n, 1)), ("b", (n, 1))),
             sp.DiagMatrix(elementwise(prime_function(TANH), A * x_n + b_n)) * A,
             A.T * sp.DiagMatrix(elementwise(prime_function(TANH), A * x_n + b_n)),
             lambda e: np.tanh(e["A"] @ e["x"] + e["b"]), source="SPEC §5"),
    Identity("1/2||sigma(Wa + b) - y||^2 by W", r"\frac{1}{2}\|\sigma(W a + b) - y\|^2", "W",
             (("W", (m, n)), ("a", (n, 1)), ("b", (m, 1)), ("y", (m, 1))),
             _mul(a_n, _T(_had(elementwise(prime_function(SIGMOID), Z_OUT),
                               elementwise(SIGMOID, Z_OUT) - y_m))),
             _had(elementwise(prime_function(SIGMOID), Z_OUT),
                  elementwise(SIGMOID, Z_OUT) - y_m) * a_n.T,
             lambda e: 0.5 * np.sum((_sigmoid(e["W"] @ e["a"] + e["b"]) - e["y"]) ** 2),
             source="issue 3 (SymPy: diagonalizing indices of different dimensions)"),
    Identity("two-layer network dC/dW1",
             r"\frac{1}{2}\|W_2 \sigma(W_1 x + b_1) + b_2 - y\|^2", "W_1",
             (("W_1", (n_j, n)), ("W_2", (n_k, n_j)), ("x", (n, 1)), ("b_1", (n_j, 1)),
              ("b_2", (n_k, 1)), ("y", (n_k, 1))),
             _mul(x_n, _T(_had(elementwise(prime_function(SIGMOID), Z1), W2.T * RESIDUAL2))),
             _had(elementwise(prime_function(SIGMOID), Z1), W2.T * RESIDUAL2) * x_n.T,
             lambda e: 0.5 * np.sum((e["W_2"] @ _sigmoid(e["W_1"] @ e["x"] + e["b_1"])
                                     + e["b_2"] - e["y"]) ** 2),
             source="issue 3 (SymPy: index is larger than expression shape)"),
    Identity("user function entrywise by x", "(W*x).applyfunc(Lambda(t, log(1 + t**2)))", "x",
             (("W", (m, n)), ("x", (n, 1))),
             sp.DiagMatrix(elementwise(USER_F_PRIME, W_mn * x_n)) * W_mn,
             W_mn.T * sp.DiagMatrix(elementwise(USER_F_PRIME, W_mn * x_n)),
             lambda e: np.log(1 + (e["W"] @ e["x"]) ** 2), source="a user SymPy function"),
    Identity("sinh(Wx) by x", r"\sinh(W x)", "x", (("W", (m, n)), ("x", (n, 1))),
             sp.DiagMatrix(elementwise(sp.cosh, W_mn * x_n)) * W_mn,
             W_mn.T * sp.DiagMatrix(elementwise(sp.cosh, W_mn * x_n)),
             lambda e: np.sinh(e["W"] @ e["x"]), source="a SymPy function of one variable"),

    # --- softmax, cross-entropy, log-sum-exp -----------------------------------------------------
    Identity("softmax(z) by z", r"\operatorname{softmax}(z)", "z", (("z", (n, 1)),),
             sp.DiagMatrix(Softmax(z_n)) - Softmax(z_n) * Softmax(z_n).T,
             sp.DiagMatrix(Softmax(z_n)) - Softmax(z_n) * Softmax(z_n).T,
             lambda e: _softmax(e["z"]), source="SPEC §4 (diag(s) − s sᵀ)"),
    Identity("cross-entropy -y^T log softmax(Wx) by W",
             r"-y^T \log(\operatorname{softmax}(W x))", "W",
             (("W", (m, n)), ("x", (n, 1)), ("y", (m, 1))),
             _mul(x_n, _T(to_scalar(ONES_M_T * y_m) * S_WX - y_m)),
             (to_scalar(ONES_M_T * y_m) * S_WX - y_m) * x_n.T,
             lambda e: -(e["y"].T @ np.log(_softmax(e["W"] @ e["x"]))),
             source="(s − y) xᵀ when 1ᵀy = 1"),
    Identity("cross-entropy as lse(Wx) - y^T W x by W",
             r"\operatorname{logsumexp}(W x) - y^T W x", "W",
             (("W", (m, n)), ("x", (n, 1)), ("y", (m, 1))),
             _mul(x_n, _T(S_WX - y_m)), (S_WX - y_m) * x_n.T,
             lambda e: np.log(np.sum(np.exp(e["W"] @ e["x"]))) - e["y"].T @ e["W"] @ e["x"],
             source="cross-entropy of a one-hot y"),
    Identity("lse(z) by z", r"\operatorname{logsumexp}(z)", "z", (("z", (n, 1)),),
             Softmax(z_n).T, Softmax(z_n), lambda e: np.log(np.sum(np.exp(e["z"]))),
             source="∇ lse = softmax"),
    Identity("lse(Wx) by W", r"\operatorname{logsumexp}(W x)", "W",
             (("W", (m, n)), ("x", (n, 1))), x_n * S_WX.T, S_WX * x_n.T,
             lambda e: np.log(np.sum(np.exp(e["W"] @ e["x"]))), source="chain rule"),
)
"""The table, in the order printed above."""

IDENTITIES_BY_NAME: dict[str, Identity] = {row.name: row for row in IDENTITIES}

LAYOUT_TABLE = tuple(row for row in IDENTITIES if row.source == "CMU 10-315")
"""The ten rows of the CMU 10-315 layout table."""


def size_symbols(identity: Identity) -> list:
    """The symbolic sizes of a row, sorted by name."""
    return sorted(set(_sizes_of(identity.shapes)), key=lambda s: s.name)


__all__ = ["Identity", "IDENTITIES", "IDENTITIES_BY_NAME", "LAYOUT_TABLE", "instantiate",
           "size_symbols"]
