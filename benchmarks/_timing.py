"""Thread control and noise-resistant timing for the benchmarks.

The machine is shared and noisy, so the implementations being compared are timed in interleaved
rounds (each round times every implementation once, in a rotated order) and compared through
per-round ratios: a slow spell hits every implementation of that round alike.

Glossary: a *sample* is the mean time of ``loops`` back-to-back calls; a *round* holds one
sample of every implementation.
"""

from __future__ import annotations

import ctypes
import gc
import math
import os
import statistics
import time
from typing import Callable

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
# getter and setter of the OpenBLAS thread count, under the names OpenBLAS builds export them
# (plain, 64-bit-integer suffix, and the scipy-openblas wheels NumPy ships with)
_OPENBLAS_GETTERS = ("openblas_get_num_threads", "openblas_get_num_threads64_",
                     "scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads")
_OPENBLAS_SETTERS = ("openblas_set_num_threads", "openblas_set_num_threads64_",
                     "scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads")


def limit_threads_in_environment(threads: int) -> None:
    """Set the BLAS/OpenMP thread variables; effective for libraries loaded after this call."""
    for variable in THREAD_VARIABLES:
        os.environ[variable] = str(threads)


def _loaded_openblas() -> list[str]:
    """Paths of the OpenBLAS libraries mapped into this process (Linux /proc; else none)."""
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return []
    return sorted(path for path in paths if path.startswith("/"))


def _first_function(library, names):
    for name in names:
        if hasattr(library, name):
            return name, getattr(library, name)
    return None, None


def set_numpy_blas_threads(threads: int) -> str:
    """Set the thread count of the OpenBLAS NumPy has loaded and say what it reports.

    Parameters
    ----------
    threads : int
        Wanted BLAS threads.

    Returns
    -------
    str
        One line: the library and the thread count it reports after the call, or why the count
        could not be read (then only the environment variables set before the import apply).
    """
    import numpy  # noqa: F401  (loads the BLAS library, so that it is mapped)

    for path in _loaded_openblas():
        library = ctypes.CDLL(path)
        _, setter = _first_function(library, _OPENBLAS_SETTERS)
        getter_name, getter = _first_function(library, _OPENBLAS_GETTERS)
        if setter is None or getter is None:
            continue
        setter(ctypes.c_int(threads))
        getter.restype = ctypes.c_int
        return (f"OpenBLAS ({os.path.basename(path)}) reports {getter()} thread(s) "
                f"via {getter_name}")
    return (f"no OpenBLAS found in this process; {', '.join(THREAD_VARIABLES)} = {threads} "
            "were set before NumPy was imported")


def _timed(function: Callable[[], object], loops: int) -> float:
    """Mean seconds per call over ``loops`` calls, with the garbage collector off (as timeit)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(loops):
            function()
        return (time.perf_counter() - start) / loops
    finally:
        if collecting:
            gc.enable()


def interleaved_samples(functions: dict[str, Callable[[], object]], rounds: int,
                        min_sample_seconds: float = 0.05) -> dict[str, list[float]]:
    """Seconds per call of each function, one sample per round, rounds interleaved.

    Parameters
    ----------
    functions : dict name -> callable
        The implementations, called without arguments.
    rounds : int
        Samples per function.
    min_sample_seconds : float
        Each sample repeats its call until it lasts about this long (calibrated once, after a
        warm-up call), so that fast functions are not measured at the clock's resolution.

    Returns
    -------
    dict name -> list of float
        ``samples[name][r]`` is the mean seconds per call in round r; the same r of two names
        were measured moments apart.
    """
    loops = {}
    for name, function in functions.items():
        function()
        first = _timed(function, 1)
        loops[name] = max(1, min(100_000, math.ceil(min_sample_seconds / max(first, 1e-7))))
    names = list(functions)
    samples = {name: [] for name in names}
    for r in range(rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(_timed(functions[name], loops[name]))
    return samples


def median(values) -> float:
    return statistics.median(values)


def paired_ratio(numerator: list[float], denominator: list[float]) -> float:
    """Median over rounds of numerator[r] / denominator[r]."""
    return statistics.median(a / b for a, b in zip(numerator, denominator))


def paired_difference(minuend: list[float], subtrahend: list[float]) -> float:
    """Median over rounds of minuend[r] - subtrahend[r]."""
    return statistics.median(a - b for a, b in zip(minuend, subtrahend))


def spread(values: list[float]) -> float:
    """Interquartile range relative to the median (0.1 = the middle half lies within 10 %)."""
    if len(values) < 4:
        return float("nan")
    q1, _, q3 = statistics.quantiles(values, n=4)
    return (q3 - q1) / statistics.median(values)
