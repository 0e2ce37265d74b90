"""Detection power of the verifier (issue 4 item 6): the classic backprop bugs, injected into
generated modules by the operators of :mod:`tests.mutations`, are all caught by
:func:`verify.check_gradients`, and the correct modules never are.

Rounds are random networks (any depth up to 3, activation, loss, convention, reduction,
profile; sizes and batch drawn from {2, 3, 4} so that shapes often coincide and the
shape-conditional bugs apply), at random points and — for relu networks — at points placed
within 1e-7 of their kinks, inside the difference step.  The larger sweep and the printed
rates are in ``benchmarks/mutation_rates.py``.
"""

from __future__ import annotations

import ast
import re

import numpy as np
import pytest
import sympy as sp

import derive
from derive.activations import ACTIVATIONS, x as X_SYMBOL
from derive.codegen import generate_numpy, load_source
from tests import mutations as M

# A mutant may overflow or divide by zero; the verifier reports what comes of it.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

#: Rounds at random points (every other one a relu-like network) and near kinks.
RANDOM_ROUNDS = 20
KINK_ROUNDS = 12


def _module(sizes, activations, loss, convention="rows", notation="cs229", **options):
    net = derive.mlp(sizes, activations=activations, loss=loss, convention=convention,
                     notation=notation, **options)
    d = derive.backprop(net, form="matrix", batch=True, layout="denominator")
    return net, generate_numpy(d, notation=notation, name="original").source


def _changed_lines(original: str, mutant: str) -> list:
    """Lines of ``mutant`` that are not in ``original`` (a mutant only edits gradients())."""
    before = set(original.splitlines())
    return [line.strip() for line in mutant.splitlines() if line not in before and line.strip()]


# --- the operators -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cs229_mutants():
    _, source = _module([3, 4, 3, 2], ["tanh", "relu", "sigmoid"], "bce")
    return source, M.mutants(source, np.random.default_rng(0))


def test_anatomy_reads_the_profile_names_from_the_module():
    for notation, signal, value in (("cs229", "delta", "a"), ("ensimag", "B", "alpha"),
                                    ("mines", "E", "v")):
        _, source = _module([3, 4, 2], ["tanh", "identity"], "mse", notation=notation)
        anat = M.anatomy(source)
        assert anat.depth == 2
        assert anat.signal == {2: f"{signal}2", 1: f"{signal}1"}
        assert anat.a == {0: "X", 1: f"{value}1", 2: f"{value}2"}
        assert anat.activation == {1: "tanh", 2: "identity"}


@pytest.mark.parametrize("cls,expected", [
    ("transpose", "delta1 = W2 @ delta2 * (1 - a1 ** 2)"),
    ("transpose", "grad_W2 = delta2_over_N @ a1"),
    ("transpose", "grad_W1 = delta1_over_N.T @ X.T"),
    ("activation_derivative", "delta1 = W2.T @ delta2"),
    ("activation_derivative", "delta2 = W3.T @ delta3"),
    ("sign", "delta3 = a3 + Y"),
    ("sign", "delta1 = W2.T @ delta2 * (1 + a1 ** 2)"),
    ("sign", "grad_b2 = -delta2_over_N.sum(axis=1, keepdims=True)"),
    ("off_by_one_layer", "grad_W2 = delta2_over_N @ X.T"),
    ("off_by_one_layer", "delta1 = W3.T @ delta2 * (1 - a1 ** 2)"),
    ("off_by_one_layer", "delta2 = W3.T @ delta3 * (z1 > 0.0).astype(DTYPE)"),  # relu'(0) = 0
    ("missing_1_over_N", "grad_W1 = delta1 @ X.T"),
    ("missing_1_over_N", "grad_b3 = delta3.sum(axis=1, keepdims=True)"),
    ("bias_not_summed", "grad_b1 = delta1_over_N[:, :1]"),
    ("bias_not_summed", "grad_b1 = np.mean(delta1_over_N, axis=0, keepdims=True)"),
    ("hadamard_matmul", "delta1 = W2.T @ delta2 @ (1 - a1 ** 2)"),
])
def test_each_operator_makes_the_textbook_bug(cs229_mutants, cls, expected):
    source, mutants = cs229_mutants
    found = [m for m in mutants if m.cls == cls and
             any(line.split("  # MUTANT")[0] == expected
                 for line in _changed_lines(source, m.source))]
    assert len(found) == 1, [m.site for m in mutants if m.cls == cls]
    mutant = found[0]
    changed = _changed_lines(source, mutant.source)
    edits = [line for line in changed if "# MUTANT" in line]
    loads = [line for line in changed if "# MUTANT" not in line]
    assert len(edits) == 1                                   # one line of gradients() edited
    assert all(" = cache[" in line or "np.asarray(params[" in line for line in loads)
    load_source(mutant.source, "mutant")                    # and the module still imports


def test_replaced_derivative_is_another_activations_derivative(cs229_mutants):
    _, mutants = cs229_mutants
    replaced = [m for m in mutants if "replaced by" in m.site]
    assert {m.site.split(":")[0] for m in replaced} == {"delta1", "delta2"}
    z = np.array([[-1.3, 0.4, 2.0]])
    for mutant in replaced:
        layer = int(re.match(r"delta(\d)", mutant.site).group(1))
        other = re.search(r"replaced by (\w+)'", mutant.site).group(1)
        assert other != {1: "tanh", 2: "relu"}[layer]
        assert f"z{layer} = cache['z{layer}']" in mutant.source    # loaded where needed
        # The inserted factor is other'(z): its values against SymPy's derivative of other.
        value = eval(ast.unparse(M.derivative_code(other, "z")), {"np": np, "z": z})
        truth = sp.lambdify(X_SYMBOL, ACTIVATIONS.get(other).derivative, "numpy")(z)
        np.testing.assert_allclose(value, np.broadcast_to(truth, z.shape), rtol=1e-12)


def test_operators_work_in_every_profile_and_convention():
    for convention in ("rows", "columns", "augmented"):
        for notation in M.PROFILES:
            net, source = _module([3, 3, 3, 3], ["softplus", "leaky_relu", "identity"], "huber",
                                  convention, notation)
            classes = {m.cls for m in M.mutants(source, np.random.default_rng(1))}
            expected = set(M.CLASSES) - ({"bias_not_summed"} if convention == "augmented"
                                         else set())
            assert classes == expected, (convention, notation, classes)


def test_a_fused_output_signal_has_no_derivative_to_drop():
    """σ + bce gives Δ^L = A^L − Y: there is no Φ' factor at the output to remove."""
    _, source = _module([2, 2], ["sigmoid"], "bce")
    assert not [m for m in M.mutants(source, np.random.default_rng(0))
                if m.cls == "activation_derivative"]
    _, source = _module([2, 2], ["tanh"], "mse")                 # tanh' ⊙ (a − y): one to drop
    dropped = [m for m in M.mutants(source, np.random.default_rng(0))
               if m.cls == "activation_derivative" and m.site.endswith("dropped")]
    assert len(dropped) == 1 and "delta1 = a1 - Y" in dropped[0].source


# --- judging mutants ---------------------------------------------------------------------------

def test_equivalent_mutants_are_detected_and_excluded():
    """With a 1-unit hidden layer and a batch of one, a1 is 1×1: dropping its .T, or the 1/N
    of N = 1, changes nothing.  Those are counted equivalent, never given to the verifier."""
    net = M.Network(sizes=(2, 1, 1), activations=("tanh", "identity"), loss="mse",
                    convention="rows", reduction="mean", notation="cs229", batch=1,
                    near_kinks=False)
    result = M.run_round(net, seed=3)
    assert result.correct_status == "verified"
    by_site = {o.mutant.site: o for o in result.outcomes}
    assert by_site["grad_W2: a1.T -> a1"].outcome == "equivalent"
    assert by_site["grad_W2: a1.T -> a1"].status is None
    assert all(by_site[f"grad_{p}: / N dropped"].outcome == "equivalent"
               for p in ("W1", "b1", "W2", "b2"))
    assert by_site["delta2: negated"].outcome == "caught_mismatch"
    table = M.tally([result])
    assert table["missing_1_over_N"]["equivalent"] == 4


def test_a_mutant_with_wrong_shapes_is_caught_only_through_the_verifier():
    _, source = _module([3, 4, 2], ["tanh", "identity"], "mse")
    module = load_source(source, "original")
    rng = np.random.default_rng(0)
    net = M.Network((3, 4, 2), ("tanh", "identity"), "mse", "rows", "mean", "cs229", 3, False)
    point = M.draw_point(module, M.anatomy(source), net, rng)
    reference = module.gradients(*point)
    floor = M.resolution(reference, module.loss(*point))
    mean = next(m for m in M.mutants(source, rng) if m.site == "grad_b1: sum over the batch "
                "-> mean over axis 0")
    outcome = M.classify(mean, reference, point, dict(module.PARAM_SHAPES), 0, floor)
    assert outcome.outcome == "caught_unusable" and outcome.status == "unusable"
    assert "shape" in outcome.detail
    # A shape-conditional mutant whose shapes do not fit is not applicable (W2 is 2×4).
    wrong = next(m for m in M.mutants(source, rng) if m.site == "delta1: W2.T -> W2")
    outcome = M.classify(wrong, reference, point, dict(module.PARAM_SHAPES), 0, floor)
    assert outcome.outcome == "not_applicable" and outcome.status is None


# --- detection rates -----------------------------------------------------------------------------

def _rounds(count, kinked, near_kinks, stream):
    rounds = []
    for seed in range(count):
        rng = np.random.default_rng([stream, seed])
        net = M.random_network(rng, kinked=kinked(seed), near_kinks=near_kinks)
        rounds.append(M.run_round(net, seed))
    return rounds


def _missed(rounds):
    return [f"{r.network.describe()}: {o.mutant.cls} {o.mutant.site} (gap {o.gap:.2g})"
            for r in rounds for o in r.outcomes if o.outcome == "missed"]


@pytest.fixture(scope="module")
def random_rounds():
    return _rounds(RANDOM_ROUNDS, kinked=lambda seed: seed % 2 == 0, near_kinks=False,
                   stream=11)


@pytest.fixture(scope="module")
def kink_rounds():
    return _rounds(KINK_ROUNDS, kinked=lambda seed: True, near_kinks=True, stream=12)


def test_every_applicable_mutant_is_caught_at_random_points(random_rounds):
    assert not _missed(random_rounds), "\n".join(_missed(random_rounds))
    table = M.tally(random_rounds)
    for cls, row in table.items():          # every class was exercised and caught
        assert row["caught_mismatch"] + row["caught_unusable"] >= 3, (cls, row)
    assert table["bias_not_summed"]["caught_unusable"] > 0     # reported separately
    assert sum(row["not_applicable"] for row in table.values()) > 0


def test_correct_modules_are_never_flagged(random_rounds, kink_rounds):
    alarms = [r.correct_detail for r in random_rounds + kink_rounds
              if r.correct_status != "verified"]
    assert not alarms, alarms[0]


def test_kink_points_really_straddle_kinks(kink_rounds):
    """The near-kink rounds are what they say: relu-like layers, a pre-activation within 1e-7
    of 0 (the difference step is ~6e-6)."""
    assert all(set(r.network.activations[:-1]) <= set(M.KINKED) for r in kink_rounds)
    assert sum(o.outcome != "not_applicable" for r in kink_rounds for o in r.outcomes) > 100


def test_every_applicable_mutant_is_caught_next_to_kinks(kink_rounds):
    assert not _missed(kink_rounds), "\n".join(_missed(kink_rounds))


#: Two rounds of the benchmark's near-kink sweep (seeds 58 and 92 of stream 7) where the
#: verifier used to miss mutants (before re-draws checked both sides, θ ± δ, of a kink): at the
#: point, every difference from the correct gradient comes through a relu unit whose only live
#: sample sits on its kink (within 1e-7, inside the step).
ONE_SIDED = [
    (M.Network((4, 2, 4, 3), ("relu", "leaky_relu", "sigmoid"), "bce", "columns", "mean",
               "mines", 2, True), 58, "grad_b1: negated"),
    (M.Network((2, 2, 4), ("relu", "softmax"), "cross_entropy", "rows", "mean", "cmu", 2,
               True), 92, "grad_b1: sum over the batch -> first sample"),
]


@pytest.mark.parametrize("net,seed,site", ONE_SIDED, ids=["relu-lrelu-bce", "relu-softmax-ce"])
def test_a_bug_on_one_side_of_a_kink_is_caught(net, seed, site):
    result = M.run_round(net, seed)
    assert result.correct_status == "verified"
    outcome = next(o for o in result.outcomes if o.mutant.site == site)
    assert outcome.gap > 1e-3                          # a real difference, not a rounding one
    assert outcome.outcome.startswith("caught"), (site, outcome.outcome)
