"""symbackprop's engine: networks, activations, losses, Jacobians, backprop derivations.

>>> import derive
>>> net = derive.mlp([2, 3, 1], activation="sigmoid", loss="bce", convention="rows")
>>> d = derive.backprop(net, layout="numerator")
>>> d.gradient("W2").shape
(1, 3)
"""

from .activations import ACTIVATIONS
from .backprop import MLPDerivation, backprop
from .calculus import jacobian
from .derivation import Label, Step
from .errors import BadInput
from .losses import LOSSES
from .network import Network, mlp
from .spec import DEFAULT_SPEC, load_spec

Derivation = MLPDerivation

__all__ = ["ACTIVATIONS", "LOSSES", "BadInput", "Derivation", "Label", "MLPDerivation",
           "Network", "Step", "DEFAULT_SPEC", "backprop", "jacobian", "load_spec", "mlp"]
