r"""What every document says about its derivation before the mathematics: title and course.

>>> import derive
>>> d = derive.backprop(derive.load_spec({"network": {"sizes": ["n_0", "n_1"],
...                                                   "activation": "tanh", "loss": "mse"}}))
>>> about = describe(d, "cs229")
>>> about.title, about.course
('Backpropagation for the $n_{0}$-$n_{1}$ network', 'CS229')
>>> about.subtitle
'activation tanh, loss mse, convention rows, reduction mean; in the notation of CS229'
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from derive.errors import BadInput
from derive.notation import Profile, get_profile
from derive.printing.latex import GRAPH_PROFILE
from derive.printing.latex_escape import latex_text

__all__ = ["About", "describe", "profile_of"]


@dataclass(frozen=True)
class About:
    """A derivation's title and subtitle (text-mode LaTeX, math in ``$…$``), the course whose
    notation it is printed in (``"CS229"``), the profile, a plain one-line summary, and the
    network in words (text-mode LaTeX: ``$n_{0}$-$n_{1}$ network, activation tanh, …``)."""

    title: str
    subtitle: str
    course: str
    profile: Profile
    summary: str
    network: str = ""


def profile_of(derivation, notation=None) -> Profile:
    """The profile a derivation is printed in: ``notation``, else its network's, else that of
    computation graphs (CMU 10-315)."""
    if notation is None:
        notation = getattr(getattr(derivation, "network", None), "notation", None) \
            or GRAPH_PROFILE
    if not isinstance(notation, (str, Profile)):
        raise BadInput(f"notation must be a profile name or a Profile, got {notation!r}")
    return get_profile(notation, where="--notation")


def _size(size) -> str:
    return str(size) if isinstance(size, int) else f"${sp.latex(sp.Symbol(str(size)))}$"


def describe(derivation, notation=None) -> About:
    """Title, subtitle and course of ``derivation`` in ``notation`` (see :class:`About`)."""
    profile = profile_of(derivation, notation)
    course = profile.source.split(" (")[0] or profile.name
    network = getattr(derivation, "network", None)
    if network is not None and hasattr(network, "describe"):
        sizes = ("-".join(_size(s) for s in network.sizes) if network.sizes
                 else f"depth ${sp.latex(sp.Symbol(str(network.depth)))}$")
        names = [a.name for a in network.activations]
        activation = (f"activation {latex_text(names[0])}" if len(set(names)) == 1 else
                      "activations " + ", ".join(latex_text(name) for name in names))
        title = f"Backpropagation for the {sizes} network"
        details = (f"{activation}, loss {latex_text(network.loss.name)}, "
                   f"convention {network.convention}, reduction {network.reduction}")
        network_text = f"{sizes} network, {details}"
        summary = network.describe()
    else:
        name = str(getattr(getattr(derivation, "graph", None), "name", "") or "")
        title = "Reverse accumulation on a computation graph"
        details = f"graph {latex_text(name)}" if name else "computation graph"
        summary = f"computation graph {name}".strip()
        network_text = details
    subtitle = f"{details}; in the notation of {latex_text(course)}"
    return About(title, subtitle, course, profile, summary, network_text)
