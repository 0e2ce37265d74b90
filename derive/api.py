"""The one entry point for backprop derivations (SPEC §5a).

``derive.backprop`` runs the engine (:func:`derive.engine.derive_matrix`) on any network; at
integer sizes, one sample, and no form asked for, it presents the result in the Ensimag
per-neuron form (:func:`derive.presentations.per_neuron.derive_per_neuron`), checked entry by
entry against the engine.

>>> import derive
>>> d = derive.backprop(derive.mlp([2, 3, 1]), form="matrix", batch=True)
>>> d.gradient("W2")
1/N*D2*A1.T
>>> derive.backprop(derive.load_spec({"network": {"sizes": ["n_0", "n_1"], "loss": "mse",
...                                               "activation": "tanh"}})).gradient("b1")
B1
"""

from __future__ import annotations

from . import codegen
from .derivation import Derivation
from .engine import derive_matrix
from .errors import BadInput
from .presentations.per_neuron import derive_per_neuron

#: The forms of a derivation: ``concrete`` (the per-neuron form at integer sizes) or
#: ``matrix`` (closed matrix form, any sizes).
FORMS = ("concrete", "matrix")


def backprop(net, layout: str | None = None, form: str | None = None, batch: bool = False):
    """Derive every gradient of ``net``.

    Parameters
    ----------
    net : Network
        From :func:`derive.mlp` or :func:`derive.load_spec`.
    layout : {"numerator", "denominator"}, optional
        Layout of the derivative steps (default: the network's own, from its spec).
    form : {"concrete", "matrix"}, optional
        ``concrete``: every entry an explicit expression, the Ensimag per-neuron form at the
        network's sizes (:class:`~derive.presentations.per_neuron.PerNeuronDerivation`);
        ``matrix``: closed matrix form (:class:`~derive.engine.MatrixDerivation`).  Default:
        concrete for integer sizes without ``batch``, else matrix (the only form of symbolic
        sizes).
    batch : bool
        Matrix form for a batch X (n_0 × N): ∇W = (1/N) Δ Aᵀ, ∇b = (1/N) Δ 1.
    """
    layout = layout or getattr(net, "layout", "numerator")
    if form is not None and form not in FORMS:
        raise BadInput(f"unknown form {form!r}; known: {', '.join(FORMS)}")
    if form is None:
        form = "matrix" if net.symbolic or batch else "concrete"
    if form == "concrete":
        if net.symbolic:
            raise BadInput("symbolic sizes or depth have only the matrix form (form='matrix')")
        if batch:
            raise BadInput("the concrete form is per sample; use form='matrix' for a batch")
        return derive_per_neuron(net, layout=layout)
    return derive_matrix(net, layout=layout, batch=batch)


def generate_numpy(net_or_derivation, notation=None, dtype: str = "float64",
                   name: str = "mlp", check: bool = True) -> codegen.GeneratedModule:
    """The generated NumPy module (SPEC §6) of a network, or of a derivation of one.

    A network is derived in batch form first (:func:`backprop` with ``form="matrix"``,
    ``batch=True``); a derivation is printed by :func:`derive.codegen.generate_numpy` as it is.

    >>> import derive
    >>> module = derive.generate_numpy(derive.mlp([2, 3, 1]), check=False)
    >>> module.name, "def gradients(params, X, Y):" in module.source
    ('mlp', True)
    """
    d = net_or_derivation
    if not isinstance(d, Derivation):
        d = backprop(d, layout="denominator", form="matrix", batch=True)
    return codegen.generate_numpy(d, notation=notation, dtype=dtype, name=name, check=check)


__all__ = ["FORMS", "backprop", "generate_numpy"]
