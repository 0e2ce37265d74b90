r"""Checking a whole derivation line by line (issue 10, item 8): a 6-line derivation.

The derivation: ∂L/∂W^{[2]} of the CS229 notes' 2-3-2-1 sigmoid/BCE network in the CS229
notation, numerator layout — ∂L/∂z^{[3]}, ∂L/∂a^{[2]} as a product of Jacobians, ∂L/∂z^{[2]}
through the diagonal Jacobian ∂a^{[2]}/∂z^{[2]} with underbraced shapes, its ⊙ form and
∂L/∂W^{[2]}: six '=' lines, all right, then the same with one mistake in line 4 (a wrong line
is also diagnosed, which costs more).  ``verify.check_derivation`` is timed against the
baseline of ``derive.backprop`` of the same network in matrix form, in the same process (a
fresh network each time, so nothing is cached between repeats).  Target: under 3 s.

Prints times and ratios; asserts nothing but the derivation's own size.

Usage::

    python benchmarks/verify_derivation.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import derive
import verify
from verify.derivation_lines import equality_lines

TARGET = 3.0
SIZES = [2, 3, 2, 1]
RIGHT = r"""\begin{align*}
\frac{\partial \mathcal{L}}{\partial z^{[3]}} &= a^{[3]} - y \\
\frac{\partial \mathcal{L}}{\partial a^{[2]}}
  &= \frac{\partial \mathcal{L}}{\partial z^{[3]}} \frac{\partial z^{[3]}}{\partial a^{[2]}} \\
  &= (a^{[3]} - y) W^{[3]} \\
\frac{\partial \mathcal{L}}{\partial z^{[2]}}
  &= \underbrace{\frac{\partial \mathcal{L}}{\partial a^{[2]}}}_{1 \times 2}
     \underbrace{\frac{\partial a^{[2]}}{\partial z^{[2]}}}_{2 \times 2} \\
  &= \left((a^{[3]} - y) W^{[3]}\right) \circ g'(z^{[2]})^T \\
\frac{\partial \mathcal{L}}{\partial W^{[2]}} &= a^{[1]} \frac{\partial \mathcal{L}}{\partial z^{[2]}}
\end{align*}"""
WRONG = RIGHT.replace(r"\underbrace{\frac{\partial \mathcal{L}}{\partial a^{[2]}}}_{1 \times 2}",
                      r"\underbrace{\frac{\partial \mathcal{L}}{\partial a^{[2]}}}_{1 \times 2} 2")


def _time(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    lines = equality_lines(RIGHT)
    assert len(lines) == 6, len(lines)
    net = derive.mlp(SIZES, activation="sigmoid", loss="bce")
    verify.check_derivation(RIGHT, net, notation="cs229")        # warm the imports and caches
    results = {"backprop": [], "right": [], "wrong": []}
    for _ in range(args.repeat):
        results["backprop"].append(_time(lambda: derive.backprop(
            derive.mlp(SIZES, activation="sigmoid", loss="bce"), form="matrix")))
        results["right"].append(_time(lambda: verify.check_derivation(
            RIGHT, derive.mlp(SIZES, activation="sigmoid", loss="bce"), notation="cs229")))
        results["wrong"].append(_time(lambda: verify.check_derivation(
            WRONG, derive.mlp(SIZES, activation="sigmoid", loss="bce"), notation="cs229")))
    verdict = verify.check_derivation(WRONG, net, notation="cs229")
    base = statistics.median(results["backprop"])
    print(f"6-line derivation, {'-'.join(map(str, SIZES))} sigmoid/BCE, cs229, numerator "
          f"(median of {args.repeat})")
    print(f"  baseline derive.backprop (matrix form): {base:.3f} s")
    for key, label in (("right", "all lines right"), ("wrong", f"one wrong line "
                                                                f"({verdict.headline})")):
        median = statistics.median(results[key])
        status = "OK" if median < TARGET else "OVER TARGET"
        print(f"  check_derivation, {label}: {median:.3f} s = {median / base:.1f}x backprop "
              f"(target < {TARGET:.0f} s: {status})")


if __name__ == "__main__":
    main()
