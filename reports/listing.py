"""The code section of a report: the generated NumPy module of the network, as text.

The module is :func:`derive.api.generate_numpy`'s, printed from the derivation's batch form in
the report's notation (its identifiers follow the profile: ``delta2`` in CS229's, ``B2`` in
Ensimag's) and checked against central differences when it is generated; the report shows it
as it would be written to a file.

>>> import derive
>>> source = code_listing(derive.backprop(derive.mlp([2, 3, 1])), "cs229")
>>> "def gradients(params, X, Y):" in source and "delta2" in source
True
"""

from __future__ import annotations

from derive.api import generate_numpy
from derive.errors import BadInput

__all__ = ["code_listing"]


def code_listing(derivation, notation=None, dtype: str = "float64", name: str = "mlp") -> str:
    """The generated NumPy module of ``derivation``'s network.

    Parameters
    ----------
    derivation : MatrixDerivation or PerNeuronDerivation
        A network's derivation at integer sizes.
    notation : str or Profile, optional
        Names in the code (default: the network's own profile).
    dtype : {"float64", "float32"}
    name : str
        The module name written in its header.

    Returns
    -------
    str
        The module's source, byte-identical for the same input.

    Raises
    ------
    BadInput
        Not a network's derivation (a computation graph), or symbolic sizes (the module needs
        integer shapes).
    """
    net = getattr(derivation, "network", None)
    if net is None:
        raise BadInput(f"a {type(derivation).__name__} has no network: the code listing is the "
                       "generated module of a network")
    if net.symbolic:
        raise BadInput("the generated module needs integer sizes; this network's sizes or "
                       "depth are symbols")
    return generate_numpy(derivation.batch_form(), notation=notation, dtype=dtype,
                          name=name).source
