"""How the matrix-form derivations scale (issue 3, item 9).  Prints; asserts nothing.

1. Derivation time of the symbolic-shape MLP rules (``derive.derive_matrix``, sizes
   n_0 … n_L, batch form, tanh layers, mse) for depth 1 … 64: without the numerical self-check
   (the derivation itself) and with it (what ``derive.backprop`` does).  The time per layer should
   stay flat: the rules of each layer are derived once, by a fixed number of vector-Jacobian
   products.
2. Independence of width: the same derivation at integer widths 4, 256 and 4096 (depth 8).
   Matrix expressions do not depend on the values of their sizes, so the time should not either.
3. The identity table (``derive.identities``: the CMU 10-315 rows and the standard
   identities), every row in both layouts.

Each figure is the median of ``--repeat`` runs, SymPy's cache cleared before each, in this
process.  The baseline for "linear" is depth 1 of the same run: the ratio column divides each
time by depth × (time at depth 1).

Usage::

    python benchmarks/derive_symbolic.py [--depths 1 2 4 8 16 32 64] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

from sympy.core.cache import clear_cache

import derive
from derive.identities import IDENTITIES
from derive.jacobians import jacobian as matrix_jacobian


def timed(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        clear_cache()
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def derivation(depth: int, check: bool, widths=None):
    sizes = widths if widths is not None else [f"n_{i}" for i in range(depth + 1)]
    net = derive.mlp(sizes, activation="tanh", loss="mse")
    return lambda: derive.derive_matrix(net, layout="numerator", batch=True, check=check)


def identity_table():
    for row in IDENTITIES:
        for layout in ("numerator", "denominator"):
            matrix_jacobian(row.expr, row.wrt, layout=layout, shapes=row.shape_dict,
                            scalars=row.scalars, symmetric=row.symmetric,
                            **({"vec": True} if getattr(row, "vec", False) else {}))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depths", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32, 64])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    derivation(2, True)()                         # warm up: imports, registry entries
    print("1. symbolic-shape MLP rules, batch form (median of", args.repeat, "runs)")
    print(f"{'depth':>6} {'derive [s]':>11} {'+ check [s]':>12} {'per layer [ms]':>15} "
          f"{'vs linear':>10}")
    base = None
    for depth in args.depths:
        plain = timed(derivation(depth, False), args.repeat)
        checked = timed(derivation(depth, True), args.repeat)
        base = base if base is not None else plain / depth
        print(f"{depth:>6} {plain:>11.3f} {checked:>12.3f} {1000 * plain / depth:>15.1f} "
              f"{plain / (depth * base):>9.2f}x")
    if 64 in args.depths:
        print("target: depth 64 in under 5 s (with the check): see the row above")

    print("\n2. width independence, depth 8, integer widths")
    print(f"{'width':>6} {'derive [s]':>11}")
    for width in (4, 256, 4096):
        seconds = timed(derivation(8, False, widths=[width] * 9), args.repeat)
        print(f"{width:>6} {seconds:>11.3f}")

    rows = len(IDENTITIES)
    seconds = timed(identity_table, args.repeat)
    print(f"\n3. identity table: {rows} identities x 2 layouts in {seconds:.2f} s "
          f"({1000 * seconds / (2 * rows):.1f} ms per derivative)")


if __name__ == "__main__":
    main()
