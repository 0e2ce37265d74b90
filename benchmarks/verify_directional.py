"""Directional finite-difference verification of a large MLP (issue 4, item 7; SPEC §7).

Checks the hand-written gradient module ``tests/handwritten_modules/any_size_mlp.py`` (tanh
hidden layers, softmax + cross-entropy, rows convention) at sizes 784-1024-256-10 — about 1.07
million parameters — on a batch of N samples with ``verify.check_gradients(..., mode=
"directional")``: 4 random unit directions per tensor, so the number of loss evaluations does
not depend on the parameter count.

Prints (it asserts nothing): the wall time of the check (median of ``--repeat`` runs), the time
of one forward pass measured in the same process on the same data (median of 20), their ratio
(target: the check under 2 s), the loss evaluations the check made, and what the coordinate-
by-coordinate mode would cost at this size.

Usage::

    python benchmarks/verify_directional.py [--sizes 784-1024-256-10] [--batch 128] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

import verify

MODULE = Path(__file__).resolve().parent.parent / "tests" / "handwritten_modules" / \
    "any_size_mlp.py"
TARGET_SECONDS = 2.0


def _median_time(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="784-1024-256-10",
                        help="layer sizes n_0-n_1-...-n_L (default 784-1024-256-10)")
    parser.add_argument("--batch", type=int, default=128, help="samples N (default 128)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the check (median)")
    args = parser.parse_args(argv)

    sizes = tuple(int(n) for n in args.sizes.split("-"))
    module = verify.load_module(MODULE)
    rng = np.random.default_rng(0)
    params = module.init_params(rng, sizes)
    X = rng.standard_normal((sizes[0], args.batch))
    Y = verify.draw_targets("simplex", (sizes[-1], args.batch), rng)
    n_params = sum(v.size for v in params.values())

    forward = _median_time(lambda: module.forward(params, X), 20)
    reports = []

    def check():
        reports.append(verify.check_gradients(module, params, X, Y, mode="directional",
                                              param_shapes=module.param_shapes(sizes),
                                              seed=len(reports)))

    seconds = _median_time(check, args.repeat)
    report = reports[-1]
    evaluations = next(note for note in report.notes if note.endswith("loss evaluations"))
    print(f"directional verification of a {'-'.join(map(str, sizes))} MLP "
          f"({n_params:,} parameters, {len(params)} tensors), N = {args.batch}")
    print(f"  status                       {report.status} "
          f"({', '.join(f'{r.name}: {r.max_rel_error:.1e}' for r in report.rows)} max rel err)")
    print(f"  loss evaluations             {evaluations.split()[0]} "
          f"(+ 1 gradient evaluation)")
    print(f"  one forward pass             {forward * 1e3:8.2f} ms")
    print(f"  directional check            {seconds * 1e3:8.2f} ms  "
          f"(median of {args.repeat}; target < {TARGET_SECONDS:g} s: "
          f"{'met' if seconds < TARGET_SECONDS else 'NOT met'})")
    print(f"  check / forward pass         {seconds / forward:8.1f} x")
    full = 2 * n_params * forward
    print(f"  full mode would need         {2 * n_params:,} loss evaluations "
          f"(about {full:,.0f} s at one forward pass each)")


if __name__ == "__main__":
    main()
