"""What the code generator prints from: a network's batch matrix derivation, and what it reads of
the derivation's network.

The generator is a printer (``Derivation -> NumPy module``): it imports no engine.  It is given
a derivation — ``derive.backprop(net, form="matrix", batch=True)``, or any derivation of a
network that has a ``batch_form()`` — and reads its ``network``, ``symbols``,
``definitions``, ``gradients``, ``steps`` and ``check``.  The few places where the network's
own interface is read (its layers' activations, its sizes) are here, so that a change of that
interface is one edit here.
"""

from __future__ import annotations

from ..errors import BadInput

#: What a derivation has that a network has not.
DERIVATION_ATTRIBUTES = ("definitions", "gradients", "symbols", "steps")


def is_derivation(obj) -> bool:
    """Whether ``obj`` is a derivation (definitions, gradients, symbols, steps)."""
    return all(hasattr(obj, name) for name in DERIVATION_ATTRIBUTES)


def batch_derivation(derivation):
    """The batch matrix-form derivation to print: ``derivation`` itself, or its
    ``batch_form()`` (a per-sample or per-neuron derivation of the same network).

    Raises
    ------
    BadInput
        For a network (derive it first), a derivation with no batch form (a computation
        graph), symbolic sizes or depth.
    """
    d = derivation
    if not (is_derivation(d) and getattr(d, "batch", False)):
        if hasattr(d, "batch_form"):
            d = d.batch_form()
        elif hasattr(d, "steps"):
            raise BadInput(f"a {type(d).__name__} has no batch matrix form to generate NumPy "
                           "code from (a network's derivation has)")
        else:
            raise BadInput("generate_numpy prints a derivation: derive the network first, "
                           "e.g. generate_numpy(derive.backprop(net, form='matrix', "
                           "batch=True))")
    net = d.network
    if net.symbolic_depth or not all(isinstance(n, int) for n in net.sizes):
        shown = ", ".join(map(str, net.sizes)) or "depth " + str(net.depth)
        raise BadInput("code generation needs integer sizes (PARAM_SHAPES are numbers); "
                       f"got {shown}")
    return d


def derivation_check(given, printed):
    """How the derivation was checked: the printed one's check, or the given one's when its
    batch form was made unchecked."""
    check = getattr(printed, "check", None)
    return check if check is not None else getattr(given, "check", None)


def layer_activations(net) -> list:
    """Φ of layers 1 … L of the derivation's network."""
    return [net.activation(layer) for layer in range(1, net.depth + 1)]


def batch_size(d):
    """The batch-size symbol N of a batch derivation: the column count of X."""
    return d.symbols.a(0).shape[1]


__all__ = ["batch_derivation", "derivation_check", "is_derivation", "layer_activations",
           "batch_size"]
