"""symbackprop's engine: networks, activations, losses, Jacobians, backprop derivations.

>>> import derive
>>> net = derive.mlp([2, 3, 1], activation="sigmoid", loss="bce", convention="rows")
>>> d = derive.backprop(net, layout="numerator")
>>> d.gradient("W2").shape
(1, 3)
"""

from .activations import ACTIVATIONS
from .api import backprop
from .backprop import MLPDerivation
from .jacobians import jacobian
from .derivation import Label, Step
from .errors import BadInput
from .losses import LOSSES
from .layer_rules import MatrixDerivation, MatrixNetwork, derive_layer_rules, matrix_network
from .network import Network, mlp
from .notation import PROFILES, get_profile
from .spec import DEFAULT_SPEC, load_spec

Derivation = MLPDerivation

__all__ = ["ACTIVATIONS", "LOSSES", "PROFILES", "BadInput", "Derivation", "Label",
           "MLPDerivation", "MatrixDerivation", "MatrixNetwork", "Network", "Step",
           "DEFAULT_SPEC", "backprop", "derive_layer_rules", "get_profile", "jacobian",
           "load_spec", "matrix_network", "mlp"]
