"""Verification: finite-difference checks of gradient code (SPEC §7), and its command line.

``check_gradients`` takes an imported module, a file path, any object or dict with
``loss(params, X, Y)`` and ``gradients(params, X, Y)``, or a ``(loss, gradients)`` pair;
``load_module`` imports a ``.py`` file by path.

>>> import numpy as np, verify
>>> report = verify.check_gradients((lambda p, X, Y: float(np.sum(p["W"] ** 2)),
...                                  lambda p, X, Y: {"W": 2 * p["W"]}),
...                                 {"W": np.ones((2, 2))}, np.zeros((2, 1)), np.zeros((1, 1)))
>>> report.ok
True
"""

from .numeric import Unusable, check_gradients, draw_targets, load_module
from .report import Failure, GradientReport, TensorRow

__all__ = ["check_gradients", "load_module", "draw_targets", "Unusable", "GradientReport",
           "TensorRow", "Failure"]
