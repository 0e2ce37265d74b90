"""Registry of activation functions: one entry each, the derivative always from ``sympy.diff``.

An entry gives the SymPy expression of ``x``, its LaTeX name, where it has kinks, and optionally
the textbook form of its derivative (σ' = σ(1 − σ)).  The textbook form is kept as the printed
derivative only after :func:`derive.registry.decide_equal` has shown it equal to
``sympy.diff``; otherwise construction fails.  User-defined activations (:func:`custom`) take the
very same path.

Each entry owns a SymPy function class (``sigmoid``, ``relu``, ...), so derivations print
``sigmoid(z1_2)`` rather than its expansion, and differentiate through ``fdiff``.

Glossary: ``x`` the scalar argument; Φ the activation; ``s`` the outputs of softmax.

>>> act = ACTIVATIONS.get("sigmoid")
>>> z = sp.Symbol("z", real=True)
>>> sp.diff(act.apply(z), z)
(1 - sigmoid(z))*sigmoid(z)
>>> act.derivative_in_output(sp.Symbol("a"))
a*(1 - a)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import sympy as sp

from .calculus.functions import NamedFunction as ActivationFunction
from .errors import BadInput
from .derivation import Check
from .registry import Registry, decide_equal, find_kinks, parse_user_expression

x = sp.Symbol("x", real=True)
_OUTPUT = sp.Dummy("phi")


@dataclass(frozen=True)
class Activation:
    """An elementwise activation Φ: R → R.

    Attributes
    ----------
    name, latex : str
        Registry name and LaTeX name (``\\sigma``).
    expr : sympy.Expr
        Φ(x) as an expression of :data:`x`.
    derivative : sympy.Expr
        Φ'(x) from ``sympy.diff`` (Dirac deltas of step-like functions dropped: they are zero
        away from the kinks).
    printed_derivative : sympy.Expr
        The form used in derivations: the textbook form when it was given and checked,
        otherwise ``derivative``.  Written with :attr:`function`, e.g. ``sigmoid(x)*(1 - sigmoid(x))``.
    kinks : tuple
        Values of x where Φ is not differentiable.
    value_range : sympy.Interval
        The smallest interval holding every value of Φ, closed at a bound Φ attains (relu:
        [0, ∞); sigmoid: (0, 1)); ``sympy.Reals`` when unknown (a user's activation).  An output
        layer pairs with a loss whose ``prediction_domain`` holds this interval.
    check : Check
        How the printed derivative was checked: ``sympy_diff`` when it is sympy.diff's own,
        else the check of the textbook form against it.
    family : tuple or None
        ``(name, parameter)`` of a parametrised registry entry (``("leaky_relu", "1/10")``).
    vector_valued, min_outputs
        Class constants: an elementwise Φ maps each entry alone and works on any number of
        outputs.
    """

    name: str
    latex: str
    expr: sp.Expr
    derivative: sp.Expr
    printed_derivative: sp.Expr
    kinks: tuple
    value_range: sp.Interval
    check: Check
    function: type = field(repr=False, compare=False)
    family: tuple | None = field(default=None, compare=False)
    vector_valued = False
    min_outputs = 1

    def apply(self, arg: sp.Expr) -> sp.Expr:
        """Φ applied to a scalar expression, as the entry's SymPy function."""
        return self.function(arg)

    def apply_vector(self, z: sp.Matrix) -> sp.Matrix:
        """Φ applied to each entry of a column ``z``."""
        return z.applyfunc(self.function)

    def derivative_at(self, arg: sp.Expr) -> sp.Expr:
        return self.printed_derivative.xreplace({x: arg})

    def derivative_in_output(self, output: sp.Symbol) -> sp.Expr | None:
        """Φ' written in Φ's output only (σ' = a(1 − a)), or ``None`` when it needs x too."""
        form = self.printed_derivative.subs(self.function(x), _OUTPUT)
        if form.has(x):
            return None
        return form.subs(_OUTPUT, output)

    def jacobian(self, z: sp.Matrix) -> sp.Matrix:
        """∂Φ(z)/∂z = diag(Φ'(z)), n × n for a column z of n entries."""
        return sp.diag(*[self.derivative_at(entry) for entry in z])


def _derivative(expr: sp.Expr) -> sp.Expr:
    return sp.diff(expr, x).replace(sp.DiracDelta, lambda *args: sp.S.Zero)


def make_activation(name: str, expr: sp.Expr, latex: str,
                    textbook: Callable[[type], sp.Expr] | sp.Expr | None = None,
                    value_range: sp.Interval = sp.Reals, where: str | None = None,
                    family: tuple | None = None) -> Activation:
    """Build an entry: differentiate, find kinks, and check the textbook derivative.

    ``textbook`` is either a function taking the new SymPy function class (so that the form can
    refer to the activation itself) or an expression of x.
    """
    function = type(name, (ActivationFunction,), {"__module__": __name__})
    derivative = _derivative(expr)
    kinks = find_kinks(expr, x)
    printed, check = derivative, Check("sympy_diff")
    if textbook is not None:
        form = textbook(function) if callable(textbook) else textbook
        explicit_form = form.replace(function, lambda arg: expr.subs(x, arg))
        explicit_form = _expand_registered(explicit_form)
        method = decide_equal(explicit_form, derivative, [x], against="sympy_diff")
        if method is None:
            raise BadInput(f"the stated derivative of activation {name!r}, {form}, differs "
                           f"from sympy.diff, which gives {derivative}", where)
        printed, check = form, method
    entry = Activation(name=name, latex=latex, expr=expr, derivative=derivative,
                       printed_derivative=printed, kinks=kinks, value_range=value_range,
                       check=check, function=function, family=family)
    function.entry = entry
    return entry


def _expand_registered(expr: sp.Expr) -> sp.Expr:
    """Replace every registered activation function by its explicit expression."""
    return expr.replace(lambda e: isinstance(e, (ActivationFunction, softmax)),
                        lambda e: e.explicit())


expand_activations = _expand_registered


# --- softmax: the vector-valued activation ------------------------------------------------------

class softmax(sp.Function):  # noqa: N801 - prints as softmax(i, z1, ..., zn)
    """softmax(z)_i as a function of (i, z_1, …, z_n); i is 1-based."""

    def fdiff(self, argindex=1):
        if argindex == 1:
            raise sp.ArgumentIndexError(self, argindex)
        index, *z = self.args
        j = argindex - 1
        s_i, s_j = self, softmax(j, *z)
        return s_i * (sp.KroneckerDelta(index, j) - s_j)

    def explicit(self) -> sp.Expr:
        index, *z = self.args
        return sp.exp(z[int(index) - 1]) / sp.Add(*[sp.exp(t) for t in z])

    def _eval_evalf(self, prec):
        return self.explicit()._eval_evalf(prec)

    def _eval_is_real(self):
        return all(t.is_real for t in self.args[1:]) or None

    def _latex(self, printer, exp=None):
        index, *z = self.args
        body = rf"\operatorname{{softmax}}_{{{index}}}\left({', '.join(map(printer._print, z))}\right)"
        return f"{body}^{{{exp}}}" if exp is not None else body


@dataclass(frozen=True)
class VectorActivation:
    """A vector-valued activation (softmax): the full Jacobian diag(s) − s sᵀ, not a diagonal.

    ``value_range`` is that of each entry; ``min_outputs`` is 2 because over one output softmax
    is the constant 1, whose gradient is zero; it takes no parameter (``family`` is ``None``).
    """

    name: str
    latex: str
    kinks: tuple
    value_range: sp.Interval
    check: Check
    vector_valued = True
    min_outputs = 2
    family = None

    def apply_vector(self, z: sp.Matrix) -> sp.Matrix:
        n = z.rows
        return sp.Matrix([softmax(i, *z) for i in range(1, n + 1)])

    def jacobian(self, z: sp.Matrix) -> sp.Matrix:
        """∂softmax(z)/∂z in numerator layout; entry (i, j) = s_i (δ_ij − s_j)."""
        s = self.apply_vector(z)
        return sp.Matrix(z.rows, z.rows, lambda i, j: sp.diff(s[i], z[j]))

    def jacobian_in_output(self, s: sp.Matrix) -> sp.Matrix:
        """The Jacobian written in the outputs: diag(s) − s sᵀ."""
        return sp.diag(*s) - s * s.T


def _make_softmax() -> VectorActivation:
    # Check the textbook Jacobian diag(s) − s sᵀ against sympy.diff of the explicit formula.
    z = sp.Matrix(sp.symbols("z1:4", real=True))
    explicit = sp.Matrix([sp.exp(t) for t in z]) / sp.Add(*[sp.exp(t) for t in z])
    derived = explicit.jacobian(z)
    textbook = sp.diag(*explicit) - explicit * explicit.T
    if any(sp.simplify(e) != 0 for e in derived - textbook):
        raise AssertionError("softmax Jacobian check failed")
    return VectorActivation(name="softmax", latex=r"\operatorname{softmax}", kinks=(),
                            value_range=sp.Interval.open(0, 1),
                            check=Check("exact", "sympy_diff"))


# --- the registry -----------------------------------------------------------------------------

ACTIVATIONS: Registry = Registry("activation")


def _builtin(name, latex, expr, textbook=None, value_range=sp.Reals):
    entry: list = []

    def factory():
        if not entry:
            entry.append(make_activation(name, expr, latex, textbook, value_range))
        return entry[0]

    ACTIVATIONS.register(name, factory)


_LEAKY: dict = {}


def _leaky_relu(alpha=sp.Rational(1, 100)) -> Activation:
    """leaky_relu(α) = max(αx, x), 0 ≤ α < 1; one entry per α.  Its LaTeX name carries α
    unless α is the default 1/100 (``\\operatorname{lrelu}_{1/10}``), as huber's carries δ, so
    two entries never print alike."""
    alpha = sp.Rational(alpha)
    if not 0 <= alpha < 1:
        raise BadInput(f"leaky_relu needs 0 <= alpha < 1, got {alpha}")
    if alpha not in _LEAKY:
        default = alpha == sp.Rational(1, 100)
        suffix = "" if default else "_" + str(alpha).replace("/", "_")
        latex = r"\operatorname{lrelu}" + ("" if default else f"_{{{alpha}}}")
        step = ACTIVATIONS.get("step").function
        _LEAKY[alpha] = make_activation(
            "leaky_relu" + suffix, sp.Max(alpha * x, x), latex,
            textbook=alpha + (1 - alpha) * step(x),
            value_range=sp.Reals if alpha else sp.Interval(0, sp.oo),
            family=("leaky_relu", str(alpha)))
    return _LEAKY[alpha]


_builtin("identity", r"\operatorname{id}", x, textbook=sp.S.One)
_builtin("sigmoid", r"\sigma", 1 / (1 + sp.exp(-x)), textbook=lambda f: f(x) * (1 - f(x)),
         value_range=sp.Interval.open(0, 1))
_builtin("tanh", r"\tanh", sp.tanh(x), textbook=lambda f: 1 - f(x) ** 2,
         value_range=sp.Interval.open(-1, 1))
_builtin("step", r"\operatorname{step}", sp.Heaviside(x, 1), textbook=sp.S.Zero,
         value_range=sp.Interval(0, 1))
# relu'(0) = 0, PyTorch's convention (torch.relu's gradient at 0): H(x) with H(0) = 0, the mask
# z > 0 of generated code.  Any value in [0, 1] is a subgradient; this one makes gradients agree
# with PyTorch's even at an exact kink.
_builtin("relu", r"\operatorname{relu}", sp.Max(0, x), textbook=sp.Heaviside(x, 0),
         value_range=sp.Interval(0, sp.oo))
ACTIVATIONS.register("leaky_relu", _leaky_relu)
_builtin("softplus", r"\operatorname{softplus}", sp.log(1 + sp.exp(x)),
         textbook=lambda f: ACTIVATIONS.get("sigmoid").function(x),
         value_range=sp.Interval.open(0, sp.oo))
_SOFTMAX = _make_softmax()
ACTIVATIONS.register("softmax", lambda: _SOFTMAX)


def custom(name: str, expr: str | sp.Expr, latex: str | None = None,
           derivative: str | sp.Expr | None = None, where: str | None = None) -> Activation:
    """A user-defined activation from any SymPy expression of x (string or expression).

    ``derivative``, if given, is a textbook form that may use the activation's own name
    (``"swish(x) + sigmoid(x)*(1 - swish(x))"``); it is checked like a built-in's.

    >>> swish = custom("swish", "x / (1 + exp(-x))")
    >>> swish.kinks
    ()
    """
    if not name.isidentifier():
        raise BadInput(f"activation name {name!r} is not an identifier", where)
    functions = _registered_functions()
    expr = _expand_registered(parse_activation(expr, f"activation {name!r}", where))
    textbook = None
    if derivative is not None:
        def textbook(function):
            own = {**functions, name: function}
            if isinstance(derivative, str):
                return parse_user_expression(derivative, {"x": x}, own,
                                             f"derivative of {name!r}", where)
            return sp.sympify(derivative)
    return make_activation(name, expr, latex or rf"\operatorname{{{name}}}", textbook,
                           where=where)


def _registered_functions() -> dict:
    return {n: ACTIVATIONS.get(n).function for n in ACTIVATIONS.names() if n != "softmax"}


def parse_activation(expr: str | sp.Expr, what: str = "activation",
                     where: str | None = None) -> sp.Expr:
    """An expression of :data:`x` from text (``"x**3"``) or SymPy, which may call the built-in
    activations; :class:`BadInput` names ``what`` and ``where`` when it is not one.

    >>> parse_activation("x * sigmoid(x)")
    x*sigmoid(x)
    """
    if isinstance(expr, str):
        return parse_user_expression(expr, {"x": x}, _registered_functions(), what, where)
    expr = sp.sympify(expr)
    stray = expr.free_symbols - {x}
    if stray:
        raise BadInput(f"{what} uses {sorted(map(str, stray))}; it may use only x", where)
    return expr
