r"""Named scalar functions: a SymPy function class that prints as its name and knows its formula.

A :class:`NamedFunction` subclass stands for one scalar function Φ: R → R (σ, tanh, relu, a
user's swish), so that expressions print ``sigmoid(z)`` rather than its expansion and
differentiate through the function's own derivative.  The subclass carries an ``entry``: any
object with

- ``expr`` — Φ(x) as an expression of the real symbol :data:`X` (``Symbol("x", real=True)``,
  equal to every real symbol named x);
- ``latex`` — Φ's LaTeX name (``\sigma``);
- ``derivative_at(arg)`` — Φ'(arg), the form a derivation prints.

The calculus uses these classes without knowing where they come from: its readers are given a
table of them (name → class, :attr:`~derive.calculus.namespace.Namespace.functions`), its
printers write Φ by name in LaTeX and by formula in NumPy, and Φ' is
:func:`~derive.calculus.matrix_nodes.prime_function`.

>>> class cube(NamedFunction):
...     class entry:
...         expr, latex = X**3, r"\operatorname{cube}"
...         derivative_at = staticmethod(lambda arg: 3 * arg**2)
>>> z = sp.Symbol("z", real=True)
>>> sp.diff(cube(z), z), cube(z).explicit(), sp.latex(cube(z))
(3*z**2, z**3, '\\operatorname{cube}\\left(z\\right)')
"""

from __future__ import annotations

import sympy as sp

#: The argument of every named function's ``entry.expr``.
X = sp.Symbol("x", real=True)


class NamedFunction(sp.Function):
    """Base class of the SymPy function made for each named scalar function (one per Φ)."""

    entry: object
    nargs = 1

    def fdiff(self, argindex=1):
        return self.entry.derivative_at(self.args[0])

    def explicit(self) -> sp.Expr:
        return self.entry.expr.subs(X, self.args[0])

    def _eval_evalf(self, prec):
        return self.explicit()._eval_evalf(prec)

    def _eval_is_real(self):
        return self.args[0].is_real

    def _latex(self, printer, exp=None):
        name = self.entry.latex
        if exp is not None:
            name = f"{name}^{{{exp}}}"
        return rf"{name}\left({printer._print(self.args[0])}\right)"


def latex_name(function: type) -> str:
    """The LaTeX name of a :class:`NamedFunction` class (``\\sigma``)."""
    return function.entry.latex


__all__ = ["NamedFunction", "X", "latex_name"]
