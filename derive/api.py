"""The one entry point for backprop derivations: concrete sizes or matrix form (SPEC §5a).

>>> import derive
>>> d = derive.backprop(derive.mlp([2, 3, 1]), form="matrix", batch=True)
>>> d.gradient("W2")
1/N*D2*A1.T
>>> derive.backprop(derive.load_spec({"network": {"sizes": ["n_0", "n_1"], "loss": "mse",
...                                               "activation": "tanh"}})).gradient("b1")
B1
"""

from __future__ import annotations

from .backprop import backprop as derive_concrete
from .errors import BadInput
from .layer_rules import MatrixNetwork, derive_layer_rules

FORMS = ("concrete", "matrix")


def backprop(net, layout: str | None = None, form: str | None = None, batch: bool = False):
    """Derive every gradient of ``net``.

    Parameters
    ----------
    net : Network or MatrixNetwork
        From :func:`derive.mlp`, :func:`derive.matrix_network` or :func:`derive.load_spec`.
    layout : {"numerator", "denominator"}, optional
        Layout of the derivative steps (default: the network's own, from its spec).
    form : {"concrete", "matrix"}, optional
        ``concrete``: every entry an explicit expression (seed 003's recursion at the network's
        sizes, :class:`~derive.backprop.MLPDerivation`); ``matrix``: closed matrix form
        (:class:`~derive.layer_rules.MatrixDerivation`).  Default: concrete for integer sizes
        without ``batch``, else matrix (the only form of symbolic sizes).
    batch : bool
        Matrix form for a batch X (n_0 × N): ∇W = (1/N) Δ Aᵀ, ∇b = (1/N) Δ 1.
    """
    layout = layout or getattr(net, "layout", "numerator")
    if form is not None and form not in FORMS:
        raise BadInput(f"unknown form {form!r}; known: {', '.join(FORMS)}")
    symbolic = isinstance(net, MatrixNetwork)
    if form is None:
        form = "matrix" if symbolic or batch else "concrete"
    if form == "concrete":
        if symbolic:
            raise BadInput("symbolic sizes or depth have only the matrix form (form='matrix')")
        if batch:
            raise BadInput("the concrete form is per sample; use form='matrix' for a batch")
        return derive_concrete(net, layout=layout)
    return derive_layer_rules(net, layout=layout, batch=batch)


__all__ = ["backprop", "FORMS"]
