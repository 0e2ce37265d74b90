"""symbackprop's engine: networks of layer objects, activations, losses, Jacobians, derivations.

>>> import derive
>>> net = derive.mlp([2, 3, 1], activation="sigmoid", loss="bce", convention="rows")
>>> d = derive.backprop(net, layout="numerator")
>>> d.gradient("W2").shape
(1, 3)
"""

from . import layers
from .activations import ACTIVATIONS
from .api import FORMS, backprop, generate_numpy
from .derivation import Check, Derivation, Label, Step
from .engine import MatrixDerivation, derive_matrix
from .errors import BadInput
from .graphs import GraphDerivation, derive_graph, load_graph
from .jacobians import jacobian
from .losses import LOSSES
from .network import Network, mlp
from .notation import PROFILES, get_profile
from .presentations.per_neuron import PerNeuronDerivation, derive_per_neuron
from .spec import DEFAULT_SPEC, load_spec

__all__ = ["ACTIVATIONS", "LOSSES", "PROFILES", "BadInput", "Check", "Derivation", "FORMS",
           "GraphDerivation", "Label", "MatrixDerivation", "Network", "PerNeuronDerivation",
           "Step", "DEFAULT_SPEC", "backprop", "derive_graph", "derive_matrix",
           "derive_per_neuron", "generate_numpy", "get_profile", "jacobian", "layers", "load_graph", "load_spec",
           "mlp"]
