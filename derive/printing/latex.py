r"""LaTeX of a derivation in a course's notation (SPEC §3.4, §5a ``d.to_latex``, §8).

:func:`render_latex` turns a derivation into a LaTeX fragment (no preamble) for a document that
loads amsmath and amssymb, choosing its document by the derivation's class name
(:data:`DOCUMENTS`), as SymPy's printers dispatch ``_print_<Class>``:

- a matrix-form derivation (symbolic or integer sizes, one sample or a batch):
  :mod:`~derive.printing.latex_matrix`;
- the Ensimag per-neuron derivation at concrete sizes (explicit matrices over entry symbols,
  printed as ``bmatrix``): :mod:`~derive.printing.latex_mlp`;
- a computation graph (CMU 10-315): :mod:`~derive.printing.latex_graph`.

What they share — rule titles, notes, blocks — is :mod:`~derive.printing.latex_doc`; matrix
expressions are printed by :mod:`~derive.printing.latex_expr`, names escaped by
:mod:`~derive.printing.latex_escape`.
"""

from __future__ import annotations

from ..errors import BadInput
from ..notation import Profile, get_profile
from . import printer_for
from .latex_graph import GraphRenderer
from .latex_matrix import MatrixRenderer
from .latex_mlp import NeuronRenderer

__all__ = ["DOCUMENTS", "GRAPH_PROFILE", "render_latex"]

#: Derivation class name → its document renderer.
DOCUMENTS = {"MatrixDerivation": MatrixRenderer, "PerNeuronDerivation": NeuronRenderer,
             "GraphDerivation": GraphRenderer}
#: Profile of a derivation that has no network to carry one (a computation graph, CMU 10-315).
GRAPH_PROFILE = "cmu"


def _profile_of(derivation, notation) -> Profile:
    if notation is None:
        network = getattr(derivation, "network", None)
        notation = getattr(network, "notation", None) or GRAPH_PROFILE
    if not isinstance(notation, (str, Profile)):
        raise BadInput(f"notation must be a profile name or a Profile, got {notation!r}")
    return get_profile(notation)


def render_latex(derivation, notation=None) -> str:
    r"""A derivation as a LaTeX fragment in a course's notation (SPEC §5a ``d.to_latex``).

    Parameters
    ----------
    derivation : MatrixDerivation, PerNeuronDerivation or GraphDerivation
    notation : str or Profile, optional
        A profile name (``"cs229"``, ``"ensimag"``, …) or a :class:`~derive.notation.Profile`;
        by default the network's own (a graph: ``cmu``).

    Returns
    -------
    str
        LaTeX for a document that loads amsmath and amssymb (no preamble): a header, one
        ``align*`` per part with one tagged line per step (step n is ``\tag{n}``) and, before
        each line, the rule and how the engine checked it; the gradients; the overall check.
        Byte-identical for the same input, whatever PYTHONHASHSEED is.

    Raises
    ------
    BadInput
        An unknown profile name (the message lists the known ones), or an object that is no
        derivation.

    Examples
    --------
    >>> import derive
    >>> net = derive.mlp(["n_0", "n_1", "n_2"], activation="sigmoid", loss="bce")
    >>> tex = render_latex(derive.backprop(net), "cs229")
    >>> print([line for line in tex.splitlines() if line.startswith(r"\delta^{[1]}")][0])
    \delta^{[1]} &= g'\left(z^{[1]}\right) \odot \left(W^{[2]T} \delta^{[2]}\right) \tag{14}\\
    """
    profile = _profile_of(derivation, notation)
    return printer_for(DOCUMENTS, derivation, "LaTeX")(derivation, profile).document()
