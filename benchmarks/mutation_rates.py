"""Detection rate of the numeric verifier on mutated generated modules (issue 4, item 6).

For random small networks (depth 1–3, sizes and batch in {2, 3, 4}, every activation, loss,
convention, reduction and notation profile), generates the NumPy module, checks it with
``verify.check_gradients`` (a *false alarm* when it is not verified), injects every classic
bug of ``tests/mutations.py`` at every place it can be made, and gives each mutant to the
verifier at the same point.  Three sweeps:

- ``random``: any activations, a random point;
- ``relu``: relu-like hidden layers, a random point;
- ``kinks``: relu-like hidden layers, the point moved so that two pre-activations per relu-like
  layer (and an l1/huber residual) lie within 1e-7 of their kink — inside the difference step.

Prints, per sweep and over all, for each bug class: caught / applicable and the rate, how the
verifier caught them (``mismatch``, or ``unusable`` for a mutant returning wrong shapes), the
misses, the equivalent mutants (gradients equal to the original's at the point, within what
float64 differences resolve) and the not-applicable ones (shape-conditional bugs whose shapes
do not fit); then the false-alarm rate on the correct modules, and the missed mutants.
It asserts nothing.

Usage::

    python benchmarks/mutation_rates.py [--rounds 120] [--seed 0] [--sweeps random,relu,kinks]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import mutations as M  # noqa: E402  (the repository root is on the path now)

SWEEPS = {
    "random": dict(kinked=False, near_kinks=False),
    "relu": dict(kinked=True, near_kinks=False),
    "kinks": dict(kinked=True, near_kinks=True),
}


def run_sweep(name: str, rounds: int, seed: int) -> list:
    options = SWEEPS[name]
    out = []
    for k in range(rounds):
        rng = np.random.default_rng([seed, list(SWEEPS).index(name), k])
        out.append(M.run_round(M.random_network(rng, **options), seed=k))
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=120, help="networks per sweep")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sweeps", default=",".join(SWEEPS),
                        help=f"comma-separated, of {', '.join(SWEEPS)}")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.sweeps.split(",") if n.strip()]
    unknown = [n for n in names if n not in SWEEPS]
    if unknown:
        parser.error(f"unknown sweep {unknown[0]!r}; known: {', '.join(SWEEPS)}")
    warnings.simplefilter("ignore", RuntimeWarning)     # mutants overflow; that is their right
    everything = []
    for name in names:
        start = time.perf_counter()
        rounds = run_sweep(name, args.rounds, args.seed)
        everything += rounds
        mutants = sum(len(r.outcomes) for r in rounds)
        print(f"== sweep {name}: {len(rounds)} networks, {mutants} mutants, "
              f"{time.perf_counter() - start:.0f} s")
        print(M.rates_text(rounds))
        print()
    if len(names) > 1:
        print(f"== all sweeps: {len(everything)} networks")
        print(M.rates_text(everything))
    missed = [(r.network.describe(), o) for r in everything for o in r.outcomes
              if o.outcome == "missed"]
    alarms = [r for r in everything if r.correct_status != "verified"]
    if missed:
        print(f"\nmissed mutants ({len(missed)}; first 15):")
        for network, outcome in missed[:15]:
            print(f"  {network}: {outcome.mutant.cls}: {outcome.mutant.site} "
                  f"(gradient difference {outcome.gap:.2g})")
    for r in alarms[:5]:
        print(f"\nfalse alarm on {r.network.describe()}:\n{r.correct_detail}")


if __name__ == "__main__":
    main()
