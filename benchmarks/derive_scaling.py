"""How the concrete-size backprop derivation scales, against two baselines (issue 2, item 10).

Prints two tables (it asserts nothing):

1. Derivation time of every gradient of an MLP (sigmoid layers, bce, rows convention) for
   growing sizes, for

   * **ours** — ``derive.backprop(derive.mlp(sizes))``: the Ensimag per-neuron derivation with every step,
     checked against the matrix-form engine,
     rule and check it records (P-form, B-form checked against it, fused output signal);
   * **chain** — a per-layer Jacobian chain: each layer's Jacobians ∂f^j/∂a^{j-1} and
     ∂f^j/∂θ^j by ``Matrix.jacobian`` on that layer's own expressions, then the row signal
     g^j = g^{j+1} ∂f^j/∂a^{j-1} and ∇θ^j = [g^{j+1} ∂f^j/∂θ^j]ᵀ by dense ``Matrix`` products,
     each g^j a row of fresh symbols (no steps, no checks);
   * **naive** — ``Network.composed_cost()`` (the whole loss as one SymPy expression) and
     ``sympy.diff`` per parameter.

   Each run starts with SymPy's cache cleared and runs in a forked worker that is killed after
   ``--timeout`` seconds (printed ``>T``).  "ours" and "chain" show the median of ``--repeat``
   runs; "naive" one run, and it is not attempted again at sizes above one where it timed out.
   The time covers building the network and deriving every gradient expression.

2. ``PerNeuronDerivation.evaluate`` on a batch of N = 32 samples against a hand-written NumPy
   forward/backward pass: the first call (which compiles the straight-line program), the
   median of later calls, and the largest difference between the two gradients.

Usage::

    python benchmarks/derive_scaling.py [--sizes 2-3-1 4-4-4-1 ...] [--timeout 60] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import statistics
import sys
import time

import numpy as np
import sympy as sp
from sympy.core.cache import clear_cache

import derive

DEFAULT_SIZES = ["2-3-1", "4-4-4-1", "8-8-8-1", "16-16-16-1", "32-32-32-1"]
ACTIVATION, LOSS, CONVENTION = "sigmoid", "bce", "rows"


def network(sizes):
    return derive.mlp(sizes, activation=ACTIVATION, loss=LOSS, convention=CONVENTION)


# --- the three ways to get every gradient -------------------------------------------------------

def ours(sizes):
    """All gradients by the Ensimag per-neuron derivation; name → Matrix over intermediate symbols."""
    return derive.backprop(network(sizes)).gradients


def naive(sizes):
    """All gradients by sympy.diff of the composed per-sample cost; name → Matrix."""
    net = network(sizes).explicit()
    cost = net.composed_cost()
    return {name: symbols.applyfunc(lambda theta: sp.diff(cost, theta))
            for name, symbols in net.params().items()}


def chain(sizes):
    """All gradients by a per-layer Jacobian chain with dense SymPy matrices.

    Returns name → Matrix over the activations ``a{j}_i`` and the symbols ``G{j}_i`` of the
    row signals, and the straight-line program that defines them ((symbol, value) pairs).
    """
    net = network(sizes).explicit()
    output = net.layers[-1]
    g = sp.Matrix([[net.cost()]]).jacobian(output.a)             # ∂C/∂a^L, 1 × n_L
    outputs = {layer.index: layer.output() for layer in net.layers}   # Φ(ψ) over fresh inputs
    definitions = [(a, value) for layer in net.layers
                   for a, value in zip(layer.a, outputs[layer.index])]   # the forward pass
    gradients = {}
    for layer in reversed(net.layers):
        f = outputs[layer.index]
        symbols = sp.Matrix(1, layer.n_out, [sp.Symbol(f"G{layer.index + 1}_{i + 1}", real=True)
                                             for i in range(layer.n_out)])
        definitions += list(zip(symbols, g))
        for name, theta in layer.params().items():
            flat = list(theta)
            row = symbols * f.jacobian(flat)                     # ∂C/∂θ, 1 × |θ|
            gradients[name] = sp.Matrix(theta.rows, theta.cols, list(row))
        g = symbols * f.jacobian(layer.inputs)                   # ∂C/∂a^{j-1}
    return gradients, definitions


APPROACHES = {"ours": ours, "chain": chain, "naive": naive}


# --- timing in killable workers -----------------------------------------------------------------

def _worker(approach, sizes, repeat, connection):
    gc.freeze()                                # the parent's objects are not this run's garbage
    times = []
    for _ in range(repeat):
        clear_cache()
        gc.collect()
        start = time.perf_counter()
        APPROACHES[approach](sizes)
        times.append(time.perf_counter() - start)
        connection.send(times)                 # what is done so far survives a kill
    connection.close()


def timed(approach, sizes, repeat, timeout):
    """Median time of ``repeat`` runs in a forked worker, or None when the first run did not
    finish within ``timeout`` seconds (the worker is then terminated)."""
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    receive, send = context.Pipe(duplex=False)
    worker = context.Process(target=_worker, args=(approach, sizes, repeat, send), daemon=True)
    worker.start()
    send.close()
    deadline = time.monotonic() + timeout * repeat
    times, timed_out = [], False
    while len(times) < repeat:
        remaining = timeout if not times else deadline - time.monotonic()
        if remaining <= 0 or not receive.poll(remaining):
            timed_out = True
            break
        try:
            times = receive.recv()
        except EOFError:                       # the worker died: its traceback is above
            break
    if worker.is_alive():
        worker.terminate()
    worker.join()
    if not times and not timed_out:
        raise RuntimeError(f"{approach} failed for sizes {sizes}")
    return statistics.median(times) if times else None


# --- checks that the baselines compute the same gradients ----------------------------------------

def _point(net, rng):
    return {s: float(v) for s, v in zip(
        sorted(net.composed_cost().free_symbols, key=sp.default_sort_key),
        rng.uniform(0.05, 0.95, size=10_000))}


def baselines_agree(sizes) -> float:
    """Largest difference between the three approaches' gradients at a random point."""
    net = network(sizes)
    point = _point(net.explicit(), np.random.default_rng(0))
    d = derive.backprop(net)
    mine = {name: d.gradient(name, explicit=True).xreplace(point) for name in d.gradients}
    direct = {name: m.xreplace(point) for name, m in naive(sizes).items()}
    chained, definitions = chain(sizes)
    values = dict(point)
    for symbol, value in definitions:
        values[symbol] = value.xreplace(values)
    worst = 0.0
    for name in mine:
        for a, b, c in zip(mine[name], direct[name], chained[name].xreplace(values)):
            worst = max(worst, abs(float(a) - float(b)), abs(float(a) - float(c)))
    return worst


# --- evaluate against hand-written NumPy ---------------------------------------------------------

def numpy_gradients(params, X, Y, depth):
    """Forward and backward pass of the sigmoid/bce/rows MLP, by hand (mean over the batch)."""
    N = X.shape[1]
    activations = [X]
    for j in range(1, depth + 1):
        z = params[f"W{j}"] @ activations[-1] + params[f"b{j}"]
        activations.append(1 / (1 + np.exp(-z)))
    delta = (activations[-1] - Y) / N                           # σ + bce: ∂E/∂z^L
    grads = {}
    for j in range(depth, 0, -1):
        grads[f"W{j}"] = delta @ activations[j - 1].T
        grads[f"b{j}"] = delta.sum(axis=1, keepdims=True)
        if j > 1:
            a = activations[j - 1]
            delta = (params[f"W{j}"].T @ delta) * a * (1 - a)
    return grads


def _median_seconds(function, calls):
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def evaluate_row(sizes, N=32, calls=20):
    net = network(sizes)
    d = derive.backprop(net)
    rng = np.random.default_rng(1)
    params = {name: rng.normal(size=shape) for name, shape in net.param_shapes().items()}
    X = rng.normal(size=(sizes[0], N))
    Y = rng.uniform(0.05, 0.95, size=(sizes[-1], N))
    start = time.perf_counter()
    mine = d.evaluate(params, X, Y)
    first = time.perf_counter() - start
    later = _median_seconds(lambda: d.evaluate(params, X, Y), calls)
    by_hand = _median_seconds(lambda: numpy_gradients(params, X, Y, net.depth), calls * 10)
    reference = numpy_gradients(params, X, Y, net.depth)
    difference = max(float(np.max(np.abs(mine[n] - reference[n]))) for n in reference)
    return first, later, by_hand, difference


# --- the tables ----------------------------------------------------------------------------------

def _seconds(value, timeout):
    return f">{timeout:g}" if value is None else f"{value:.3f}"


def _ratio(other, mine, timeout):
    if mine is None:
        return "-"
    if other is None:
        return f">{timeout / mine:.0f}x"
    return f"{other / mine:.1f}x"


CHECK_LIMIT = 60              # parameters: the agreement check runs naive without a timeout


def _weights(sizes):
    return sum((n_in + 1) * n_out for n_in, n_out in zip(sizes, sizes[1:]))


def _print_targets(measured, timeout):
    """The issue's targets next to what was measured (printed, not asserted).

    ``measured`` maps sizes → (our median seconds or None, the naive/ours ratio as printed).
    """
    lines = []
    if (16, 16, 16, 1) in measured:
        mine = measured[(16, 16, 16, 1)][0]
        lines.append(f"all gradients of 16-16-16-1 in under 1 s: {_seconds(mine, timeout)} s")
    if (8, 8, 8, 1) in measured:
        lines.append(f"at least 100x faster than naive at 8-8-8-1: {measured[(8, 8, 8, 1)][1]}")
    for line in lines:
        print("target: " + line)


def parse_sizes(text):
    try:
        sizes = [int(n) for n in text.replace(",", "-").split("-")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"sizes {text!r} must look like 16-16-16-1") from None
    if len(sizes) < 2 or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"sizes {text!r}: at least two sizes, each >= 1")
    return sizes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", type=parse_sizes,
                        default=[parse_sizes(s) for s in DEFAULT_SIZES])
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds a single run may take (default 60)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of ours and chain per size; the median is shown (default 3)")
    parser.add_argument("--batch", type=int, default=32, help="N for the evaluate table")
    args = parser.parse_args(argv)
    T = args.timeout

    print(f"Derivation of every gradient: {ACTIVATION} layers, {LOSS} loss, {CONVENTION} "
          f"convention; SymPy {sp.__version__}, Python {sys.version.split()[0]};")
    print(f"cache cleared before each run; timeout {T:g} s; median of {args.repeat} runs "
          "(naive: one run)")
    smallest = min(args.sizes, key=lambda sizes: (_weights(sizes), sizes))
    if _weights(smallest) <= CHECK_LIMIT:
        agreement = baselines_agree(smallest)
        print(f"(check: at a random point of {'-'.join(map(str, smallest))} the three "
              f"approaches' gradients differ by at most {agreement:.1e})")
    print()
    header = (f"{'sizes':<14}{'ours [s]':>10}{'chain [s]':>11}{'naive [s]':>11}"
              f"{'naive/ours':>12}{'chain/ours':>12}")
    print(header)
    print("-" * len(header))
    naive_gave_up, measured = False, {}
    for sizes in args.sizes:
        mine = timed("ours", sizes, args.repeat, T)
        chained = timed("chain", sizes, args.repeat, T)
        if naive_gave_up:
            direct, direct_text, ratio_text = None, "not run", "-"
        else:
            direct = timed("naive", sizes, 1, T)
            naive_gave_up = direct is None
            direct_text, ratio_text = _seconds(direct, T), _ratio(direct, mine, T)
        measured[tuple(sizes)] = (mine, ratio_text)
        print(f"{'-'.join(map(str, sizes)):<14}{_seconds(mine, T):>10}"
              f"{_seconds(chained, T):>11}{direct_text:>11}{ratio_text:>12}"
              f"{_ratio(chained, mine, T):>12}", flush=True)
    print("(naive is not run above a size where it timed out; >Nx: at least N times faster)")
    _print_targets(measured, T)

    print()
    print(f"PerNeuronDerivation.evaluate on N = {args.batch} samples vs a hand-written NumPy "
          "forward/backward pass (median of repeated calls)")
    print()
    header = (f"{'sizes':<14}{'first call [s]':>16}{'later [ms]':>12}{'numpy [ms]':>12}"
              f"{'later/numpy':>13}{'max |diff|':>12}")
    print(header)
    print("-" * len(header))
    evaluate_row([1, 1], N=2, calls=1)         # imports NumPy's lambdify namespace once
    for sizes in args.sizes:
        first, later, by_hand, difference = evaluate_row(sizes, N=args.batch)
        print(f"{'-'.join(map(str, sizes)):<14}{first:>16.3f}{later * 1e3:>12.3f}"
              f"{by_hand * 1e3:>12.3f}{later / by_hand:>12.0f}x{difference:>12.1e}", flush=True)
    print("(first call: builds and compiles the straight-line program; later calls reuse it)")


if __name__ == "__main__":
    main()
