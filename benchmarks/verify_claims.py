r"""Verdicts on hand-derived gradients, one and a whole class (issue 10, item 8).

(a) One verdict on a lecture-size claim: the 2-3-1 sigmoid/BCE network of the CS229 notes,
    the gradient of W1 (``verify.check_claim``), a right and a wrong claim.  Target: under 1 s.
    Baseline in the same process: ``derive.backprop`` of the same network in matrix form (what
    a verdict derives twice, per sample and per batch, before it reads the claim).
(b) Grading 300 submissions, a realistic mix of right answers (several equivalent forms) and
    wrong ones (every classic mistake, an unreadable one), 40 distinct claims after
    normalising whitespace: ``verify.grade`` with every core (target: under 60 s on this
    2-core machine) and with one process, against the baseline of the plain loop of
    ``check_claim`` over the 300 rows one by one.

Prints times and ratios (it asserts nothing but the corpus's own size).  ``--profile`` prints
where one verdict's time goes (cProfile, by cumulative time).

Usage::

    python benchmarks/verify_claims.py [--rows 300] [--repeat 5] [--jobs N] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import statistics
import subprocess
import sys
import time

import derive
import verify
from verify.grade import default_jobs, normalise_claim

TARGET_ONE = 1.0
TARGET_CLASS = 60.0
DISTINCT = 40

LEFT = r"\nabla_{W^{[1]}} \mathcal{L} = "
PARTIAL = r"\frac{\partial \mathcal{L}}{\partial W^{[1]}} = "
#: The signal δ^{[1]} as students write it (each exactly right).
SIGNALS = [r"W^{[2]T}\delta^{[2]} \odot g'(z^{[1]})",
           r"W^{[2]T}(a^{[2]} - y) \odot a^{[1]} \odot (1 - a^{[1]})",
           r"W^{[2]\top}(\hat{y} - y) \odot \sigma'(z^{[1]})",
           r"\operatorname{diag}(\sigma'(z^{[1]})) W^{[2]T}(a^{[2]} - y)"]


def claims() -> tuple:
    """(right, wrong): distinct claims of ∇_{W^{[1]}} L, right ones in equivalent forms, wrong
    ones with each classic mistake (and an unreadable one)."""
    right = [LEFT + rf"({s}) x^T" for s in SIGNALS]
    right += [LEFT + r"\delta^{[1]} x^{T}",
              LEFT + r"\delta^{[1]} x^{T},\ \delta^{[1]} = W^{[2]T}(a^{[2]} - y) \odot "
                     r"a^{[1]} \odot (1 - a^{[1]})",
              PARTIAL + rf"x ({SIGNALS[0]})^T", rf"x ({SIGNALS[1]})^T"]
    wrong = []
    for signal in SIGNALS[:2]:
        wrong += [LEFT + rf"x ({signal})^T",                       # missing transpose
                  rf"({signal}) x^T",                              # layout swap
                  LEFT + rf"2({signal}) x^T",                      # extra factor
                  LEFT + rf"\frac{{1}}{{2}}({signal}) x^T",        # missing factor
                  LEFT + rf"-({signal}) x^T",                      # wrong sign
                  LEFT + rf"({signal}) a^{{[1]T}}"]                # wrong shape
    wrong += [LEFT + r"(W^{[2]T}(y - a^{[2]}) \odot g'(z^{[1]})) x^T",
              LEFT + r"(W^{[2]T}\delta^{[2]}) x^T",                # derivative dropped
              LEFT + r"W^{[2]T}(a^{[2]} - y) x^T",
              LEFT + r"(W^{[2]T}\delta^{[2]} \odot \sigma(z^{[1]})) x^T",
              LEFT + r"(W^{[2]T}\delta^{[2]} \odot \tanh'(z^{[1]})) x^T",
              LEFT + r"(W^{[2]T}(a^{[2]} - y) \odot a^{[1]}) x^T",
              LEFT + r"(W^{[2]T} a^{[2]} \odot g'(z^{[1]})) x^T",
              LEFT + r"(W^{[2]T}\delta^{[2]} \odot g'(z^{[1]}) \odot g'(z^{[1]})) x^T",
              LEFT + r"3(W^{[2]T}\delta^{[2]} \odot g'(z^{[1]})) x^T",
              LEFT + r"(W^{[2]T}\delta^{[2]} \odot g'(z^{[1]}) x^T",   # unreadable
              LEFT + r"(W^{[2]}\delta^{[2]} \odot g'(z^{[1]})) x^T",
              LEFT + r"\delta^{[2]} x^T",
              LEFT + r"(W^{[2]T}\delta^{[2]} \odot g'(z^{[1]})) x",
              LEFT + r"\delta^{[1]} a^{[1]T}",
              LEFT + r"x^T \delta^{[1]}",
              LEFT + r"(\delta^{[2]} W^{[2]} \odot g'(z^{[1]})) x^T",
              LEFT + r"2 \delta^{[1]} x^{T}",
              LEFT + r"x \delta^{[1]T}",
              LEFT + r"-\delta^{[1]} x^{T}",
              LEFT + r"(W^{[1]T}\delta^{[2]} \odot g'(z^{[1]})) x^T"]
    return right, wrong


def submissions(n_rows: int, seed: int = 0) -> list:
    """``n_rows`` rows ``{"id", "claim"}``: every distinct claim once, then a draw in which
    right answers are about 55 % of the class and a few wrong ones are common; repeated claims
    differ in spacing and math delimiters, as typed."""
    right, wrong = claims()
    rng = random.Random(seed)
    weights = [6.0 / (k + 1) for k in range(len(right))] + \
              [3.0 / (k + 1) ** 0.7 for k in range(len(wrong))]
    distinct = right + wrong
    drawn = distinct + rng.choices(distinct, weights, k=max(0, n_rows - len(distinct)))
    rows = []
    for number, claim in enumerate(drawn[:n_rows], 1):
        style = rng.randrange(4)
        typed = {0: claim, 1: f"${claim}$", 2: claim.replace(" = ", "  =  "),
                 3: " " + claim.replace(") ", ")\n  ") + " "}[style]
        rows.append({"id": f"s{number:03d}", "claim": typed})
    return rows


def _seconds(function) -> tuple:
    start = time.perf_counter()
    value = function()
    return time.perf_counter() - start, value


def _median(function, repeat: int) -> float:
    return statistics.median(_seconds(function)[0] for _ in range(repeat))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300, help="submissions (default 300)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of (a), median")
    parser.add_argument("--jobs", type=int, default=None, help="processes (default: cores)")
    parser.add_argument("--profile", action="store_true",
                        help="print where one verdict's time goes (cProfile)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.rows, args.jobs)
        return

    net = derive.mlp([2, 3, 1], activation="sigmoid", loss="bce")
    right, wrong = claims()
    assert len(set(right + wrong)) == DISTINCT, len(set(right + wrong))

    def derive_once():
        return derive.backprop(net, layout="numerator", form="matrix")

    def verdict(claim):
        return lambda: verify.check_claim(claim, net, wrt="W1", notation="cs229")

    print("(a) one verdict: 2-3-1 sigmoid/BCE network, the gradient of W1, cs229 notation")
    cold_backprop, _ = _seconds(derive_once)
    cold_claim, first = _seconds(verdict(right[0]))
    print(f"  first calls in this process: backprop {cold_backprop:.3f} s, then a verdict "
          f"{cold_claim:.3f} s ({first.headline})")
    backprop_time = _median(derive_once, args.repeat)
    for label, claim in (("right", right[1]), ("wrong", wrong[0])):
        seconds = _median(verdict(claim), args.repeat)
        print(f"  {label} claim: {seconds:.3f} s median of {args.repeat} "
              f"({verdict(claim)().headline}); backprop {backprop_time:.4f} s; ratio "
              f"{seconds / backprop_time:.1f}x; target < {TARGET_ONE:.0f} s: "
              f"{'met' if max(seconds, cold_claim) < TARGET_ONE else 'MISSED'}")

    jobs = args.jobs or default_jobs()
    rows = submissions(args.rows)
    keys = {normalise_claim(row["claim"]) for row in rows}
    print(f"(b) grading {len(rows)} submissions, {len(keys)} distinct claims after "
          f"normalising; each way in a fresh process (cold caches, as a user runs it)")
    runs = {name: _in_fresh_process(name, args.rows, n)
            for name, n in ((f"grade, {jobs} jobs", jobs), ("grade, 1 job", 1),
                            ("check_claim one by one", 1))}
    (parallel, single, loop) = runs.values()
    counts = {v: sum(d["verdict"] == v for d in parallel["verdicts"])
              for v in ("correct", "incorrect", "invalid")}
    print(f"  verdicts: {counts['correct']} correct, {counts['incorrect']} incorrect, "
          f"{counts['invalid']} invalid; the three ways agree on "
          f"{sum(a == b == c for a, b, c in zip(*(r['verdicts'] for r in runs.values())))}"
          f"/{len(rows)} rows")
    for name, run in runs.items():
        print(f"  {name}: {run['seconds']:.2f} s ({run['seconds'] / run['backprop']:.0f}x "
              f"backprop {run['backprop']:.4f} s in the same process)")
    print(f"  ratios: one by one / grade({jobs}) {loop['seconds'] / parallel['seconds']:.1f}x, "
          f"grade(1) / grade({jobs}) {single['seconds'] / parallel['seconds']:.2f}x; "
          f"target < {TARGET_CLASS:.0f} s: "
          f"{'met' if parallel['seconds'] < TARGET_CLASS else 'MISSED'}")

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for claim in (right[0], wrong[0], wrong[6]):
            verify.check_claim(claim, net, wrt="W1", notation="cs229", seed=1)
        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(25)
        print(text.getvalue())


def _child(way: str, n_rows: int, jobs: int) -> None:
    """One way of grading the class, timed in this (fresh) process; JSON on stdout."""
    net = derive.mlp([2, 3, 1], activation="sigmoid", loss="bce")
    backprop = _median(lambda: derive.backprop(net, layout="numerator", form="matrix"), 5)
    rows = submissions(n_rows)
    if way.startswith("grade"):
        seconds, result = _seconds(lambda: verify.grade(rows, net, wrt="W1", notation="cs229",
                                                        jobs=jobs))
        verdicts = [row.verdict for row in result.rows]
    else:
        seconds, verdicts = _seconds(lambda: [
            verify.check_claim(normalise_claim(row["claim"]), net, wrt="W1", notation="cs229")
            for row in rows])
    print(json.dumps({"seconds": seconds, "backprop": backprop,
                      "verdicts": [v.as_dict() for v in verdicts]}))


def _in_fresh_process(way: str, n_rows: int, jobs: int) -> dict:
    command = [sys.executable, __file__, "--child", way, "--rows", str(n_rows),
               "--jobs", str(jobs)]
    done = subprocess.run(command, capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    return json.loads(done.stdout)


if __name__ == "__main__":
    main()
