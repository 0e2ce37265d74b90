"""Verification: finite-difference checks of gradient code (SPEC §7), and its command line.

``check_gradients`` takes an imported module, a file path, any object or dict with
``loss(params, X, Y)`` and ``gradients(params, X, Y)``, or a ``(loss, gradients)`` pair;
``load_module`` imports a ``.py`` file by path; ``draw_targets`` is
:func:`derive.targets.draw_targets`, the one sampler of targets (by default labels 0/1 for
``binary``, one-hot columns for ``simplex``).

The package, one job per module: :mod:`verify.numeric` the checker that ties the others,
:mod:`verify.modules` the module under check (reading it, inferring sizes and targets),
:mod:`verify.evaluation` its loss and gradients at a point, :mod:`verify.twin` what float32
code is differenced on, :mod:`verify.steps` one entry's step and comparison,
:mod:`verify.kinks` kinks inside the step and re-draws, :mod:`verify.directional` random
directions and the bisection, :mod:`verify.report` the result and its text and JSON.

Claims typed in LaTeX: :mod:`verify.latex` reads them (``parse_latex``), :mod:`verify.claims`
decides them against the engine (``check_claim``), :mod:`verify.claim_points` evaluates at
exact rational points, :mod:`verify.claim_diagnosis` names the mistake and
:mod:`verify.verdict` holds the result (``Verdict``, ``Diagnosis``); :mod:`verify.grade`
decides a whole class's claims (``grade``), :mod:`verify.grade_output` writes its summary,
chart and results; :mod:`verify.derivation` checks every '=' line of a whole derivation
(``check_derivation``), over :mod:`verify.derivation_lines` (its lines) and
:mod:`verify.derivation_truth` (the true value of each derivative of the network's quantities).

>>> import numpy as np, verify
>>> report = verify.check_gradients((lambda p, X, Y: float(np.sum(p["W"] ** 2)),
...                                  lambda p, X, Y: {"W": 2 * p["W"]}),
...                                 {"W": np.ones((2, 2))}, np.zeros((2, 1)), np.zeros((1, 1)))
>>> report.ok
True
"""

from derive.targets import draw_targets

from .claims import check_claim
from .derivation import DerivationVerdict, check_derivation
from .grade import GradeResult, grade
from .latex import ParsedLatex, parse_latex
from .modules import Unusable, load_module
from .numeric import check_gradients
from .report import Failure, GradientReport, TensorRow
from .verdict import Diagnosis, Verdict

__all__ = ["check_gradients", "load_module", "draw_targets", "Unusable", "GradientReport",
           "TensorRow", "Failure", "parse_latex", "ParsedLatex", "check_claim", "Verdict",
           "Diagnosis", "grade", "GradeResult", "check_derivation", "DerivationVerdict"]
