"""Verification: finite-difference checks of gradient code (SPEC §7), and its command line.

>>> import numpy as np, verify
>>> report = verify.check_gradients((lambda p, X, Y: float(np.sum(p["W"] ** 2)),
...                                  lambda p, X, Y: {"W": 2 * p["W"]}),
...                                 {"W": np.ones((2, 2))}, np.zeros((2, 1)), np.zeros((1, 1)))
>>> report.ok
True
"""

from .numeric import check_gradients
from .report import Failure, GradientReport, TensorRow

__all__ = ["check_gradients", "GradientReport", "TensorRow", "Failure"]
