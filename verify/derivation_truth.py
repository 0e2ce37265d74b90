r"""The true value of every derivative a hand derivation names, for one network.

A derivation written by hand names derivatives of the network's own quantities:
``\frac{\partial \mathcal{L}}{\partial a^{[2]}}``, ``\frac{\partial a^{[2]}}{\partial z^{[2]}}``
(a diagonal Jacobian), ``\frac{\partial z^{[2]}}{\partial a^{[1]}}`` (= W^{[2]}),
``\frac{\partial}{\partial z^{[3]}} [-y \log \hat{y} - (1-y) \log(1-\hat{y})]``.  The reader
leaves them as :class:`~derive.calculus.claim_nodes.Partial` and
:class:`~derive.calculus.claim_nodes.Gradient` nodes over the network's symbols;
:class:`NetworkCalculus` gives each its value, from the engine and nothing else:

- ∂L/∂(z^{[l]} or a parameter) — the derivation's own signal δ^{[l]} or the parameter's
  gradient (1/N Δ^{[l]} in a batch);
- ∂L/∂(any other forward quantity q: a^{[l]}, x) — the chain rule over the quantities that
  use q (their definitions' Jacobians by q, computed by :func:`derive.jacobian`, times the loss
  derivative by each), and at the output, the derivative of the per-sample loss entry by entry;
- ∂(expression)/∂q — the expression with every quantity that depends on q replaced by its
  definition (down to q), differentiated by :func:`derive.jacobian` in the node's layout:
  ∂a^{[l]}/∂z^{[l]} = diag(g'(z^{[l]})), ∂z^{[l]}/∂a^{[l-1]} = W^{[l]} (numerator layout),
  0 when the expression does not depend on q.

A scalar name differentiated that is not a quantity of the network (the L, J, C of ∂L/∂W) is
the loss.  The Jacobian of a vector by a matrix (∂z/∂W) is a 3-tensor: it has no value here
(the reader refuses it; write the chain's product ∂L/∂z^{[l]} ∂z^{[l]}/∂W^{[l]} as the
derivative of the loss, ∂L/∂W^{[l]}).

>>> import derive
>>> d = derive.backprop(derive.mlp([2, 3, 1]), form="matrix")
>>> z1, a1 = (next(s for s in d.symbols.table if s.name == n) for n in ("z1", "a1"))
>>> NetworkCalculus(d).jacobian(a1, z1, "numerator")
DiagMatrix(Lambda(_d, sigmoid_prime(_d)).(z1))
"""

from __future__ import annotations

import sympy as sp

from derive.calculus.claim_nodes import Gradient, Partial, partial_shape
from derive.calculus.matrix_nodes import is_matrix
from derive.errors import BadInput
from derive.fusion import loss_gradient
from derive.jacobians import jacobian
from derive.layers.dense import DropBias

#: Kinds of the derivation's symbols that are forward quantities (defined from the inputs).
FORWARD = ("z", "a", "Z", "A")


def _shape(expr) -> tuple:
    return tuple(expr.shape) if is_matrix(expr) else (1, 1)


class NetworkCalculus:
    """The derivatives of one derivation's quantities (see the module docstring).

    Parameters
    ----------
    d : derive.derivation.MatrixDerivation
        From :func:`derive.backprop` with ``form="matrix"``.
    """

    def __init__(self, d):
        self.d = d
        self.table = d.symbols.table
        self.definitions = dict(d.definitions)
        self.parameters = {symbol: name for symbol in self.table for name in d.gradients
                           if symbol.name == name}
        self._gradients = {}

    # --- what a symbol is -------------------------------------------------------------------

    def is_loss(self, expr) -> bool:
        """A lone scalar name that is no quantity of the network: the loss (L, J, C, E)."""
        return isinstance(expr, sp.Symbol) and expr not in self.table

    def _dependents(self, by) -> set:
        """The symbols whose definitions depend on ``by``, directly or not (``by`` too)."""
        found = {by}
        for symbol, value in self.definitions.items():
            if value.atoms(sp.MatrixSymbol) & found:
                found.add(symbol)
        return found

    def written_by(self, expr, by):
        """``expr`` with every quantity that depends on ``by`` replaced by its definition,
        until only ``by`` and quantities independent of it remain."""
        dependents = self._dependents(by) - {by}
        for _ in range(len(self.definitions) + 1):
            inside = expr.atoms(sp.MatrixSymbol) & dependents
            if not inside:
                return expr
            expr = expr.xreplace({symbol: self.definitions[symbol] for symbol in inside})
        return expr

    # --- the derivatives --------------------------------------------------------------------

    def loss_gradient(self, by):
        """∂L/∂``by`` in the shape of ``by`` (the gradient, denominator layout)."""
        if isinstance(by, DropBias):                  # Mines' W^{(l)}: W̃ without its bias
            return DropBias(self.loss_gradient(by.args[0]))
        if by in self._gradients:
            return self._gradients[by]
        kind, layer = self.table.get(by, (None, None))
        if by in self.parameters:
            value = self.d.gradients[self.parameters[by]]
        elif kind in ("z", "Z"):
            value = self.d.symbols.signal(layer)
            value = self.d.scale() * value if self.d.batch else value
        elif kind in ("a", "A", "x", "X"):
            value = self._through_users(by)
        else:
            raise BadInput(f"the derivative of the loss by {by} is not a quantity the network "
                           "computes (differentiate by z, a, x or a parameter)", "derivation")
        self._gradients[by] = value
        return value

    def _through_users(self, by):
        """∂L/∂by by the chain rule over the forward quantities that use ``by``."""
        users = [symbol for symbol, value in self.definitions.items()
                 if self.table[symbol][0] in FORWARD and by in value.atoms(sp.MatrixSymbol)]
        if not users:
            return self._output_gradient(by)
        total = None
        for user in users:
            step = jacobian(self.definitions[user], by, layout="denominator").expr
            term = step * self.loss_gradient(user)
            total = term if total is None else total + term
        return total

    def _output_gradient(self, output):
        """∂L/∂ŷ of the per-sample loss, entry by entry (an explicit column)."""
        kind, layer = self.table[output]
        if kind != "a" or layer != self.d.network.depth:
            raise BadInput(f"the loss does not depend on {output}", "derivation")
        if self.d.batch:
            raise BadInput("the derivative of the batch cost by the output is not checked; "
                           "write it by the signal Δ", "derivation")
        target = self.d.symbols.y()
        if not sp.sympify(output.shape[0]).is_Integer:
            # symbolic sizes: the loss's derivative entry by entry, in matrix form
            return loss_gradient(self.d.network.loss, output, target)
        rows = int(output.shape[0])
        entries = [output[k, 0] for k in range(rows)]
        loss = self.d.network.loss.per_sample(sp.Matrix(entries),
                                             sp.Matrix([target[k, 0] for k in range(rows)]))
        loss = loss.replace(sp.DiracDelta, lambda *a: sp.S.Zero)
        return sp.ImmutableMatrix([sp.diff(loss, entry) for entry in entries])

    def jacobian(self, of, by, layout: str):
        """∂``of``/∂``by`` in ``layout`` (``of`` the loss, a quantity or an expression of
        them; ``by`` a quantity of the network)."""
        if self.is_loss(of):
            gradient = self.loss_gradient(by)
            return gradient.T if layout == "numerator" else gradient
        if of.free_symbols & {s for s in of.free_symbols if self.is_loss(s)} and \
                not isinstance(of, sp.MatrixSymbol):
            raise BadInput(f"∂({of})/∂({by}): an expression of the loss is not differentiated; "
                           "differentiate the loss itself", "derivation")
        if not isinstance(by, sp.MatrixSymbol) or by not in self.table:
            raise BadInput(f"∂({of})/∂({by}): {by} is not a quantity of the network",
                           "derivation")
        shape = partial_shape(_shape(of), _shape(by), layout)
        written = self.written_by(of, by)
        if not written.has(by):
            return sp.ZeroMatrix(*shape)
        try:
            return jacobian(written, by, layout=layout).expr
        except (BadInput, TypeError, ValueError, NotImplementedError, AttributeError) as exc:
            raise BadInput(f"cannot differentiate {of} by {by}: {exc}", "derivation") from None

    def resolve(self, expr):
        """``expr`` with every Partial and Gradient node replaced by its value."""
        def value(node):
            if isinstance(node, Gradient):
                if not self.is_loss(node.of):
                    raise BadInput(f"∇ of {node.of}, which is not the loss", "derivation")
                return self.loss_gradient(node.by)
            return self.jacobian(node.of, node.by, node.layout)

        return expr.replace(lambda e: isinstance(e, (Partial, Gradient)), value)


__all__ = ["FORWARD", "NetworkCalculus"]
