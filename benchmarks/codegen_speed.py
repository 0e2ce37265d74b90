"""Speed of one gradient evaluation of the generated NumPy code (issue 4, item 7; SPEC §6).

For each network, in one process, on the same data and with the same thread count:

* **generated** — ``gradients(params, X, Y)`` (input check, forward and backward) of the
  module printed by ``derive.codegen.generate_numpy`` and loaded with ``load_source``;
* **NumPy** — a hand-written vectorised pass written fairly (``_mlp_baselines.NumpyMLP``:
  cached forward values, ``Z > 0`` masks, stable softmax, the 1/N folded in once);
* **torch** — PyTorch CPU eager autograd (``torch.autograd.grad``), when torch is installed.

Networks (rows convention, relu hidden layers): 2-3-1 with sigmoid + bce (N = 32),
784-256-128-10 and 784-1024-1024-10 with softmax + cross-entropy (N = 128 and N = 256).

The module is printed from the batch matrix derivation of ``derive.mlp(sizes, ...)``
(``derive.backprop(net, form="matrix", batch=True)``): code generation never writes the network
out weight by weight, so the largest size costs what the smallest does to derive.

First the three gradients are compared (max |difference| over every entry) and the hand-written
pass is checked against central differences along random directions (``verify``), so that every
timing is of a correct pass.  Then the implementations are timed in ``--rounds`` interleaved
rounds (the order rotated every round); times are medians, ratios the median of per-round
ratios (the machine is shared and noisy).  At the largest size the backward pass — the time of
``gradients`` minus that of ``forward``, paired per round — is converted to GFLOP/s (2·m·k·n
per matrix product) and set against NumPy's throughput on the same products, timed alone.
``--lines`` adds the median time of every statement of the generated ``gradients`` and
``_forward`` (the forward equations; ``forward`` checks X and calls it).

Threads: ``--threads`` (default 1) is put into the BLAS/OpenMP environment variables before
NumPy is loaded — which is why this file imports nothing that imports NumPy — and set again
at run time in the OpenBLAS NumPy loaded, read back from it; torch gets ``set_num_threads``
and one inter-op thread.  The script prints what it used.

It prints the targets beside the measured values and asserts nothing: within 1.1x of the
hand-written NumPy; faster than torch eager at every size; the backward pass near NumPy's
matmul throughput at the largest size.

Usage::

    python benchmarks/codegen_speed.py [--threads 1] [--rounds 15] [--dtype float64] [--lines]
                                       [--networks 2-3-1 784-256-128-10 784-1024-1024-10]
"""

from __future__ import annotations

import argparse

import _timing

# name → (sizes n_0..n_L, batch N, activations, loss)
NETWORKS = {
    "2-3-1": ((2, 3, 1), 32, ("relu", "sigmoid"), "bce"),
    "784-256-128-10": ((784, 256, 128, 10), 128, ("relu", "relu", "softmax"), "cross_entropy"),
    "784-1024-1024-10": ((784, 1024, 1024, 10), 256, ("relu", "relu", "softmax"),
                         "cross_entropy"),
}
DTYPES = ("float64", "float32")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS and torch threads for every implementation (default 1)")
    parser.add_argument("--rounds", type=int, default=15,
                        help="interleaved timing rounds; medians over them (default 15)")
    parser.add_argument("--dtype", choices=DTYPES, default="float64",
                        help="precision of the generated module and of the baselines")
    parser.add_argument("--networks", nargs="+", choices=list(NETWORKS), default=list(NETWORKS),
                        metavar="SIZES", help=f"a subset of: {' '.join(NETWORKS)} (the last "
                        "one gets the backward-pass throughput)")
    parser.add_argument("--lines", action="store_true",
                        help="also time every statement of the generated gradients() and "
                             "forward()")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data and parameters")
    args = parser.parse_args(argv)
    if args.threads < 1 or args.rounds < 1:
        parser.error("--threads and --rounds must be at least 1")
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    _timing.limit_threads_in_environment(args.threads)
    import _codegen_speed_run    # imports NumPy: only now that the thread variables are set

    _codegen_speed_run.run(args, {name: NETWORKS[name] for name in args.networks})


if __name__ == "__main__":
    main()
