"""Accuracy of the claim checker on its corpus (issue 10, items 3 and 7).

Runs :func:`verify.check_claim` on every claim of the corpora of ``tests/test_claims.py``
and ``tests/test_claim_corpus.py`` (network claims in the CS229, Ensimag, Mines, CMU 10-315 and
Durham notations; identities, also in Durham's J_f) and ``tests/test_claim_diagnosis.py``
(factors of a scalar input), and prints the corpus size, then per expected outcome —
``correct`` for the equivalent right forms, each diagnosis class of SPEC §7 for the seeded
mistakes — how many got the expected verdict and first diagnosis class, per notation profile
too, and the misses.  A claim is right only when both its verdict and its first class are the
expected ones.  It asserts nothing; the tests do.

Usage::

    python benchmarks/claim_corpus_accuracy.py [--verbose]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.test_claim_corpus import (MORE_IDENTITY_CORPUS,  # noqa: E402  (root on the path)
                                     MORE_NETWORK_CORPUS)
from tests.test_claim_diagnosis import SCALAR_FACTORS, X3  # noqa: E402
from tests.test_claims import IDENTITY_CORPUS, NETS, NETWORK_CORPUS  # noqa: E402
from verify.claims import check_claim  # noqa: E402
from verify.verdict import CLASSES  # noqa: E402


def _cases():
    """(profile, expected key, expected verdict, claim, a function returning the verdict)."""
    for profile, net, wrt, layout, claim, verdict, cls in NETWORK_CORPUS + MORE_NETWORK_CORPUS:
        yield (profile, cls or "correct", verdict, claim,
               lambda c=claim, n=net, w=wrt, l=layout, p=profile:
               check_claim(c, NETS[n], wrt=w, layout=l, notation=p))
    for expr, wrt, shapes, symmetric, layout, claim, verdict, cls in \
            IDENTITY_CORPUS + MORE_IDENTITY_CORPUS:
        profile = "durham" if claim.startswith("J_f") else "identity"
        yield (profile, cls or "correct", verdict, claim,
               lambda c=claim, e=expr, w=wrt, s=shapes, y=symmetric, l=layout:
               check_claim(c, e, wrt=w, shapes=s, symmetric=y, layout=l))
    for expr, claim, verdict, classes, _ in SCALAR_FACTORS:
        scalars = [name for name in ("N", "lambda") if name in expr]
        yield ("identity", classes[0] if classes else "correct", verdict, claim,
               lambda c=claim, e=expr, s=tuple(scalars):
               check_claim(c, e, wrt="x", shapes=X3, scalars=s, layout="denominator"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="print every claim's outcome")
    args = parser.parse_args(argv)
    totals, rights = Counter(), Counter()
    by_profile, profile_rights = Counter(), Counter()
    misses = []
    start = time.perf_counter()
    cases = list(_cases())
    for profile, key, verdict, claim, check in cases:
        result = check()
        got = result.diagnosis[0].cls if result.diagnosis else "correct"
        right = result.verdict == verdict and got == key
        totals[key] += 1
        by_profile[profile] += 1
        rights[key] += right
        profile_rights[profile] += right
        if not right:
            misses.append((profile, claim, f"{verdict}/{key}", f"{result.verdict}/{got}"))
        if args.verbose:
            print(f"{'ok  ' if right else 'MISS'} {profile:8} {key:30} {claim}")
    elapsed = time.perf_counter() - start
    print(f"corpus: {len(cases)} claims ({sum(totals.values()) - totals['correct']} seeded "
          f"mistakes, {totals['correct']} right forms), {elapsed:.1f} s "
          f"({elapsed / len(cases) * 1000:.0f} ms per claim)")
    print(f"accuracy: {sum(rights.values())}/{len(cases)} "
          f"({100 * sum(rights.values()) / len(cases):.1f}%)")
    print()
    print(f"{'expected':32} {'right':>7}  {'rate':>6}")
    for key in ("correct", *CLASSES):
        if totals[key]:
            print(f"{key:32} {rights[key]:>3}/{totals[key]:<3}  "
                  f"{100 * rights[key] / totals[key]:5.1f}%")
    absent = [key for key in CLASSES if not totals[key]]
    if absent:
        print(f"(no seeded mistake of class {', '.join(absent)})")
    print()
    print(f"{'profile':32} {'right':>7}  {'rate':>6}")
    for profile in sorted(by_profile):
        print(f"{profile:32} {profile_rights[profile]:>3}/{by_profile[profile]:<3}  "
              f"{100 * profile_rights[profile] / by_profile[profile]:5.1f}%")
    if misses:
        print()
        print("misses (profile, claim, expected, got):")
        for miss in misses:
            print("  " + " | ".join(miss))
    return 0


if __name__ == "__main__":
    sys.exit(main())
