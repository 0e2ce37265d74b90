r"""A claim's value over a network's own symbols: the derivatives it names made their true
values, the profile's unnamed activation (g, Φ, h_{(l)}) made each layer's.

Used by :func:`verify.claims.bind_network` (for :func:`verify.check_claim`) and through it by
:func:`verify.check_derivation`.
"""

from __future__ import annotations

import re

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from derive.calculus.claim_nodes import Gradient, Partial
from derive.errors import BadInput

from .derivation_truth import NetworkCalculus


def bind_functions(expr, d, phi_names: set):
    """The profile's unnamed activation (g, Φ, or h_{(l)} with a layer index as the Mines
    notes write it) applied to z^{[l]} made layer l's activation."""
    net, table = d.network, d.symbols.table
    phi_names = set(phi_names) | {f.func.__name__ for f in expr.atoms(AppliedUndef)
                                  if re.split(r"[_^]", f.func.__name__)[0] in phi_names}
    activations = {position: net.activation(position) for position in range(1, net.depth + 1)}

    def named_layer(name: str):
        """The layer a function's name carries (g^{[2]}, h_{(2)}, \\Phi^{2}), or None."""
        found = re.search(r"[_^]\{?[\[(]?\s*(\d+)\s*[\])]?\}?$", name)
        return int(found.group(1)) if found else None

    def activation_for(argument, name: str = ""):
        layer = named_layer(name)
        if layer is not None:
            if layer not in activations:
                raise BadInput(f"{name} names layer {layer}, which this network has not "
                               f"(layers 1 to {net.depth})", "claim")
            return activations[layer]
        layers = {table[s][1] for s in argument.atoms(sp.MatrixSymbol)
                  if table.get(s, (None,))[0] == "z"}
        if len(layers) == 1 and next(iter(layers)) in activations:
            return activations[layers.pop()]
        distinct = {a.name for a in activations.values()}
        if len(distinct) == 1:
            return next(iter(activations.values()))
        raise BadInput(f"which layer's activation is applied to {argument} is ambiguous; "
                       "apply it to z of a layer", "claim")

    def bind(node):
        function = node.function
        unnamed = [f for f in function.atoms(AppliedUndef) if f.func.__name__ in phi_names]
        if not unnamed:
            return node
        activation = activation_for(node.expr, unnamed[0].func.__name__)
        if getattr(activation, "vector_valued", False):
            raise BadInput(f"{activation.name} is not elementwise: write its Jacobian", "claim")
        bound = function.replace(
            lambda e: isinstance(e, AppliedUndef) and e.func.__name__ in phi_names,
            lambda e: activation.function(*e.args))
        return ElementwiseApplyFunction(bound, node.expr)

    def bind_scalar(node):
        activation = activation_for(node, node.func.__name__)
        return activation.function(*node.args)

    def bind_subs(node):
        """g'(z) of a 1×1 z: the derivative at the point, bound by the point's layer."""
        unnamed = [f for f in node.expr.atoms(AppliedUndef) if f.func.__name__ in phi_names]
        if not unnamed:
            return node
        activation = activation_for(sp.Tuple(*node.point), unnamed[0].func.__name__)
        bound = node.expr.replace(
            lambda e: isinstance(e, AppliedUndef) and e.func.__name__ in phi_names,
            lambda e: activation.function(*e.args))
        return sp.Subs(bound, node.variables, node.point)

    expr = expr.replace(lambda e: isinstance(e, ElementwiseApplyFunction), bind)
    expr = expr.replace(lambda e: isinstance(e, sp.Subs), bind_subs)     # outside Φ'(Z)
    return expr.replace(lambda e: isinstance(e, AppliedUndef) and e.func.__name__ in phi_names,
                        bind_scalar)


def resolve_derivatives(expr, d):
    """``expr`` with each derivative of the loss it names (∂L/∂z^{[l]}, ∇_{W} L, ∂L/∂W) made
    the derivation's value: the signal δ^{[l]} (1/N Δ^{[l]} in a batch), a parameter's
    gradient, ∂L/∂a^{[l]} by the chain rule; each Jacobian of the network's quantities
    (∂a^{[l]}/∂z^{[l]} = diag(g'(z^{[l]}))) by :class:`verify.derivation_truth.NetworkCalculus`;
    in the layout the node states."""
    table = d.symbols.table
    parameters = {symbol: name for symbol in table for name in d.gradients
                  if symbol.name == name}

    calculus = NetworkCalculus(d)

    def value(node):
        kind, layer = table.get(node.by, (None, None))
        if not calculus.is_loss(node.of):
            # a Jacobian of the network's quantities (∂a^{[l]}/∂z^{[l]}, ∂z/∂a), or of an
            # expression of them
            return calculus.resolve(node)
        if kind in ("z", "Z"):
            gradient = d.symbols.signal(layer)
            gradient = d.scale() * gradient if d.batch else gradient
        elif node.by in parameters:
            gradient = d.gradients[parameters[node.by]]
        else:                           # by an activation a^{[l]} or x: the chain rule
            gradient = calculus.loss_gradient(node.by)
        if isinstance(node, Partial) and node.layout == "numerator":
            return gradient.T
        return gradient

    return expr.replace(lambda e: isinstance(e, (Partial, Gradient)), value)


__all__ = ["bind_functions", "resolve_derivatives"]
