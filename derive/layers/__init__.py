"""Layer kinds: one module each, holding the layer's forward map, parameters, initialisation,
notation kinds and the rules of the matrix nodes it introduces.

:data:`LAYERS` maps each kind's name (the ``kind`` of a ``[[layers]]`` entry in a spec) to its
class.  Adding a layer kind is one new module here plus its entry in :data:`LAYERS` and its
tests.

>>> sorted(LAYERS)
['dense']
"""

from .base import Layer, Stage
from .dense import CONVENTIONS, Dense

#: Every layer kind, by name.
LAYERS: dict[str, type[Layer]] = {cls.kind: cls for cls in (Dense,)}

__all__ = ["CONVENTIONS", "Dense", "LAYERS", "Layer", "Stage"]
