"""Which scalar function a name calls: the namespace's named functions, then SymPy's.

Both readers look a called name up here.  In order: a named function of the namespace's table
(:attr:`~derive.calculus.namespace.Namespace.functions`; ``derive.jacobian`` passes the
activations), its derivative ``NAME_prime``, then a SymPy function of one variable among the
names of ``from sympy import *`` that EXPR may call (:func:`sympy_names`: without the functions
that print, plot, open sessions or evaluate text).
"""

from __future__ import annotations

import functools
import types

import sympy as sp

from .matrix_nodes import prime_function

# Names of ``from sympy import *`` that EXPR may not call: they print, plot, open viewers or
# sessions, run tests, read input, change global settings, evaluate text as code or wrap Python
# callables.  Everything else there builds or transforms expressions from its arguments.
_REFUSED = frozenset({
    "sympify", "parse_expr", "lambdify", "var", "preview", "init_printing", "init_session",
    "interactive_traversal", "pprint", "pprint_use_unicode", "pprint_try_use_unicode",
    "pretty_print", "pager_print", "textplot", "test", "doctest", "cacheit", "memoize_property",
    "threaded", "xthreaded", "timed", "vectorize", "public", "capture", "seterr",
    "register_handler", "remove_handler", "evaluate", "assuming", "symarray", "numbered_symbols",
})
_REFUSED_PREFIXES = ("print_", "plot", "_")


@functools.lru_cache(maxsize=None)
def _sympy_namespace() -> types.MappingProxyType:
    names = {}
    for name in sp.__all__:
        value = getattr(sp, name, None)
        if value is None or isinstance(value, types.ModuleType) or name in _REFUSED \
                or name.startswith(_REFUSED_PREFIXES):
            continue
        names[name] = value
    return types.MappingProxyType(names)


def sympy_names():
    """The names SymPy syntax may call: what ``from sympy import *`` gives, less modules and
    the functions with side effects or that evaluate text (``sympify``, ``lambdify``,
    ``preview``, ``plot``, ``init_session``, ``print_*``, ...).

    >>> "Identity" in sympy_names() and "sympify" not in sympy_names()
    True
    """
    return _sympy_namespace()


def is_refused(name: str) -> bool:
    """A name of SymPy's that EXPR may not call (it has side effects or evaluates text)."""
    return name in _REFUSED or (name.startswith(_REFUSED_PREFIXES) and hasattr(sp, name))


@functools.lru_cache(maxsize=None)
def _of_one_variable(function) -> bool:
    """A SymPy function class that is a differentiable-looking function of one number.

    Not ``Function`` itself (``Function(x)`` is a class), not logic (``And``), nor a function of
    several arguments that SymPy lets be made with one (``lerchphi(t)``, ``LaplaceTransform(t)``
    fail as soon as they are used), nor one whose derivative SymPy does not know (``floor``).
    """
    if function is sp.Function or not issubclass(function, sp.Expr) or 1 not in function.nargs:
        return False
    probe = sp.Symbol("t", real=True)
    try:
        value = function(probe)
        value.free_symbols
        derivative = sp.diff(value, probe)
    except Exception:   # SymPy raises many kinds
        return False
    return isinstance(value, sp.Expr) and not derivative.has(sp.Derivative)


def scalar_function(name: str, functions=None):
    """The SymPy function class for ``name``: a named function of ``functions`` (name → class;
    or its derivative ``sigmoid_prime``), else a SymPy function of one variable, else ``None``.

    >>> scalar_function("tanh"), scalar_function("foo")
    (tanh, None)
    """
    functions = functions or {}
    if name in functions:
        return functions[name]
    base, _, tail = name.rpartition("_")
    if tail == "prime" and base in functions:
        return prime_function(functions[base])
    value = sympy_names().get(name)
    if isinstance(value, sp.FunctionClass) and _of_one_variable(value):
        return value
    if name == "sqrt":
        return sp.sqrt
    return None


_NAMED_FUNCTIONS = ("tr", "trace", "det", "logdet", "log", "ln", "exp", "sqrt", "diag",
                    "softmax", "logsumexp", "norm")


def known_functions(functions=None) -> str:
    """The function names EXPR may use, for error messages (``functions`` as for
    :func:`scalar_function`)."""
    return (", ".join(_NAMED_FUNCTIONS + tuple(functions or ()))
            + ", and any SymPy function of one variable (sin, cosh, erf, ...)")


__all__ = ["scalar_function", "known_functions", "sympy_names", "is_refused"]
