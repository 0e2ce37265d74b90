r"""NumPy code generation: a self-contained forward/backward module printed from a derivation.

The module is *printed from* the batch matrix-form derivation of a network (SPEC §6): every
line of ``_forward`` and ``gradients`` is one definition of that derivation, named after the
notation profile (``a1, z1, delta1`` for cs229; ``alpha1, zeta1, B1`` for ensimag) and
commented with the equation it implements and its number.  Nothing is a template with blanks:
another activation, loss, convention or a user-defined function changes the derivation, and so
the code.  The generator is a printer: it takes the derivation and imports no engine (the
engine renders derivations through :mod:`derive.render`, which imports this package).  The
stages, one module each:

====================  ========================================================================
``derivation_input``  the derivation to print, and what is read of its network
``stable_forms``    stable rewrites (``np.logaddexp``, log-softmax, Φ' without overflow, the
                    general softmax signal), each checked equal to what it replaces
``naming``            code names, helper names and equation numbers (the plan)
``printer``           the code printer: one NumPy expression per definition
``assembly``          the module's source: header, constants, helpers, ``init_params``, then
``inputs``            ``_checked``: the shape/finite/domain check every public function calls,
``equations``         ``forward``, ``loss``, ``gradients``, and
``optimisers``        ``sgd_step``, ``momentum_step`` (heavy ball or EMA), ``adam_step``
``self_check``        the check at birth against central differences (its result is in the
                      header)
``testfile``          the ``test_<name>.py`` written beside the module
====================  ========================================================================

The module exposes ``PARAM_SHAPES``, ``SIZES``, ``LOSS``, ``TARGETS``, ``DTYPE``,
``init_params``, ``forward``, ``loss``, ``gradients``, ``sgd_step``, ``momentum_step`` and
``adam_step`` (SPEC §6; the optimisers of the Mines course).  Nothing is clipped.

>>> import derive
>>> d = derive.backprop(derive.mlp([2, 3, 1]), form="matrix", batch=True)
>>> module = generate_numpy(d, notation="cs229")
>>> "delta1 = " in module.source and module.check.startswith("central differences")
True
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import BadInput
from ..notation import get_profile
from .assembly import module_source
from .derivation_input import batch_derivation, derivation_check
from .equations import domain_fallback
from .naming import make_plan
from .self_check import check_module, load_source
from .stable_forms import stable_derivative_form, stable_form
from .testfile import companion_test_source

DTYPES = ("float64", "float32")
#: Stands for the verification result in the header until the check has run.
PENDING = "<verification pending>"


@dataclass(frozen=True)
class GeneratedModule:
    """Generated source plus what was checked.

    Attributes
    ----------
    source : str
        The module's Python source (imports numpy only).
    name : str
        Module name (the file stem).
    check : str
        The verification run at generation (also in the module's header).
    test_source : str
        A pytest file that re-runs the check with :func:`verify.check_gradients`.
    """

    source: str
    name: str
    check: str
    test_source: str


def generate_numpy(derivation, notation=None, dtype: str = "float64", name: str = "mlp",
                   check: bool = True) -> GeneratedModule:
    """Generate the NumPy forward/backward module of a network's derivation (SPEC §6).

    Parameters
    ----------
    derivation : MatrixDerivation or PerNeuronDerivation
        A derivation of a network with integer sizes: best its batch matrix form,
        ``derive.backprop(net, form="matrix", batch=True, layout="denominator")``, printed as
        it is (the comments cite its equation numbers); another form is printed from its
        ``batch_form()``.
    notation : str or Profile, optional
        Names in the code come from this profile (default: the network's).
    dtype : {"float64", "float32"}
        The precision the module computes in.
    name : str
        The module name, used in the header and the test file.
    check : bool
        Run the generated gradients against central differences now (float64).

    Returns
    -------
    GeneratedModule

    Raises
    ------
    BadInput
        Unknown dtype, a name that is not an identifier, symbolic sizes, a network rather
        than its derivation.
    CheckFailed
        The generated gradients disagree with central differences.
    """
    if dtype not in DTYPES:
        raise BadInput(f"unknown dtype {dtype!r}; known: {', '.join(DTYPES)}", "--dtype")
    if not name.isidentifier():
        raise BadInput(f"module name {name!r} is not a Python identifier", "-o")
    d = batch_derivation(derivation)
    profile = get_profile(notation if notation is not None else d.network.notation)
    plan = make_plan(d, profile, derivation_check(derivation, d))
    # Printed once; the header's verification line is filled in after the check.
    template = module_source(plan, dtype, name, PENDING)
    verification = "not run"
    if check:
        # The float64 module is the float32 one with DTYPE = np.float64: its gradients are
        # checked against central differences, the float32 gradients against its gradients.
        twin = template if dtype == "float64" else module_source(plan, "float64", name, PENDING)
        verification = check_module(twin, name, None if dtype == "float64" else template,
                                    off_domain=domain_fallback(plan) is not None)
    source = template.replace(PENDING, verification)
    return GeneratedModule(source=source, name=name, check=verification,
                           test_source=companion_test_source(name))


__all__ = ["generate_numpy", "GeneratedModule", "stable_form", "stable_derivative_form",
           "load_source", "DTYPES"]
