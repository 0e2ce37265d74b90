r"""NumPy code generation: a self-contained forward/backward module printed from a derivation.

The module is *printed from* the matrix-form batch derivation of the network
(:func:`derive.layer_rules.derive_layer_rules` with ``batch=True``): every line of ``forward``
and ``gradients`` is one definition of that derivation, named after the notation profile
(``a1, z1, delta1`` for cs229; ``alpha1, zeta1, B1`` for ensimag) and commented with the
equation it implements and its number in the derivation.  Nothing is a template with blanks:
another activation, loss, convention or a user-defined function changes the derivation, and so
the code.

Numerical care, each rewrite checked equal to the formula it replaces before it is used:

- activations are module-level functions printed from their registry expression, with
  ``log(1 + e^t)`` written ``np.logaddexp(0, t)`` and ``1/(1 + e^t)`` written
  ``np.exp(-np.logaddexp(0, t))`` (σ, softplus, swish … never overflow);
- Φ' in gradients() is rewritten the same way (:func:`stable_derivative_form`: every power
  ``(1 + e^t)^k`` becomes ``e^(k logaddexp(0, t))`` and the exponentials of a product are
  merged into one, so ``e^t/(1 + e^t)`` is ``np.exp(t - np.logaddexp(0, t))``), checked
  against Φ' evaluated to 30 digits at 24 points before it is used;
- Φ' is written in Φ's output where the checked textbook form allows it (σ' = a(1 − a)), so the
  backward pass reuses the forward values;
- the loss is computed from z^L when the loss of Φ(z) has such a stable form
  (``np.logaddexp`` for bce and logistic with σ, log-sum-exp for softmax with
  cross-entropy); otherwise from a^L as written, and the header says so;
- nothing is clipped.

The module exposes ``PARAM_SHAPES``, ``SIZES``, ``LOSS``, ``TARGETS``, ``DTYPE``,
``init_params``, ``forward``, ``loss``, ``gradients``, ``sgd_step``, ``momentum_step`` and
``adam_step`` (SPEC §6; the optimisers of seed 002).  :func:`generate_numpy` checks it at once
(:mod:`derive.selfcheck`) and records the result in the header.

>>> import derive
>>> module = generate_numpy(derive.mlp([2, 3, 1]), notation="cs229")
>>> "delta1 = " in module.source and module.check.startswith("central differences")
True
"""

from __future__ import annotations

import builtins
import keyword
import re
import shlex
import types
from dataclasses import dataclass

import numpy as np
import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from .activations import ACTIVATIONS, ActivationFunction, expand_activations
from .calculus.matrix_nodes import ActivationPrime, prime_function
from .calculus.matrix_printing import identifier
from .errors import BadInput, CheckFailed
from .layer_rules import MatrixNetwork, N, as_matrix_network, derive_layer_rules
from .losses import LOSSES, y as Y_SYMBOL, yhat as YHAT_SYMBOL
from .notation import PROFILES, get_profile
from .printing.matrix_code import ProgramPrinter, factor, strip_parens
from .printing.text import MatrixTextPrinter
from .selfcheck import RTOL as SELFCHECK_RTOL, directional_check

DTYPES = ("float64", "float32")
#: Stands for the verification result in the header until the check has run.
_PENDING = "<verification pending>"
_T = sp.Symbol("t", real=True)


class LogAddExp0(sp.Function):
    """log(1 + e^t), printed ``np.logaddexp(0, t)``."""

    nargs = 1

    def fdiff(self, argindex=1):
        return 1 / (1 + sp.exp(-self.args[0]))

    def _eval_evalf(self, prec):
        return sp.log(1 + sp.exp(self.args[0]))._eval_evalf(prec)


class LogSoftmax(sp.Function):
    """log softmax(Z) entry by entry (Z a column-batch), printed from the module's helper."""

    nargs = 1


# --- numerically stable forms ------------------------------------------------------------------

def _is_one_plus_exp(arg) -> bool:
    return isinstance(arg, sp.Add) and len(arg.args) == 2 and sp.S.One in arg.args and \
        any(isinstance(t, sp.exp) for t in arg.args)


def _exponent(arg):
    return next(t for t in arg.args if isinstance(t, sp.exp)).args[0]


def _rewrite_exp_logs(expr):
    expr = expr.replace(lambda e: isinstance(e, sp.log) and _is_one_plus_exp(e.args[0]),
                        lambda e: LogAddExp0(_exponent(e.args[0])))
    expr = expr.replace(lambda e: isinstance(e, sp.Pow) and e.exp == -1 and
                        _is_one_plus_exp(e.base),
                        lambda e: sp.exp(-LogAddExp0(_exponent(e.base))))
    return expr.replace(lambda e: isinstance(e, sp.log) and isinstance(e.args[0], sp.exp),
                        lambda e: e.args[0].args[0])


def stable_form(expr):
    """``expr`` with log(1 + e^t) and 1/(1 + e^t) written through log-add-exp, or ``None``
    when a log or a 1/(1 + e^t) would be left behind (then there is no stable form).

    >>> z, y = sp.symbols("z y", real=True)
    >>> sigma = 1 / (1 + sp.exp(-z))
    >>> stable_form(-y * sp.log(sigma) - (1 - y) * sp.log(1 - sigma))
    -y*z + LogAddExp0(z)
    """
    logs_split = expr.replace(lambda e: isinstance(e, sp.log),
                              lambda e: sp.log(sp.factor(sp.together(e.args[0]))))
    for candidate in (expr, sp.expand_log(logs_split, force=True)):
        rewritten = _rewrite_exp_logs(candidate)
        if rewritten.has(sp.log) or rewritten == expr:
            continue
        return sp.expand(rewritten) if rewritten.has(LogAddExp0) else rewritten
    return None


def _equal_numerically(a, b, symbols, rng) -> bool:
    f = sp.lambdify(symbols, [a, b], modules=[{"LogAddExp0": lambda t: np.logaddexp(0, t)},
                                               "numpy"])
    for _ in range(20):
        point = rng.uniform(-4, 4, size=len(symbols))
        left, right = f(*point)
        if not np.isclose(left, right, rtol=1e-12, atol=1e-12):
            return False
    return True


def _merge_exponentials(expr):
    """e^a e^b … → e^(a + b + …) in every product (e^t e^(-logaddexp(0, t)) would be ∞ · 0)."""
    def merge(product):
        exponents = [f.args[0] for f in product.args if isinstance(f, sp.exp)]
        rest = [f for f in product.args if not isinstance(f, sp.exp)]
        return sp.Mul(*rest, sp.exp(sp.Add(*exponents)))

    return expr.replace(lambda e: isinstance(e, sp.Mul) and
                        sum(isinstance(f, sp.exp) for f in e.args) >= 2, merge)


def stable_derivative_form(expr):
    """A derivative ``expr`` with log(1 + e^t) written log-add-exp, every integer power
    (1 + e^t)^k written e^(k logaddexp(0, t)) and the exponentials of each product merged, or
    ``None`` when nothing was rewritten.  Unlike :func:`stable_form`, other logs and
    exponentials may remain (a user's Φ' mixes both kinds).  The result is not expanded
    (``expand`` would split e^(a + b) again).

    >>> z = sp.Symbol("z", real=True)
    >>> stable_derivative_form(sp.exp(z) / (1 + sp.exp(z)))
    exp(z - LogAddExp0(z))
    >>> stable_derivative_form(z * sp.exp(-z) / (1 + sp.exp(-z)) ** 2)
    z*exp(-z - 2*LogAddExp0(-z))
    """
    rewritten = expr.replace(lambda e: isinstance(e, sp.log) and _is_one_plus_exp(e.args[0]),
                             lambda e: LogAddExp0(_exponent(e.args[0])))
    rewritten = rewritten.replace(
        lambda e: isinstance(e, sp.Pow) and e.exp.is_Integer and _is_one_plus_exp(e.base),
        lambda e: sp.exp(e.exp * LogAddExp0(_exponent(e.base))))
    rewritten = _merge_exponentials(rewritten)
    if rewritten == expr or not rewritten.has(LogAddExp0):
        return None
    return rewritten


#: Points where a rewritten Φ' is checked against Φ' (20 drawn in [-4, 4] and these, where
#: the raw formula is still finite but e^t is large or tiny).
_WIDE_POINTS = (-30.0, -10.0, 10.0, 30.0)


def _equal_to_30_digits(stable, reference, var, rng) -> bool:
    """``stable`` in float64 NumPy equals ``reference`` evaluated to 30 digits (rel 1e-10,
    abs 1e-12) at 24 points; activations in either are expanded to their formulas."""
    f = sp.lambdify([var], expand_activations(stable),
                    modules=[{"LogAddExp0": lambda t: np.logaddexp(0, t)}, "numpy"])
    exact = expand_activations(reference)
    for point in [*rng.uniform(-4, 4, size=20), *_WIDE_POINTS]:
        try:
            expected = complex(exact.evalf(30, subs={var: sp.Float(point, 30)}))
        except (TypeError, ValueError):
            return False
        with np.errstate(all="ignore"):
            value = complex(f(np.float64(point)))
        if expected.imag or value.imag or not np.isfinite(expected.real) or \
                not np.isclose(value.real, expected.real, rtol=1e-10, atol=1e-12):
            return False
    return True


def _stable_derivatives(net: MatrixNetwork, helpers: dict) -> dict:
    """Φ' of each elementwise activation printed into gradients() that has a stable form:
    prime function class → formula of ``_T``, checked by :func:`_equal_to_30_digits`.

    Activations with a helper stay calls of it (the helper is stable already); the others
    are expanded to their formulas, as the printer would inline them (softplus' = σ).
    Activations whose Φ' is written in Φ's output (σ' = a(1 − a)) are skipped: their Φ' is
    never printed."""
    rng = np.random.default_rng(0)
    stable = {}
    for activation in net.activations:
        if activation.vector_valued or activation.derivative_in_output(_T) is not None:
            continue
        prime = prime_function(activation.function)
        if prime in stable:
            continue
        formula = activation.derivative_at(_T)
        inline = formula.replace(lambda e: isinstance(e, ActivationFunction) and
                                 type(e) not in helpers, lambda e: e.explicit())
        candidate = stable_derivative_form(inline)
        if candidate is not None and _equal_to_30_digits(candidate, formula, _T, rng):
            stable[prime] = candidate
    return stable


# --- the printer -------------------------------------------------------------------------------

class CodePrinter(ProgramPrinter):
    """Prints derivation expressions with the module's helper functions and names."""

    def __init__(self, helper_names: dict, dims: dict, derivatives: dict | None = None):
        super().__init__(dims, helpers={"softmax": "softmax"})
        self.helper_names = helper_names
        self.derivatives = derivatives or {}        # Φ' class → stable formula of _T

    def _print_ActivationPrime(self, expr):
        # Reached through _print_Function: SymPy's dispatch skips the classes between a
        # Function subclass and Function.
        formula = self.derivatives.get(type(expr))
        if formula is None:
            return super()._print_ActivationPrime(expr)
        return f"({self._print(formula.xreplace({_T: expr.args[0]}))})"

    def _print_Heaviside(self, expr):
        # H(z) with H(0) = 1 (or 0) is exactly the mask z >= 0 (z > 0); np.heaviside is a
        # generic ufunc some 50 times slower on large arrays.
        at_zero = expr.args[1] if len(expr.args) > 1 else sp.S.Half
        if at_zero in (0, 1):
            comparison = ">=" if at_zero == 1 else ">"
            return f"({self._print(expr.args[0])} {comparison} 0).astype(DTYPE)"
        return super()._print_Heaviside(expr)

    def _print_ActivationFunction(self, expr):
        helper = self.helper_names.get(type(expr))
        if helper is None:                      # step inside relu' = step(z): inline
            return factor(self._print(expr.explicit()))
        return f"{helper}({self._print(expr.args[0])})"

    def _print_Function(self, expr):
        if isinstance(expr, ActivationFunction):
            return self._print_ActivationFunction(expr)
        if isinstance(expr, ActivationPrime):
            return self._print_ActivationPrime(expr)
        if isinstance(expr, LogAddExp0):
            return f"np.logaddexp(0, {self._print(expr.args[0])})"
        if isinstance(expr, LogSoftmax):
            return f"log_softmax({self._print(expr.args[0])})"
        return super()._print_Function(expr)

    def _print_ElementwiseApplyFunction(self, expr):
        (var,), body = expr.function.variables, expr.function.expr
        placeholder = sp.Symbol("XARGX")
        text = strip_parens(self._print(body.xreplace({var: placeholder})))
        return text.replace("XARGX", self._wrap(expr.expr))

    def _print_OneMatrix(self, expr):
        return (f"np.ones(({self._dim(expr.shape[0])}, {self._dim(expr.shape[1])}), "
                "dtype=X.dtype)")

    def _print_ZeroMatrix(self, expr):
        # In the module's precision: a float64 zero signal would make float32 gradients float64.
        return (f"np.zeros(({self._dim(expr.shape[0])}, {self._dim(expr.shape[1])}), "
                "dtype=X.dtype)")

    def _print_Augment(self, expr):
        v = self._print(expr.arg)
        return f"np.vstack([np.ones((1, N), dtype=X.dtype), {v}])"


# --- the module --------------------------------------------------------------------------------

@dataclass(frozen=True)
class GeneratedModule:
    """Generated source plus what was checked.

    Attributes
    ----------
    source : str
        The module's Python source (imports numpy only).
    name : str
        Module name (the file stem).
    check : str
        The verification run at generation (also in the module's header).
    test_source : str
        A pytest file that re-runs the check with :func:`verify.check_gradients`.
    """

    source: str
    name: str
    check: str
    test_source: str


@dataclass
class _Plan:
    net: MatrixNetwork
    profile: object
    derivation: object
    numbers: dict        # step lhs (kind, layer, wrt) → equation number
    names: dict          # MatrixSymbol → code name
    renamed: dict        # MatrixSymbol → MatrixSymbol with the code name
    helpers: dict        # activation function class → helper name
    derivatives: dict    # Φ' function class → its stable formula of _T (where there is one)
    printer: CodePrinter


def generate_numpy(net, notation=None, dtype: str = "float64", name: str = "mlp",
                   check: bool = True) -> GeneratedModule:
    """Generate the NumPy forward/backward module of ``net`` (SPEC §6).

    Parameters
    ----------
    net : Network
        Integer sizes (a :class:`~derive.network.Network` from :func:`derive.mlp` or a spec).
    notation : str or Profile, optional
        Names in the code come from this profile (default: the network's).
    dtype : {"float64", "float32"}
        The precision the module computes in.
    name : str
        The module name, used in the header and the test file.
    check : bool
        Run the generated gradients against central differences now (float64).

    Returns
    -------
    GeneratedModule
    """
    if dtype not in DTYPES:
        raise BadInput(f"unknown dtype {dtype!r}; known: {', '.join(DTYPES)}", "--dtype")
    if not name.isidentifier():
        raise BadInput(f"module name {name!r} is not a Python identifier", "-o")
    matrix = as_matrix_network(net)
    if matrix.symbolic_depth or not all(isinstance(n, int) for n in matrix.sizes):
        raise BadInput("code generation needs integer sizes (PARAM_SHAPES are numbers); "
                       f"got {', '.join(map(str, matrix.sizes)) or 'depth ' + str(matrix.depth)}")
    profile = get_profile(notation if notation is not None else matrix.notation)
    d = derive_layer_rules(matrix, layout="denominator", batch=True)
    plan = _plan(matrix, profile, d)
    # Printed once; the header's verification line is filled in after the check.
    template = _module_source(plan, dtype, name, _PENDING)
    verification = "not run"
    if check:
        # The float64 module is the float32 one with DTYPE = np.float64: its gradients are
        # checked against central differences, the float32 gradients against its gradients.
        twin = template if dtype == "float64" else _module_source(plan, "float64", name,
                                                                   _PENDING)
        verification = _check_module(twin, name, matrix,
                                     None if dtype == "float64" else template)
    source = template.replace(_PENDING, verification)
    return GeneratedModule(source=source, name=name, check=verification,
                           test_source=_test_source(name))


def _plan(net: MatrixNetwork, profile, d) -> _Plan:
    numbers = {}
    for number, step in enumerate(d.steps, start=1):
        numbers[(step.lhs.kind, step.lhs.layer, step.lhs.wrt)] = number
    names, taken = {}, set()
    for symbol, (kind, layer) in d.symbols.table.items():
        code = {"X": "X", "Y": "Y"}.get(kind) or identifier(profile.name_in_code(kind, layer))
        while code in taken or code in _RESERVED:
            code += "_"
        taken.add(code)
        names[symbol] = code
    renamed = {s: sp.MatrixSymbol(code, *s.shape) for s, code in names.items()}
    # A helper is module-level: named like a module function, constant, builtin or local
    # variable it would shadow it or be shadowed (``def forward(z)``, ``a1 = a1(z1)``).
    # One helper per activation entry (the same inline expression in every layer is one entry);
    # a parametrised entry is named after its family, leaky_relu, while that name is free.
    helpers, family_names = {}, {}
    for activation in net.activations:
        if activation.vector_valued or activation.function in helpers:
            continue
        family = activation.family[0] if activation.family else None
        helper = identifier(family if family is not None and family not in family_names
                            else activation.name)
        if family is not None:
            family_names[family] = helper
        while helper in taken or helper in _RESERVED:
            helper += "_"
        taken.add(helper)
        helpers[activation.function] = helper
    derivatives = _stable_derivatives(net, helpers)
    printer = CodePrinter(helpers, {N: "N"}, derivatives)
    return _Plan(net, profile, d, numbers, names, renamed, helpers, derivatives, printer)


#: Names the derivation's names and the helpers must avoid: the module's functions and
#: constants, the locals of forward/loss/gradients, and Python's builtins (the loss may call
#: ``abs``).  The optimisers' locals need not be avoided: they use none of these names.
_RESERVED = frozenset({
    "np", "PARAM_SHAPES", "SIZES", "LOSS", "TARGETS", "CONVENTION", "DTYPE", "init_params",
    "forward", "loss", "gradients", "sgd_step", "momentum_step", "adam_step", "softmax",
    "log_softmax", "N", "params", "cache", "X", "Y", "yhat", "entries", "grads", "state",
    "lr", "t", "_"}) | frozenset(dir(builtins)) | frozenset(keyword.kwlist)


# --- pieces of the source ----------------------------------------------------------------------

def _code(plan: _Plan, expr) -> str:
    return plan.printer.doprint(_in_outputs(plan, expr).xreplace(plan.renamed))


def _in_outputs(plan: _Plan, expr):
    """Φ'(z^l) written in a^l where the activation's checked textbook form allows it."""
    sym = plan.derivation.symbols
    replacements = {}
    for layer in range(1, plan.net.depth + 1):
        activation = plan.net.activation(layer)
        if activation.vector_valued:
            continue
        form = activation.derivative_in_output(_T)
        if form is None:
            continue
        prime = prime_function(activation.function)
        var = sp.Dummy("d", real=True)
        node = ElementwiseApplyFunction(sp.Lambda(var, prime(var)), sym.z(layer))
        replacements[node] = (ElementwiseApplyFunction(sp.Lambda(_T, form), sym.a(layer))
                              if form.has(_T) else form)
    if not replacements:
        return expr
    return expr.replace(lambda e: isinstance(e, ElementwiseApplyFunction),
                        lambda e: next((v for k, v in replacements.items()
                                        if k.expr == e.expr and _same_function(k, e)), e))


def _same_function(a, b) -> bool:
    (va,), ba = a.function.variables, a.function.expr
    (vb,), bb = b.function.variables, b.function.expr
    return ba.xreplace({va: _T}) == bb.xreplace({vb: _T})


def _comment(plan: _Plan, lhs_kind: str, layer, rhs, wrt=None, number_kind=None) -> str:
    """``# δ[1] = relu'(z[1]) ⊙ (W[2]ᵀ δ[2])   (eq. 12)`` in the profile's letters."""
    text = _plain(plan, rhs)
    key = (number_kind or lhs_kind, layer, wrt)
    number = plan.numbers.get(key)
    return f"{text}" + (f"   (eq. {number})" if number else "")


def _plain(plan: _Plan, expr) -> str:
    plain = {s: sp.MatrixSymbol(_plain_name(plan.profile, kind, layer), *s.shape)
             for s, (kind, layer) in plan.derivation.symbols.table.items()}
    return MatrixTextPrinter().doprint(expr.xreplace(plain)).replace(" (.) ", " ⊙ ")


_GREEK = {r"\alpha": "α", r"\beta": "β", r"\gamma": "γ", r"\delta": "δ", r"\Delta": "Δ",
          r"\zeta": "ζ", r"\Omega": "Ω", r"\omega": "ω", r"\rho": "ρ", r"\Phi": "Φ",
          r"\sigma": "σ", r"\ell": "ℓ", r"\cdot": "·"}


def _plain_name(profile, kind, layer) -> str:
    """A profile's LaTeX symbol as plain text: ``\\delta^{[1]}`` → ``δ^[1]``,
    ``\\frac{\\partial J}{\\partial s_{2}}`` → ``∂J/∂s_2``."""
    text = profile.symbol(kind, layer)
    for command, letter in _GREEK.items():
        text = text.replace(command, letter)
    text = re.sub(r"\\partial\s*", "∂", text)
    group = r"\{((?:[^{}]|\{[^{}]*\})*)\}"
    text = re.sub(r"\\frac\s*" + group + r"\s*" + group, r"\1/\2", text)
    text = re.sub(r"\\[A-Za-z]+\s*", "", text)       # \mathbf, \tilde, \operatorname, …
    return text.replace("{", "").replace("}", "").replace(" ", "").replace("\\", "")


def _module_source(plan: _Plan, dtype: str, name: str, verification: str) -> str:
    net, d, profile = plan.net, plan.derivation, plan.profile
    sym = d.symbols
    lines: list[str] = []
    add = lines.append
    params = [(pname, symbol) for layer in range(1, net.depth + 1)
              for pname, symbol in sym.params(layer).items()]
    shapes = {pname: tuple(int(n) for n in symbol.shape) for pname, symbol in params}
    acts = [a.name for a in net.activations]
    stable_loss, loss_note = _loss_plan(plan)

    add(f'"""{name}: forward and backward pass of a {"-".join(map(str, net.sizes))} network, '
        "generated by symbackprop.")
    add("")
    # Every loss has a name but an expression given on the command line ("loss").
    loss_label = f"{net.loss.name}: " if net.loss.name != "loss" else ""
    add(f"Network     {', '.join(acts)} activations; loss {loss_label}"
        f"l(yhat, y) = {sp.sstr(net.loss.expr)} per output, {net.reduction} over the batch")
    add(f"Convention  {net.convention} (W as in PARAM_SHAPES); samples are the columns of X "
        f"(n_0 x N)")
    add(f"Notation    {getattr(profile, 'name', profile)}")
    add(f"Layout      {_layout_note(net)}")
    add(f"Precision   {dtype}")
    add(f"Loss        {loss_note}")
    if plan.derivatives:
        primes = ", ".join(dict.fromkeys(f"{plan.helpers[p.base]}'" for p in plan.derivatives))
        add(f"Derivative  {primes} written with np.logaddexp (no overflow), checked against "
            f"the formula to 30 digits at {20 + len(_WIDE_POINTS)} points")
    add(f"Derivation  checked: {d.check}")
    add(f"Verified    {verification}")
    add("")
    add("Each line of forward() and gradients() implements one equation of the derivation,")
    add("cited by its number; the derivation (batch matrix form, denominator layout) prints with")
    add(f"  {_derivation_command(net, profile)}")
    add('"""')
    add("")
    add("import numpy as np")
    add("")
    add(f"PARAM_SHAPES = {{{', '.join(f'{k!r}: {v}' for k, v in shapes.items())}}}")
    add(f"SIZES = {tuple(net.sizes)}")
    add(f"LOSS = {net.loss.name!r}")
    add(f"TARGETS = {net.loss.targets!r}")
    add(f"CONVENTION = {net.convention!r}")
    add(f"DTYPE = np.{dtype}")
    add("")
    _helpers_source(plan, add)
    _init_source(plan, params, add)
    _forward_source(plan, params, add)
    _loss_source(plan, stable_loss, add)
    _gradients_source(plan, params, add)
    _optimiser_source(add)
    return "\n".join(lines).rstrip() + "\n"


def _layout_note(net: MatrixNetwork) -> str:
    """Gradients always come in their parameter's shape (SPEC §3.1); a numerator-layout
    network is said to be so rather than silently ignored."""
    note = "gradients in the shape of their parameter (denominator)"
    if net.layout != "denominator":
        note += (f"; the derivation's {net.layout} layout (--layout) changes its printed "
                 "equations only, not the code")
    return note


def _derivation_command(net: MatrixNetwork, profile) -> str:
    """``python -m derive mlp …`` printing the derivation whose equation numbers the module
    cites: flags when every function is a registry entry or an expression a flag can carry,
    otherwise the spec file (``SPEC.toml``)."""
    texts = [_flag_text(a, ACTIVATIONS, None if a.vector_valued else a.expr)
             for a in net.activations] + [_flag_text(net.loss, LOSSES, net.loss.expr)]
    tail = "--form matrix --batch --layout denominator"
    if None in texts:
        return f"python -m derive mlp SPEC.toml {tail}   (SPEC.toml: this network)"
    flags = (f"--sizes {','.join(map(str, net.sizes))} "
             f"--activations {shlex.quote(','.join(texts[:-1]))} --loss {shlex.quote(texts[-1])} "
             f"--convention {net.convention} --reduction {net.reduction}")
    name = getattr(profile, "name", None)
    if name in PROFILES:
        flags += f" --notation {name}"
    return f"python -m derive mlp {flags} {tail}"


def _flag_text(entry, registry, expr) -> str | None:
    """A registry name that gives ``entry`` back, or its formula without spaces and commas."""
    if entry.name in registry:
        found = registry.get(entry.name)
        if found is entry or getattr(found, "expr", None) == getattr(entry, "expr", None):
            return entry.name
    if expr is None:
        return None
    text = sp.sstr(expr).replace(" ", "")
    return text if "," not in text else None


def _helpers_source(plan: _Plan, add) -> None:
    rng = np.random.default_rng(0)
    emitted = set()
    for function, helper in plan.helpers.items():
        if helper in emitted:
            continue
        emitted.add(helper)
        entry = function.entry
        z = sp.Symbol("z", real=True)
        formula = expand_activations(entry.expr.xreplace({entry.expr.free_symbols.pop(): z})
                                     if entry.expr.free_symbols else entry.expr)
        stable = stable_form(formula)
        note = ""
        if stable is not None and _equal_numerically(stable, formula, [z], rng):
            note = " (written with logaddexp: no overflow)"
            formula = stable
        code = CodePrinter(plan.helpers, {}).doprint(formula)
        if not formula.has(z):
            code = f"np.full_like(z, {code})"
        add(f"def {helper}(z):")
        shown = sp.sstr(entry.expr.xreplace({s: z for s in entry.expr.free_symbols}))
        if entry.family is None:
            add(f'    """{entry.name}(z) = {shown} entrywise{note}."""')
        else:
            family, parameter = entry.family
            add(f'    """{family}({parameter}): {helper}(z) = {shown} entrywise{note}."""')
        add(f"    return {code}")
        add("")
        add("")
    if any(a.vector_valued for a in plan.net.activations):
        add("def softmax(Z):")
        add('    """softmax of each column, shifted by the column maximum (no overflow)."""')
        add("    E = np.exp(Z - np.max(Z, axis=0, keepdims=True))")
        add("    return E / np.sum(E, axis=0, keepdims=True)")
        add("")
        add("")
        add("def log_softmax(Z):")
        add('    """log softmax of each column: Z - logsumexp(Z), computed stably."""')
        add("    shifted = Z - np.max(Z, axis=0, keepdims=True)")
        add("    return shifted - np.log(np.sum(np.exp(shifted), axis=0, keepdims=True))")
        add("")
        add("")


def _init_source(plan: _Plan, params, add) -> None:
    net = plan.net
    add("def init_params(rng=None):")
    add('    """Xavier/Glorot normal weights, std sqrt(2 / (n_l + n_{l-1})) (seed 004); zero '
        'biases."""')
    add("    rng = rng if isinstance(rng, np.random.Generator) else "
        "np.random.default_rng(rng)")
    add("    params = {}")
    for pname, symbol in params:
        shape = tuple(int(n) for n in symbol.shape)
        if pname.startswith("b"):
            add(f"    params[{pname!r}] = np.zeros({shape}, dtype=DTYPE)")
            continue
        layer = int(pname[1:])
        fan = net.sizes[layer] + net.sizes[layer - 1]
        add(f"    params[{pname!r}] = rng.normal(0.0, np.sqrt(2.0 / {fan}), "
            f"size={shape}).astype(DTYPE)")
        if net.convention == "augmented":
            add(f"    params[{pname!r}][:, 0] = 0.0            # column 0 is the bias")
    add("    return params")
    add("")
    add("")


def _unpack(plan: _Plan, params, add) -> None:
    for pname, symbol in params:
        add(f"    {plan.names[symbol]} = np.asarray(params[{pname!r}], dtype=DTYPE)")


def _forward_source(plan: _Plan, params, add) -> None:
    d, sym = plan.derivation, plan.derivation.symbols
    add("def forward(params, X):")
    add('    """Yhat (n_L x N) and the cache of every z and a, for X (n_0 x N)."""')
    add("    X = np.asarray(X, dtype=DTYPE)")
    add("    N = X.shape[1]")
    _unpack(plan, params, add)
    cache = []
    for layer in range(1, plan.net.depth + 1):
        for kind, symbol in (("z", sym.z(layer)), ("a", sym.a(layer))):
            value = d.definitions[symbol]
            add(f"    {plan.names[symbol]} = {_code(plan, value)}"
                f"{_pad(plan, symbol, value)}# {_comment(plan, kind, layer, value)}")
            cache.append(plan.names[symbol])
    add(f"    cache = {{{', '.join(f'{n!r}: {n}' for n in cache)}}}")
    add(f"    return {plan.names[sym.a(plan.net.depth)]}, cache")
    add("")
    add("")


def _pad(plan, symbol, value) -> str:
    width = len(plan.names[symbol]) + 3 + len(_code(plan, value))
    return " " * max(2, 44 - width)


def _loss_plan(plan: _Plan):
    """(stable expression of (z, y) per entry or None, a note for the header)."""
    net = plan.net
    activation = net.activation(net.depth)
    loss = net.loss.expr
    rng = np.random.default_rng(1)
    z = sp.Symbol("z", real=True)
    if activation.vector_valued:
        s = sp.Symbol("s", positive=True)
        entry = loss.xreplace({YHAT_SYMBOL: s})
        candidate = entry.replace(lambda e: isinstance(e, sp.log) and e.args[0] == s,
                                  lambda e: LogSoftmax(z))
        if candidate != entry and not candidate.has(s):
            return candidate, ("computed from z^L with log softmax = z - logsumexp(z) "
                               "(stable)")
        return None, "computed from a^L as written (no clipping)"
    if not loss.has(sp.log):
        return None, "computed from a^L as written"
    entry = expand_activations(loss.xreplace({YHAT_SYMBOL: activation.apply(z)}))
    stable = stable_form(entry)
    if stable is not None and _equal_numerically(stable, entry, [z, Y_SYMBOL], rng):
        shown = CodePrinter(plan.helpers, {}).doprint(stable)
        return stable, f"computed from z^L as {shown} entrywise (stable)"
    return None, "computed from a^L as written (no clipping)"


def _loss_source(plan: _Plan, stable, add) -> None:
    net, sym = plan.net, plan.derivation.symbols
    output = net.depth
    add("def loss(params, X, Y):")
    add(f'    """The batch cost E: the {net.reduction} over samples of the per-sample loss."""')
    add("    Y = np.asarray(Y, dtype=DTYPE)")
    add("    N = Y.shape[1]")
    add("    yhat, cache = forward(params, X)")
    if stable is not None:
        z = sp.Symbol("z", real=True)
        Z = sp.MatrixSymbol(plan.names[sym.z(output)], *sym.z(output).shape)
        per_entry = _entry_code(plan, stable.xreplace({Y_SYMBOL: sp.Symbol("Y")}), z,
                                f"cache[{plan.names[sym.z(output)]!r}]")
        del Z
        add(f"    entries = {per_entry}")
    else:
        a = sp.Symbol("a", real=True)
        per_entry = _entry_code(plan, net.loss.expr.xreplace({YHAT_SYMBOL: a,
                                                              Y_SYMBOL: sp.Symbol("Y")}),
                                a, "yhat")
        add(f"    entries = {per_entry}")
    reduce = "np.sum(entries) / N" if net.reduction == "mean" else "np.sum(entries)"
    add(f"    return float({reduce})")
    add("")
    add("")


def _entry_code(plan: _Plan, expr, variable, code_of_variable: str) -> str:
    printer = CodePrinter(plan.helpers, {})
    placeholder = sp.Symbol("XVARIABLEX")
    text = printer.doprint(expr.xreplace({variable: placeholder}))
    return text.replace("XVARIABLEX", code_of_variable)


def _gradients_source(plan: _Plan, params, add) -> None:
    """The backward pass in the derivation's order: B^L, ∇W^L, ∇b^L, B^{L-1}, …"""
    d, sym, net = plan.derivation, plan.derivation.symbols, plan.net
    body, out = [], []
    signals = {symbol: value for symbol, value in d.definitions.items()
               if sym.table[symbol][0] in ("B", "D")}
    emitted = set()
    for step in d.steps:
        kind, layer = step.lhs.kind, step.lhs.layer
        if kind in ("B", "D"):
            symbol = sym.signal(layer)
            if symbol in emitted or d.definitions.get(symbol) is not step.rhs and \
                    step is not _last_step(d, kind, layer):
                continue
            emitted.add(symbol)
            value = signals[symbol]
            body.append(_line(plan.names[symbol], _code(plan, value),
                              f"{_plain_name(plan.profile, 'D', layer)} = "
                              f"{_comment(plan, kind, layer, value, number_kind='D')}"))
        elif kind == "grad":
            pname = step.lhs.wrt
            value = d.gradients[pname]
            letter = "W" if pname.startswith("W") else "b"
            body.append(_line(f"grad_{pname}", _code(plan, value),
                              f"∇{_plain_name(plan.profile, letter, layer)} = "
                              f"{_comment(plan, 'grad', layer, value, wrt=pname)}"))
            out.append(pname)
    used = " ".join(body)
    add("def gradients(params, X, Y):")
    add('    """Gradient of loss(params, X, Y): a dict with the keys and shapes of params."""')
    add("    X = np.asarray(X, dtype=DTYPE)")
    add("    Y = np.asarray(Y, dtype=DTYPE)")
    add("    N = X.shape[1]")
    for pname, symbol in params:
        if _mentions(used, plan.names[symbol]):
            add(f"    {plan.names[symbol]} = np.asarray(params[{pname!r}], dtype=DTYPE)")
    add("    _, cache = forward(params, X)")
    for layer in range(1, net.depth + 1):
        for kind, symbol in (("z", sym.z(layer)), ("a", sym.a(layer))):
            code = plan.names[symbol]
            if _mentions(used, code):
                number = plan.numbers[(kind, layer, None)]
                add(_line(code, f"cache[{code!r}]",
                          f"{_plain_name(plan.profile, kind.upper(), layer)} from forward()"
                          f"   (eq. {number})"))
    for line in body:
        add(line)
    order = [pname for pname, _ in params]
    add(f"    return {{{', '.join(f'{p!r}: grad_{p}' for p in order if p in out)}}}")
    add("")
    add("")


def _last_step(d, kind, layer):
    return [s for s in d.steps if s.lhs.kind == kind and s.lhs.layer == layer][-1]


def _mentions(code: str, name: str) -> bool:
    import re

    return re.search(rf"(?<![\w.']){re.escape(name)}(?![\w'])", code) is not None


def _line(target: str, code: str, comment: str) -> str:
    statement = f"    {target} = {code}"
    return f"{statement}{' ' * max(2, 48 - len(statement))}# {comment}"


def _optimiser_source(add) -> None:
    add('''def sgd_step(params, X, Y, lr):
    """One step of gradient descent: theta <- theta - lr * grad (seed 002)."""
    grads = gradients(params, X, Y)
    return {k: params[k] - lr * grads[k] for k in params}


def momentum_step(params, X, Y, lr, state=None, beta=0.9):
    """SGD with momentum (seed 002): m <- beta m + (1 - beta) grad; theta <- theta - lr m.

    Returns (new params, state); pass the state back in on the next call.
    """
    grads = gradients(params, X, Y)
    m = state if state is not None else {k: np.zeros_like(v) for k, v in params.items()}
    m = {k: beta * m[k] + (1 - beta) * grads[k] for k in params}
    return {k: params[k] - lr * m[k] for k in params}, m


def adam_step(params, X, Y, lr, state=None, beta1=0.9, beta2=0.999, eps=1e-8):
    """Adam (Kingma and Ba 2014, seed 002), with bias correction 1 - beta^t.

    Returns (new params, state); state holds t and the moment estimates m, v.
    """
    grads = gradients(params, X, Y)
    if state is None:
        state = {"t": 0, "m": {k: np.zeros_like(v) for k, v in params.items()},
                 "v": {k: np.zeros_like(v) for k, v in params.items()}}
    t = state["t"] + 1
    m = {k: beta1 * state["m"][k] + (1 - beta1) * grads[k] for k in params}
    v = {k: beta2 * state["v"][k] + (1 - beta2) * grads[k] ** 2 for k in params}
    new = {}
    for k in params:
        m_hat = m[k] / (1 - beta1 ** t)
        v_hat = v[k] / (1 - beta2 ** t)
        new[k] = params[k] - lr * m_hat / (np.sqrt(v_hat) + eps)
    return new, {"t": t, "m": m, "v": v}''')


# --- checking the generated module ---------------------------------------------------------------

def load_source(source: str, name: str) -> types.ModuleType:
    """The module object of ``source`` (not registered in ``sys.modules``)."""
    module = types.ModuleType(name)
    exec(compile(source, f"<generated {name}>", "exec"), module.__dict__)  # noqa: S102
    return module


def _check_module(source: str, name: str, net: MatrixNetwork,
                  lower_precision: str | None = None) -> str:
    """Central differences of the float64 module ``source`` along random directions; with
    ``lower_precision`` (the float32 module's source) also its gradients against the float64
    ones, relative error ‖g₃₂ − g₆₄‖ / ‖g₆₄‖ per tensor."""
    from .layer_rules import _draw_targets

    module = load_source(source, name)
    low = load_source(lower_precision, name) if lower_precision is not None else None
    rng = np.random.default_rng(0)
    batch = 4

    def draw():
        params = {k: np.asarray(v, dtype=np.float64) for k, v in module.init_params(rng).items()}
        for k, v in params.items():          # nonzero biases: every path of the gradient counts
            params[k] = v + 0.3 * rng.normal(size=v.shape)
        return params

    X = rng.normal(size=(net.sizes[0], batch))
    Y = _draw_targets(net.loss.targets, net.sizes[-1], batch, rng)
    params = draw()

    def cost(values):
        return module.loss(values, X, Y)

    def redraw():
        fresh = draw()
        return fresh, module.gradients(fresh, X, Y)

    try:
        worst = directional_check(cost, module.gradients(params, X, Y), params, rng,
                                  directions=2, per_tensor=True, redraw=redraw)
        agreement = _precision_agreement(module, low, params, X, Y, draw) if low else None
    except CheckFailed as exc:
        raise CheckFailed(f"generated module {name}: {exc}") from None
    text = (f"central differences in float64 along 2 random directions per tensor at a "
            f"Xavier point, N = {batch}: max rel err {worst:.1e} (threshold "
            f"{SELFCHECK_RTOL:g})")
    if agreement is not None:
        text = (f"{text}, of this code with DTYPE = np.float64; its float32 gradients agree "
                f"with the float64 ones to rel err {agreement:.1e} (threshold "
                f"{FLOAT32_RTOL:g})")
    return text


#: Agreement of float32 gradients with the float64 ones (norm-wise, per tensor).
FLOAT32_RTOL = 1e-3


def _precision_agreement(module, low, params, X, Y, draw, redraws: int = 3) -> float:
    """max over tensors of ‖g₃₂ − g₆₄‖ / ‖g₆₄‖ (re-drawn where a relu-like kink flips between
    the precisions, up to ``redraws`` times)."""
    for attempt in range(redraws + 1):
        exact, rounded = module.gradients(params, X, Y), low.gradients(params, X, Y)
        worst = 0.0
        for k, g in exact.items():
            difference = float(np.linalg.norm(np.asarray(rounded[k], dtype=np.float64) - g))
            scale = max(float(np.linalg.norm(g)), 1e-8)
            worst = max(worst, difference / scale)
        if worst <= FLOAT32_RTOL:
            return worst
        params = draw()
    raise CheckFailed(f"float32 gradients differ from the float64 ones by rel err {worst:.1e} "
                      f"(threshold {FLOAT32_RTOL:g})")


def _test_source(name: str) -> str:
    return f'''"""Re-runs the finite-difference check of {name}.py (generated by symbackprop)."""

from pathlib import Path

import verify

MODULE = Path(__file__).with_name("{name}.py")


def test_{name}_gradients_match_finite_differences():
    report = verify.check_gradients(MODULE, seed=0)
    assert report.status == "verified", report.to_text()


def test_{name}_directional_mode_agrees():
    report = verify.check_gradients(MODULE, seed=1, mode="directional")
    assert report.status == "verified", report.to_text()
'''


__all__ = ["generate_numpy", "GeneratedModule", "stable_form", "stable_derivative_form",
           "load_source", "DTYPES"]
