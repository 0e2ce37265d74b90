"""The measurements and tables of ``codegen_speed.py`` (imported once the thread count is set).

Glossary: gen the generated module; N the batch size; a *round* times every implementation once
(``_timing.interleaved_samples``).
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass, field

import numpy as np

import _timing
import derive
import verify
from _line_times import line_times
from _mlp_baselines import (NumpyMLP, TorchMLP, backward_products, forward_products,
                            matmul_flops, output_layer, product_operands)
from derive.codegen import generate_numpy, load_source

TARGET_NUMPY_RATIO = 1.1
TARGET_TORCH_RATIO = 1.0
# gradients further apart than this, relative to the largest gradient entry, are flagged
AGREEMENT = {"float64": 1e-10, "float32": 1e-4}


@dataclass
class Problem:
    """One network: the generated module, both baselines, one data point, and the timings."""

    name: str
    sizes: tuple
    N: int
    source: str
    module: object
    seconds: float               # to derive, generate and check the module at birth
    numpy_mlp: NumpyMLP
    torch_mlp: TorchMLP | None
    params: dict
    X: np.ndarray
    Y: np.ndarray
    samples: dict = field(default_factory=dict)

    def functions(self, torch) -> dict:
        """The timed callables: generated gradients and forward, NumPy, torch."""
        params, X, Y = self.params, self.X, self.Y
        functions = {"generated": lambda: self.module.gradients(params, X, Y),
                     "numpy": lambda: self.numpy_mlp.gradients(params, X, Y),
                     "forward": lambda: self.module.forward(params, X)}
        if self.torch_mlp is not None:
            leaves, Xt, Yt = self.torch_mlp.leaves(params), torch.from_numpy(X), \
                torch.from_numpy(Y)
            functions["torch"] = lambda: self.torch_mlp.gradients(leaves, Xt, Yt)
        return functions


def make_problem(name, network, dtype: str, seed: int, torch) -> Problem:
    sizes, batch, activations, loss = network
    start = time.perf_counter()
    net = derive.mlp(sizes=list(sizes), activations=list(activations), loss=loss)
    d = derive.backprop(net, form="matrix", batch=True, layout="denominator")
    generated = generate_numpy(d, dtype=dtype, name="mlp_" + name.replace("-", "_"))
    seconds = time.perf_counter() - start
    module = load_source(generated.source, generated.name)
    rng = np.random.default_rng(seed)
    params = module.init_params(rng)
    for key in params:          # biases off zero, so that no gradient sits at a special point
        if key.startswith("b"):
            params[key] = (0.1 * rng.standard_normal(params[key].shape)).astype(dtype)
    X = rng.standard_normal((sizes[0], batch)).astype(dtype)
    if activations[-1] == "softmax":
        Y = np.eye(sizes[-1], dtype=dtype)[:, rng.integers(0, sizes[-1], batch)]
    else:
        Y = rng.integers(0, 2, (sizes[-1], batch)).astype(dtype)
    output = output_layer(activations[-1], loss)
    depth = len(sizes) - 1
    return Problem(name=name, sizes=sizes, N=batch, source=generated.source, module=module,
                   seconds=seconds, numpy_mlp=NumpyMLP(depth, output),
                   torch_mlp=TorchMLP(torch, depth, output) if torch is not None else None,
                   params=params, X=X, Y=Y)


def max_difference(first: dict, second: dict) -> float:
    """max over tensors and entries of |first − second| (compared in float64)."""
    return max(float(np.max(np.abs(np.asarray(first[k], dtype=np.float64) -
                                   np.asarray(second[k], dtype=np.float64)))) for k in first)


def _import_torch(threads: int):
    """torch with its thread pools set, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:        # fixed already by earlier parallel work in this process
        pass
    return torch


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:9.3f}"


def _percent(fraction: float) -> str:
    return "-" if fraction != fraction else f"{fraction:.0%}"       # NaN: too few rounds


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


# --- the report, section by section ---------------------------------------------------------------

def _print_setup(args, torch) -> None:
    blas = _timing.set_numpy_blas_threads(args.threads)
    info = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    print(f"codegen_speed: one gradient evaluation (forward + backward), {args.dtype}, "
          f"{args.rounds} interleaved rounds")
    print(f"  Python {platform.python_version()}, NumPy {np.__version__} ({info.get('name')} "
          f"{info.get('version')}), torch {torch.__version__ if torch else 'not installed'}, "
          f"{os.cpu_count()} CPUs")
    print(f"  threads: NumPy BLAS {args.threads} ({', '.join(_timing.THREAD_VARIABLES)} set "
          f"before NumPy loaded; {blas})")
    if torch is None:
        print("  torch not installed: its columns are skipped (pip install torch==2.13.0 "
              "installs a CPU build)")
    else:
        print(f"  threads: torch intra-op {torch.get_num_threads()}, inter-op "
              f"{torch.get_num_interop_threads()} (torch.set_num_threads({args.threads}))")


def _print_agreement(problems, dtype) -> None:
    print("\ngradients agree? max |difference| over every entry of every tensor (max |g| for "
          "scale);\nthe hand-written NumPy pass checked by central differences along random "
          "directions:")
    print(f"  {'network':<18}{'N':>5}{'derived in':>12}{'max |g|':>10}{'gen - NumPy':>13}"
          f"{'gen - torch':>13}  NumPy vs differences (max rel err)")
    for p in problems:
        ours = p.module.gradients(p.params, p.X, p.Y)
        scale = max(float(np.max(np.abs(g))) for g in ours.values())
        to_numpy = max_difference(ours, p.numpy_mlp.gradients(p.params, p.X, p.Y))
        to_torch = None
        if p.torch_mlp is not None:
            torch = p.torch_mlp.torch
            theirs = p.torch_mlp.gradients(p.torch_mlp.leaves(p.params), torch.from_numpy(p.X),
                                           torch.from_numpy(p.Y))
            to_torch = max_difference(ours, {k: v.detach().numpy() for k, v in theirs.items()})
        report = verify.check_gradients(
            (p.numpy_mlp.loss, p.numpy_mlp.gradients),
            {k: v.astype(np.float64) for k, v in p.params.items()}, p.X.astype(np.float64),
            p.Y.astype(np.float64), mode="directional", seed=0)
        worst = max(row.max_rel_error for row in report.rows)
        torch_text = f"{to_torch:13.1e}" if to_torch is not None else f"{'-':>13}"
        print(f"  {p.name:<18}{p.N:>5}{p.seconds:11.2f}s{scale:10.2e}{to_numpy:13.1e}"
              f"{torch_text}  {report.status} ({worst:.0e})")
        limit = AGREEMENT[dtype] * scale
        if to_numpy > limit or (to_torch is not None and to_torch > limit):
            print(f"  !! {p.name}: gradients differ by more than {limit:.1e}; the times below "
                  "compare different computations")
    print("  (derived in: derive.mlp + derive.backprop + generate_numpy, with its check at "
          "birth)")


def _print_times(problems) -> None:
    print("\none gradient evaluation: median ms; ratios = median over rounds of the per-round "
          "ratio")
    print(f"  {'network':<18}{'N':>5}{'generated':>11}{'NumPy':>11}{'torch':>11}"
          f"{'gen/NumPy':>11}  {'target <= ' + format(TARGET_NUMPY_RATIO, 'g'):<14}"
          f"{'gen/torch':>9}  target < {TARGET_TORCH_RATIO:g}")
    for p in problems:
        s = p.samples
        cells = [_ms(_timing.median(s[k])) if k in s else f"{'-':>9}"
                 for k in ("generated", "numpy", "torch")]
        to_numpy = _timing.paired_ratio(s["generated"], s["numpy"])
        line = (f"  {p.name:<18}{p.N:>5}  {cells[0]}  {cells[1]}  {cells[2]}{to_numpy:10.2f}x  "
                f"{_verdict(to_numpy <= TARGET_NUMPY_RATIO):<14}")
        if "torch" in s:
            to_torch = _timing.paired_ratio(s["generated"], s["torch"])
            line += f"{to_torch:8.2f}x  {_verdict(to_torch < TARGET_TORCH_RATIO)}"
        else:
            line += f"{'-':>9}  torch not installed"
        print(line)
    print("  spread (interquartile range / median): " + "; ".join(
        f"{p.name} " + " ".join(_percent(_timing.spread(p.samples[k]))
                                for k in ("generated", "numpy", "torch") if k in p.samples)
        for p in problems))


def _print_backward(p: Problem) -> None:
    products = backward_products(p.sizes, p.N)
    flops = matmul_flops(products)
    forward_flops = matmul_flops(forward_products(p.sizes, p.N))
    s = p.samples
    backward = _timing.paired_difference(s["generated"], s["forward"])
    matmul = _timing.median(s["numpy matmul"])
    print(f"\nbackward pass of the generated code at {p.name}, N = {p.N}")
    print("  matrix products      " + ", ".join(
        f"{label} ({l[0]}x{l[1]})({r[0]}x{r[1]})" for label, l, r in products))
    print(f"  matmul work          {flops / 1e9:.3f} GFLOP backward, {forward_flops / 1e9:.3f} "
          "GFLOP forward (2mkn per product)")
    print(f"  forward()                          {_ms(_timing.median(s['forward']))} ms")
    print(f"  backward = gradients() - forward() {_ms(backward)} ms  "
          f"{flops / backward / 1e9:6.1f} GFLOP/s")
    print(f"  NumPy: the same products alone     {_ms(matmul)} ms  "
          f"{flops / matmul / 1e9:6.1f} GFLOP/s  (this machine's matmul throughput)")
    if "torch matmul" in s:
        seconds = _timing.median(s["torch matmul"])
        print(f"  torch: the same products alone     {_ms(seconds)} ms  "
              f"{flops / seconds / 1e9:6.1f} GFLOP/s  (torch's own BLAS, for context)")
    print(f"  backward / NumPy matmul throughput: {matmul / backward:.0%} (target: near 100 %; "
          "the rest is elementwise work and memory traffic)")
    whole = (flops + forward_flops) / _timing.median(s["generated"])
    print(f"  whole gradients() call: {whole / 1e9:.1f} GFLOP/s of matmul work")


def _print_lines(problems) -> None:
    print("\nmedian time of each statement of the generated code")
    for p in problems:
        calls = max(5, min(2000, int(1.0 / _timing.median(p.samples["generated"]))))
        # _forward holds the forward equations (forward checks X, then calls it).
        for function, arguments in ((p.module.gradients, (p.params, p.X, p.Y)),
                                    (p.module._forward, (p.params, p.X))):
            rows = line_times(function, arguments, calls, source=p.source)
            total = sum(seconds for seconds, _ in rows)
            print(f"  {p.name} {function.__name__}(): {total * 1e6:.1f} µs over {calls} calls")
            for seconds, line in rows:
                print(f"    {seconds * 1e6:10.1f} µs {seconds / total:4.0%}  {line.strip()}")


def run(args, networks: dict) -> None:
    """Print every table of the benchmark for ``networks`` (name → (sizes, N, activations,
    loss)); the last network gets the backward-pass throughput."""
    torch = _import_torch(args.threads)
    _print_setup(args, torch)
    problems = [make_problem(name, network, args.dtype, args.seed, torch)
                for name, network in networks.items()]
    _print_agreement(problems, args.dtype)
    largest = problems[-1]
    for p in problems:
        functions = p.functions(torch)
        if p is largest:
            operands = product_operands(backward_products(p.sizes, p.N), np.dtype(args.dtype),
                                        np.random.default_rng(args.seed + 1))
            functions["numpy matmul"] = lambda: [a @ b for a, b in operands]
            if torch is not None:
                pairs = [(torch.from_numpy(a), torch.from_numpy(b)) for a, b in operands]
                functions["torch matmul"] = lambda: [a @ b for a, b in pairs]
        p.samples = _timing.interleaved_samples(functions, args.rounds)
    _print_times(problems)
    _print_backward(largest)
    if args.lines:
        _print_lines(problems)
