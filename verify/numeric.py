"""Finite-difference checks of gradient modules (SPEC §7): every coordinate, or random directions.

A *gradient module* exposes ``loss(params, X, Y) -> float`` and ``gradients(params, X, Y) ->
dict`` (same keys and shapes as ``params``); usually also ``PARAM_SHAPES``,
``init_params(rng=None)`` and ``forward(params, X)`` (SPEC §6).  X is n_0 × N (samples as
columns), Y is n_L × N.  :func:`check_gradients` compares ``gradients`` with central differences
of ``loss`` and returns a :class:`~verify.report.GradientReport`; it takes an imported module,
any object or dict with those functions, a ``(loss, gradients)`` pair, or the path of a ``.py``
file (:func:`load_module`).

The rules, as the report states them:

* **step** — h = ε^(1/3)·max(1, |θ_i|) per coordinate (ε the machine epsilon of the precision
  the loss is differenced in); along a unit direction u, h = ε^(1/3)·max(1, max|θ|) over the
  tensor.  ε^(1/3) balances the O(h²) truncation error of central differences against the
  O(ε/h) rounding error.
* **comparison** — rel = |a − n| / max(|a|, |n|, tiny) must be ≤ rtol (1e-6 for float64 code,
  1e-4 for float32 code against float64 differences, 1e-3 against float32 ones).
  tiny = atol/rtol, atol = η/h the rounding noise of the difference quotient, η = 32·ε·max|L|
  the rounding noise of one loss value (plus, for float32 code, the rounding noise of the
  analytic gradient, 32·ε₃₂·max|g|): entries within the noise are compared absolutely.  When
  the first quotient disagrees, the half-step quotient and the Richardson extrapolation (4·n(h/2) − n(h))/3 are tried before calling it a disagreement.
* **kinks** — from the five values L(θ + t·e), t ∈ {−h, −h/2, 0, h/2, h}, the four slopes of the
  sub-intervals are formed; a smooth function changes slope evenly (the three slope increments
  agree to O(h²)), a kink or jump inside the step puts its whole slope change into one or two
  sub-intervals.  When the increments spread by more than their noise and by more than half the
  disagreement or half the largest increment (the slope change is concentrated), the entry is
  *at a kink*.  Every disagreeing entry is re-drawn at a slightly
  perturbed point θ + δ (δ_i = 16·2^(r−1)·h_i·N(0, 1), the gradient recomputed there; a new
  random direction in directional mode), up to ``redraws`` times.  It is a mismatch when it
  disagrees at a point where the slope test sees no kink and never agrees at a re-drawn point;
  an entry that straddles a kink at every point tried is *non-differentiable here*, never a
  failure.
* **which entries** — in directional mode a disagreeing tensor is narrowed to one coordinate by
  bisection: the direction is split into two halves of its entries, the half with the larger
  disagreement is kept, down to one entry, which is then checked as a coordinate (about
  4·log₂(size) loss evaluations, only for a failing tensor).
* **zeros** — an entry whose analytic value and central difference are both exactly 0 compares
  nothing.  A tensor that has only such entries at the point (a dead relu, a flat loss) is
  checked again, with its kinks and re-draws, at a *fresh point* — new params (by
  ``init_params`` or the parameter shapes; else the input params plus noise) whose entries
  that are exactly 0 (zero biases) are drawn N(0, 0.5²), a new batch X, Y drawn again in its
  domain — up to ``fresh_points`` times, from the same seeded generator.  A tensor that stays
  0 at every point is *uninformative*: not a failure (an unused parameter, a step network),
  but said in the headline, the table and the notes.
* **float32 code** — detected from the dtype of the given parameters, of the gradients, of the
  loss, or a module attribute ``DTYPE``.  The input point is rounded to float32 so both sides
  see the same numbers.  The float32 gradients are compared with float64 central differences:
  of the loss itself when it resolves float64 inputs (probed near the point, without the
  analytic gradient), else of its *float64 twin* — the loss rebound to a copy of its module's
  namespace with ``DTYPE = np.float64`` (the module's functions rebound too), accepted when its
  loss agrees with the float32 one and resolves float64 inputs (or, where the loss is flat,
  when the twin's gradients come out in float64).  Without a twin (no module-level ``DTYPE``)
  the loss is differenced in float32 with the float32 step, rtol 1e-3, and the report calls
  that check weaker.

Glossary: θ the parameters, L the loss, a analytic, n numeric, h the step, e a coordinate
vector or unit direction, η the rounding noise of one loss value.

>>> import numpy as np
>>> loss = lambda p, X, Y: float(np.sum(p["W"] ** 2))
>>> grad = lambda p, X, Y: {"W": 2 * p["W"]}
>>> report = check_gradients((loss, grad), {"W": np.arange(6.0).reshape(2, 3)}, np.zeros((3, 1)),
...                          np.zeros((1, 1)))
>>> report.status, report.rows[0].mode, report.rows[0].checked
('verified', 'full', 6)
"""

from __future__ import annotations

import inspect
import os
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import numpy as np

from derive.errors import BadInput

from .report import Failure, GradientReport, TensorRow

#: rtol per precision of the checked code, against float64 central differences (of its own
#: loss when that resolves float64 inputs, else of its float64 twin); others get 3·sqrt(ε).
#: Correct float32 modules stay below 1e-5 (benchmarked on generated networks up to 40-40-40-3
#: and 784-256-10): the float32 rounding of the analytic side.
RTOL = {np.dtype(np.float64): 1e-6, np.dtype(np.float32): 1e-4}
#: rtol when no float64 differences can be had: the loss differenced in its own precision.
RTOL_OWN_PRECISION = {np.dtype(np.float32): 1e-3}
#: The float64 twin's loss must agree with the float32 loss to this (relative to max(1, |L|)).
TWIN_AGREEMENT = 1e-3
#: Fresh points drawn, at most, for tensors whose gradient entries and differences were all
#: exactly 0 (nothing compared); and the scale of the N(0, s²) entries drawn there.
FRESH_POINTS = 5
FRESH_SCALE = 0.5
#: η = NOISE_FACTOR·ε·max|L|: the rounding noise assumed for one loss value.
NOISE_FACTOR = 32
#: "auto" mode checks every coordinate up to this many parameters in all.
FULL_LIMIT = 2000
#: Random unit directions per tensor in directional mode.
DIRECTIONS = 4
#: Re-draws (perturbed point, new direction) for an entry that disagrees.
REDRAWS = 3
#: Samples in a drawn batch.
BATCH = 5
#: Failures kept per tensor in the report.
MAX_FAILURES = 10
#: The kink test: slope increments spread by more than this fraction of the disagreement or of
#: the largest increment.
KINK_FRACTION = 0.5

TARGET_DOMAINS = ("real", "binary", "sign", "simplex")
MODES = ("auto", "full", "directional")


class Unusable(BadInput):
    """The module cannot be checked; the message names the problem in one line."""


@dataclass
class _Functions:
    loss: Callable
    gradients: Callable
    forward: Callable | None = None
    init_params: Callable | None = None
    param_shapes: dict | None = None
    sizes: tuple | None = None
    targets: str | None = None
    targets_from: str = "module TARGETS"
    loss_name: str | None = None
    dtype: np.dtype | None = None
    name: str = "module"


# --- public API -------------------------------------------------------------------------------

def check_gradients(module_or_functions: Any, params: dict | None = None,
                    X: np.ndarray | None = None, Y: np.ndarray | None = None, *,
                    mode: str = "auto", spec=None, targets: str | None = None,
                    seed: int | None = 0, rng: np.random.Generator | None = None,
                    directions: int = DIRECTIONS, redraws: int = REDRAWS, batch: int = BATCH,
                    full_limit: int = FULL_LIMIT, rtol: float | None = None, sizes=None,
                    param_shapes: dict | None = None, name: str | None = None,
                    fresh_points: int = FRESH_POINTS) -> GradientReport:
    """Compare a module's ``gradients`` with central differences of its ``loss``.

    Parameters
    ----------
    module_or_functions : module, path, object, dict or (loss, gradients) tuple
        Anything with ``loss(params, X, Y)`` and ``gradients(params, X, Y)``; optionally
        ``PARAM_SHAPES``, ``init_params(rng=None)``, ``forward(params, X)``, ``SIZES``,
        ``TARGETS``, ``LOSS`` (a registry name) and ``DTYPE``.  A ``str`` or ``Path`` is a
        ``.py`` file, loaded with :func:`load_module`.
    params : dict name -> ndarray, optional
        The point θ.  Drawn with ``init_params`` (seeded), else from ``PARAM_SHAPES`` or the
        spec's shapes, if omitted.
    X, Y : ndarray, optional
        n_0 × N inputs and n_L × N targets.  Drawn if omitted: X standard normal (N =
        ``batch``), Y in the target domain (``targets``; else the spec's loss; else the
        module's ``TARGETS``/``LOSS``; else inferred from the range of ``forward``'s output:
        columns summing to 1 → simplex (one-hot), values in (0, 1) → binary, otherwise real).
    mode : {"auto", "full", "directional"}
        ``full`` differences every coordinate; ``directional`` compares gᵀu with
        (L(θ + hu) − L(θ − hu))/2h for ``directions`` random unit directions u per tensor (cost
        independent of the parameter count); ``auto`` is ``full`` up to ``full_limit``
        parameters in all, else ``directional``.
    spec : derive.network.Network, dict or path of a TOML spec, optional
        The network the module implements: its sizes, parameter shapes and target domain.
    targets : {"real", "binary", "sign", "simplex"}, optional
    seed, rng
        Randomness for drawn points, directions and re-draws (``rng`` wins when given).
    redraws : int
        Re-draws at perturbed points allowed for a disagreeing entry.
    fresh_points : int
        Fresh points drawn, at most, for tensors whose gradient entries and differences are
        all exactly 0 at the point (0: none; such a tensor is then reported uninformative).
    rtol : float, optional
        Overrides the precision's threshold (1e-6 float64; float32: 1e-4 against float64
        differences, 1e-3 against float32 ones).
    sizes : sequence of int, optional
        Layer sizes (n_0, …, n_L), for drawing X and Y.
    param_shapes : dict, optional
        Parameter shapes, when the module has no ``PARAM_SHAPES``.

    Returns
    -------
    GradientReport
        ``.status`` "verified" | "mismatch" | "unusable"; a faulty module never raises.
        ``.uninformative`` names the tensors that were 0 at every point drawn.

    Raises
    ------
    derive.errors.BadInput
        For a bad ``spec`` (the checker's own input, not the module's fault), and a ``ValueError``
        for an unknown ``mode`` or ``targets``.

    Examples
    --------
    >>> import numpy as np
    >>> loss = lambda p, X, Y: float(np.sum(np.sin(p["w"])))
    >>> wrong = lambda p, X, Y: {"w": np.sin(p["w"])}
    >>> report = check_gradients((loss, wrong), {"w": np.ones((2, 1))}, np.zeros((1, 1)),
    ...                          np.zeros((1, 1)))
    >>> report.status, report.failures[0].label()
    ('mismatch', 'w[0, 0]')
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; known: {', '.join(MODES)}")
    if targets is not None and targets not in TARGET_DOMAINS:
        raise ValueError(f"unknown targets {targets!r}; known: {', '.join(TARGET_DOMAINS)}")
    rng = rng if rng is not None else np.random.default_rng(seed)
    network = _network_facts(spec)
    label = name or _name_of(module_or_functions)
    try:
        if isinstance(module_or_functions, (str, os.PathLike)):
            module_or_functions = load_module(module_or_functions)
        functions = _functions(module_or_functions, label)
        if network is not None:
            _apply_network(functions, *network)
        if param_shapes is not None:
            functions.param_shapes = {k: tuple(v) for k, v in param_shapes.items()}
        if sizes is not None:
            functions.sizes = tuple(sizes)
        if targets is not None:
            functions.targets, functions.targets_from = targets, "given"
        checker = _Checker(functions, rng, mode=mode, directions=directions, redraws=redraws,
                           full_limit=full_limit, rtol=rtol, fresh_points=fresh_points)
        checker.prepare(params, X, Y, batch, seed)
        return checker.run()
    except Unusable as exc:
        message = str(exc) if exc.where else f"{label}: {exc}"
        return GradientReport(status="unusable", message=message, name=label)


def load_module(path: str | os.PathLike) -> ModuleType:
    """Import a ``.py`` file as a fresh module object (not registered in ``sys.modules``).

    Raises
    ------
    Unusable
        The file is missing or unreadable, does not parse (file:line named), or raises while
        it is imported; the message is one line.

    >>> load_module("no/such/module.py")
    Traceback (most recent call last):
    ...
    verify.numeric.Unusable: no/such/module.py: no such file
    """
    path = Path(path)
    if not path.is_file():
        raise Unusable("no such file" if not path.exists() else "not a file", str(path))
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise Unusable(f"cannot read it: {_one_line(exc)}", str(path)) from None
    try:
        code = compile(source, str(path), "exec")
    except SyntaxError as exc:
        raise Unusable(f"syntax error: {exc.msg}", f"{path}:{exc.lineno}") from None
    module_name = f"_verify_module_{len(sys.modules)}_{path.stem}"
    module = ModuleType(module_name)
    module.__file__ = str(path)
    # Registered while it executes, so that dataclasses inside it can find their module.
    sys.modules[module_name] = module
    try:
        exec(code, module.__dict__)
    except BaseException as exc:  # noqa: BLE001 - a module calling sys.exit is unusable too
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise Unusable(f"importing it raised {_one_line(exc)}", str(path)) from None
    finally:
        if sys.modules.get(module_name) is module:
            del sys.modules[module_name]
    return module


def draw_targets(domain: str, shape: tuple, rng) -> np.ndarray:
    """Targets in a domain of :data:`derive.losses.TARGETS`; simplex targets are one-hot.

    >>> draw_targets("sign", (1, 4), np.random.default_rng(0))
    array([[ 1.,  1.,  1., -1.]])
    """
    if domain == "real":
        return rng.standard_normal(shape)
    if domain == "binary":
        return rng.integers(0, 2, size=shape).astype(float)
    if domain == "sign":
        return rng.choice([-1.0, 1.0], size=shape)
    if domain == "simplex":
        labels = rng.integers(0, shape[0], size=shape[1])
        out = np.zeros(shape)
        out[labels, np.arange(shape[1])] = 1.0
        return out
    raise ValueError(f"unknown targets {domain!r}; known: {', '.join(TARGET_DOMAINS)}")


# --- the module ---------------------------------------------------------------------------------

def _name_of(obj) -> str:
    if isinstance(obj, (str, os.PathLike)):
        return os.path.basename(os.fspath(obj))
    if isinstance(obj, (tuple, list)):
        return "functions"
    file = getattr(obj, "__file__", None)
    if file:
        return os.path.basename(file)
    return getattr(obj, "__name__", type(obj).__name__)


def _network_facts(spec):
    """(sizes, target domain, parameter shapes) of a spec, or None."""
    if spec is None:
        return None
    if not hasattr(spec, "loss"):
        from derive.spec import load_spec
        spec = load_spec(spec)
    sizes = tuple(getattr(spec, "sizes", ()))
    if not sizes or not all(isinstance(n, int) for n in sizes) or \
            not hasattr(spec, "param_shapes"):
        raise BadInput("the spec has symbolic sizes or depth; checking code needs integer "
                       "sizes", "--spec")
    return sizes, spec.loss, dict(spec.param_shapes())


def _apply_network(functions: _Functions, sizes, loss, shapes) -> None:
    if functions.param_shapes is not None and functions.param_shapes != shapes:
        raise Unusable(f"PARAM_SHAPES {_shapes_text(functions.param_shapes)} differ from the "
                       f"spec's {_shapes_text(shapes)}")
    functions.param_shapes = shapes
    functions.sizes = sizes
    functions.targets, functions.targets_from = loss.targets, f"the spec's loss {loss.name!r}"


def _shapes_text(shapes: dict) -> str:
    return "{" + ", ".join(f"{k}: {'x'.join(map(str, v))}" for k, v in shapes.items()) + "}"


def _functions(obj, label: str) -> _Functions:
    if isinstance(obj, (tuple, list)):
        if len(obj) != 2 or not all(callable(f) for f in obj):
            raise Unusable("expected a (loss, gradients) pair of functions")
        return _Functions(loss=obj[0], gradients=obj[1], name=label)
    get = (lambda key: obj.get(key)) if isinstance(obj, dict) else \
        (lambda key: getattr(obj, key, None))
    missing = [f for f in ("loss", "gradients") if not callable(get(f))]
    if missing:
        raise Unusable("no function "
                       f"{' and no function '.join(f'{f}(params, X, Y)' for f in missing)}")
    shapes = get("PARAM_SHAPES")
    if shapes is not None:
        try:
            shapes = {str(k): tuple(int(n) for n in v) for k, v in dict(shapes).items()}
        except (TypeError, ValueError):
            raise Unusable("PARAM_SHAPES is not a dict name -> shape") from None
    dtype = get("DTYPE")
    try:
        dtype = np.dtype(dtype) if dtype is not None else None
    except TypeError:
        dtype = None
    sizes = get("SIZES")
    optional = {f: get(f) if callable(get(f)) else None for f in ("forward", "init_params")}
    return _Functions(loss=get("loss"), gradients=get("gradients"), param_shapes=shapes,
                      sizes=tuple(sizes) if isinstance(sizes, (list, tuple)) else None,
                      targets=get("TARGETS") if get("TARGETS") in TARGET_DOMAINS else None,
                      loss_name=get("LOSS") if isinstance(get("LOSS"), str) else None,
                      dtype=dtype if dtype is not None and dtype.kind == "f" else None,
                      name=label, **optional)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = text if len(text) <= 200 else text[:197] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _call(what: str, function: Callable, *args):
    try:
        return function(*args)
    except Unusable:
        raise
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # the module's own failure (sys.exit too): report it
        raise Unusable(f"{what} raised {_one_line(exc)}") from None


# --- drawing the point --------------------------------------------------------------------------

def _draw_params(functions: _Functions, rng, seed, notes) -> dict:
    if functions.init_params is not None:
        init = functions.init_params
        try:
            parameters = inspect.signature(init).parameters
        except (TypeError, ValueError):
            parameters = {}
        if "rng" in parameters:
            params = _call("init_params(rng)", lambda: init(rng=rng))
        elif "seed" in parameters:
            params = _call("init_params(seed)", lambda: init(seed=seed))
        elif parameters:
            params = _call("init_params(rng)", init, rng)
        else:
            params = _call("init_params()", init)
        if not isinstance(params, dict):
            raise Unusable(f"init_params() returned {type(params).__name__}, not a dict")
        notes.append(f"params drawn by init_params with seed {seed}")
        return params
    if functions.param_shapes:
        notes.append(f"params drawn from the parameter shapes: N(0, 0.5²) entries, seed {seed}")
        return {k: 0.5 * rng.standard_normal(shape) for k, shape in
                functions.param_shapes.items()}
    raise Unusable("no params given, and the module has neither init_params() nor "
                   "PARAM_SHAPES to draw them (give a spec)")


def _first_output(result):
    return result[0] if isinstance(result, tuple) else result


def _infer_sizes(functions: _Functions, params: dict, batch: int, rng) -> tuple[int, int]:
    """(n_0, n_L) from SIZES, or by trying the conventions' readings of the first weight."""
    if functions.sizes:
        return int(functions.sizes[0]), int(functions.sizes[-1])
    shapes = [np.shape(v) for v in params.values()]
    matrices = [s for s in shapes if len(s) == 2]
    if not matrices:
        raise Unusable("cannot tell the input size: no 2-D parameter; pass X and Y")
    first, last = matrices[0], matrices[-1]
    candidates_in = list(dict.fromkeys([first[1], first[0], first[1] - 1]))
    candidates_out = list(dict.fromkeys([last[0], last[1]]))
    last_error = ""
    for n_in in (c for c in candidates_in if c >= 1):
        X = rng.standard_normal((n_in, batch))
        if functions.forward is not None:
            try:
                out = np.asarray(_first_output(functions.forward(params, X)))
            except Exception as exc:
                last_error = f"forward(params, X) raised {_one_line(exc)}"
                continue
            if out.ndim == 2 and out.shape[1] == batch:
                return n_in, out.shape[0]
            last_error = f"forward(params, X) returned shape {out.shape}"
            continue
        for n_out in candidates_out:
            try:
                value = functions.loss(params, X, rng.standard_normal((n_out, batch)))
                value = np.asarray(value)
                if value.size != 1:
                    last_error = f"loss() returned an array of shape {value.shape}, not a number"
                    continue
                float(value.reshape(()))
                return n_in, n_out
            except Exception as exc:
                last_error = f"loss(params, X, Y) raised {_one_line(exc)}"
                continue
    raise Unusable("cannot tell the input/output sizes from the parameter shapes "
                   f"{shapes}" + (f" (last try: {last_error})" if last_error else "")
                   + "; give SIZES in the module, a spec, or X and Y")


def _infer_targets(functions: _Functions, params, X, notes) -> str:
    if functions.targets:
        notes.append(f"targets {functions.targets} ({functions.targets_from})")
        return functions.targets
    if functions.loss_name:
        from derive.losses import LOSSES
        try:
            found = LOSSES.get(functions.loss_name).targets
        except BadInput:
            found = None
        if found:
            notes.append(f"targets {found} (loss {functions.loss_name!r} of the registry)")
            return found
    if functions.forward is not None:
        try:
            out = np.asarray(_first_output(functions.forward(params, X)), dtype=float)
        except Exception:
            out = None
        if out is not None and out.ndim == 2 and np.all(np.isfinite(out)):
            if out.shape[0] > 1 and np.all(out >= 0) and np.allclose(out.sum(axis=0), 1):
                notes.append("targets simplex (one-hot), inferred: forward() columns sum to 1")
                return "simplex"
            if np.all(out > 0) and np.all(out < 1):
                notes.append("targets binary (0/1), inferred: forward() outputs lie in (0, 1)")
                return "binary"
    notes.append("targets real (standard normal): no spec, TARGETS or LOSS for the module")
    return "real"


def _as_float_array(value, what: str) -> np.ndarray:
    try:
        array = np.asarray(value)
        if array.dtype.kind not in "fiub":
            raise TypeError
        return array.astype(array.dtype if array.dtype.kind == "f" else np.float64)
    except (TypeError, ValueError):
        raise Unusable(f"{what} is not a numeric array") from None


# --- the checker --------------------------------------------------------------------------------

@dataclass
class _Outcome:
    kind: str           # "ok" | "fail" | "kink"
    analytic: float
    numeric: float
    rel: float
    abs: float
    atol: float
    step: float
    value: float | None = None


@dataclass
class _Point:
    """A point the entries are checked at: θ (float64 and working precision), g, L(θ)."""

    params: dict
    base: dict
    grads: dict
    loss: float
    redraw: int = 0
    shift: float = 0.0
    fresh: int = 0      # 0 the input point, k > 0 fresh point #k


@dataclass
class _Entry:
    tensor: str
    key: Any            # index tuple (full) or direction number (directional)
    first: _Outcome
    direction: np.ndarray | None = None
    failure: tuple | None = None     # (outcome, point, direction) of a real failure
    final: str = "pending"           # "ok" | "mismatch" | "nondiff" once decided


def _compare(a: float, n: float, atol: float, rtol: float) -> tuple[float, float, bool]:
    err = abs(a - n)
    scale = max(abs(a), abs(n), atol / rtol)
    rel = err / scale if scale > 0 else (0.0 if err == 0 else np.inf)
    return rel, err, rel <= rtol


class _Checker:
    def __init__(self, functions: _Functions, rng, *, mode, directions, redraws, full_limit,
                 rtol, fresh_points=FRESH_POINTS):
        self.f = functions
        self.rng = rng
        self.mode = mode
        self.directions = max(1, int(directions))
        self.redraws = max(0, int(redraws))
        self.fresh_points = max(0, int(fresh_points))
        self.full_limit = full_limit
        self.rtol_override = rtol
        self.notes: list[str] = []
        self.evaluations = 0

    # -- the point

    def prepare(self, params, X, Y, batch, seed):
        notes, origin = self.notes, []
        self.seed = seed
        if params is None:
            params = _draw_params(self.f, self.rng, seed, notes)
            origin.append(notes[-1])
        else:
            origin.append("params given")
        if not isinstance(params, dict) or not params:
            raise Unusable("params must be a non-empty dict name -> array")
        params = {str(k): _as_float_array(v, f"parameter {k}") for k, v in params.items()}
        if sum(v.size for v in params.values()) == 0:
            raise Unusable("the parameters have no entries to check (every tensor is empty)")
        given_dtypes = [v.dtype for v in params.values()]
        params = {k: v.astype(np.float64, copy=False) for k, v in params.items()}
        if self.f.param_shapes:
            expected = self.f.param_shapes
            if set(expected) != set(params):
                raise Unusable(f"params have keys {list(params)}, but the parameter shapes "
                               f"name {list(expected)}")
            for k, shape in expected.items():
                if params[k].shape != tuple(shape):
                    raise Unusable(f"parameter {k} has shape {params[k].shape}, the parameter "
                                   f"shapes say {tuple(shape)}")
        n_out = None
        if X is None:
            n_in, n_out = _infer_sizes(self.f, params, batch, self.rng)
            X = self.rng.standard_normal((n_in, batch))
            origin.append(f"X drawn N(0, 1), {n_in}x{batch}")
        else:
            X = _as_float_array(X, "X").astype(np.float64)
        self.domain = None
        if Y is None:
            if n_out is None:
                if self.f.sizes:
                    n_out = int(self.f.sizes[-1])
                elif self.f.forward is not None:
                    out = np.asarray(_first_output(_call("forward(params, X)", self.f.forward,
                                                         params, X)))
                    n_out = out.shape[0]
                else:
                    raise Unusable("Y not given and the module has no forward() to size it")
            self.domain = _infer_targets(self.f, params, X, notes)
            Y = draw_targets(self.domain, (n_out, X.shape[1]), self.rng)
            origin.append(f"Y drawn in the {self.domain} domain")
        else:
            Y = _as_float_array(Y, "Y").astype(np.float64)
        self.origin = "; ".join(origin)

        # Precision of the code: the given parameters' dtype, the gradients', the loss's, DTYPE.
        grads = self._raw_gradients(params, X, Y)
        dtypes = given_dtypes + [np.asarray(g).dtype for g in grads.values()]
        self.X_work, self.Y_work = X, Y
        self.difference_loss = self.f.loss
        loss0 = self._loss(params)
        dtypes.append(self.loss_dtype)
        if self.f.dtype is not None:
            dtypes.append(self.f.dtype)
        floats = [d for d in dtypes if d.kind == "f"]
        self.code_dtype = max(floats, key=lambda d: np.finfo(d).eps) if floats \
            else np.dtype(np.float64)
        self.eps_code = float(np.finfo(self.code_dtype).eps)
        self.work_dtype = np.dtype(np.float64)
        self.differences = "same loss"
        if self.code_dtype != np.float64:
            # Round the point so that analytic and numeric sides see the same numbers.
            params, X, Y = self._rounded(params), self._rounded(X), self._rounded(Y)
            self.params, self.X, self.Y = params, X, Y
            self.X_work, self.Y_work = X, Y
            grads, loss0 = self._gradients(params), None
            self._choose_differences()
        else:
            grads = self._checked_gradients(grads)
        self.eps_work = float(np.finfo(self.work_dtype).eps)
        self.root = self.eps_work ** (1 / 3)
        self.rtol = float(self.rtol_override) if self.rtol_override is not None else \
            (RTOL_OWN_PRECISION if self.differences == "low precision" else RTOL).get(
                self.code_dtype, 3 * float(np.sqrt(self.eps_code)))
        self.input_point = {"origin": self.origin, "params": params, "X": X, "Y": Y}
        self._move_to(params, X, Y, grads, loss0)

    def _rounded(self, array):
        """``array`` rounded to the code's precision, held in float64."""
        if isinstance(array, dict):
            return {k: self._rounded(v) for k, v in array.items()}
        return array.astype(self.code_dtype).astype(np.float64)

    def _move_to(self, params, X, Y, grads=None, loss=None, fresh: int = 0) -> None:
        """Make (params, X, Y) the point the entries are checked at (``self.point0``)."""
        self.params, self.X, self.Y = params, X, Y
        self.X_work = X.astype(self.work_dtype)
        self.Y_work = Y.astype(self.work_dtype)
        where = "the input point" if not fresh else f"fresh point #{fresh}"
        grads = grads if grads is not None else self._gradients(params)
        base = self._working(params)
        loss = loss if loss is not None else self._loss(base, where)
        self.point0 = _Point(params, base, grads, loss, fresh=fresh)

    def _fresh_point(self, fresh: int) -> tuple[dict, np.ndarray, np.ndarray, str]:
        """A new point, drawn from the checker's seeded generator: fresh params (by
        ``init_params`` or the parameter shapes when the module has them, else the input
        params plus N(0, 0.5²) noise), every entry that is exactly 0 (zero biases) replaced by
        an N(0, 0.5²) draw, X ~ N(0, 1) of the input's shape, Y drawn again in its domain
        (kept when it was given)."""
        scratch: list[str] = []
        if self.f.init_params is not None or self.f.param_shapes:
            drawn = _draw_params(self.f, self.rng, self.seed, scratch)
            how = "params drawn by init_params" if self.f.init_params is not None else \
                "params drawn N(0, 0.5²) from the parameter shapes"
            params = {k: _as_float_array(drawn.get(k), f"parameter {k}").astype(np.float64)
                      for k in self.input_point["params"]}
            for k, value in params.items():
                if value.shape != self.input_point["params"][k].shape:
                    raise Unusable(f"init_params() gave parameter {k} the shape {value.shape}")
        else:
            how = "the input params plus N(0, 0.5²) noise"
            params = {k: v + FRESH_SCALE * self.rng.standard_normal(v.shape)
                      for k, v in self.input_point["params"].items()}
        for k, value in params.items():
            zero = value == 0
            if zero.any():
                params[k] = np.where(zero, FRESH_SCALE * self.rng.standard_normal(value.shape),
                                     value)
        X0, Y0 = self.input_point["X"], self.input_point["Y"]
        X = self.rng.standard_normal(X0.shape)
        parts = [f"{how}, entries that were 0 drawn N(0, 0.5²)",
                 f"X drawn N(0, 1), {'x'.join(map(str, X0.shape))}"]
        if self.domain is not None:
            Y = draw_targets(self.domain, Y0.shape, self.rng)
            parts.append(f"Y drawn in the {self.domain} domain")
        else:
            Y = Y0
            parts.append("Y as given")
        if self.code_dtype != np.float64:
            params, X, Y = self._rounded(params), self._rounded(X), self._rounded(Y)
        return params, X, Y, f"fresh point #{fresh} (seeded): " + "; ".join(parts)

    def _working(self, params: dict) -> dict:
        return {k: v.astype(self.work_dtype, copy=False) for k, v in params.items()}

    # -- calling the module

    def _raw_gradients(self, params, X, Y) -> dict:
        grads = _call("gradients(params, X, Y)", self.f.gradients, params, X, Y)
        if not isinstance(grads, dict):
            raise Unusable(f"gradients() returned {type(grads).__name__}, not a dict")
        missing = [k for k in params if k not in grads]
        extra = [k for k in grads if k not in params]
        if missing or extra:
            parts = [f"missing {', '.join(map(str, missing))}"] if missing else []
            parts += [f"unexpected {', '.join(map(str, extra))}"] if extra else []
            raise Unusable(f"gradients() keys do not match the parameters ({'; '.join(parts)})")
        for k, p in params.items():
            g = np.asarray(grads[k])
            if g.shape != np.shape(p):
                raise Unusable(f"gradients()[{k!r}] has shape {g.shape}, but parameter {k} "
                               f"has shape {np.shape(p)}")
            if g.dtype.kind not in "fiub":
                raise Unusable(f"gradients()[{k!r}] is not numeric (dtype {g.dtype})")
        return grads

    def _checked_gradients(self, grads: dict) -> dict:
        out = {}
        for k, value in grads.items():
            g = np.asarray(value, dtype=np.float64)
            bad = ~np.isfinite(g)
            if bad.any():
                where = tuple(int(i) for i in np.argwhere(bad)[0])
                raise Unusable(f"gradients()[{k!r}] contains {g[where]} at index {where}")
            out[k] = g
        return out

    def _gradients(self, params) -> dict:
        if self.code_dtype != np.float64:
            cast = {k: v.astype(self.code_dtype) for k, v in params.items()}
            X, Y = self.X.astype(self.code_dtype), self.Y.astype(self.code_dtype)
        else:
            cast, X, Y = params, self.X, self.Y
        grads = self._raw_gradients(cast, X, Y)
        return self._checked_gradients({k: grads[k] for k in params})

    def _loss(self, params, where: str = "the input point", function=None) -> float:
        """The loss that is differenced (the module's, or its float64 twin) at ``params``."""
        self.evaluations += 1
        function = function if function is not None else self.difference_loss
        what = "loss(params, X, Y)" if function is self.f.loss else \
            "loss(params, X, Y) of the float64 twin"
        value = _call(what, function, params, self.X_work, self.Y_work)
        array = np.asarray(value)
        self.loss_dtype = array.dtype
        if array.size != 1 or array.dtype.kind not in "fiub":
            raise Unusable(f"loss() returned {type(value).__name__} of shape {array.shape}, "
                           "not a scalar")
        result = float(array.reshape(()))
        if not np.isfinite(result):
            raise Unusable(f"loss() returned {result} at {where}")
        return result

    def _choose_differences(self) -> None:
        """What the float32 (or other low-precision) code is differenced on, noted.

        The loss itself when it resolves float64 inputs; else its float64 twin (the module's
        functions rebound to ``DTYPE = np.float64``) when one can be made and behaves; else the
        loss in its own precision, with that precision's step.
        """
        code = self.code_dtype
        try:
            resolves = self._resolves_float64(self.f.loss)
        except Unusable:            # the loss fails near the point: no verdict from there
            resolves = None
        if resolves is True:
            self.notes.append(f"{code} code: its loss resolves float64 inputs, so it is "
                              "differenced in float64")
            return
        loss_is = "does not resolve float64 inputs" if resolves is False else \
            "is flat near the input point (whether it resolves float64 cannot be probed)"
        twin, why = self._twin()
        if twin is not None:
            self.difference_loss, self.differences = twin, "twin"
            self.notes.append(
                f"{code} code: its loss {loss_is}, so the differences are taken on its float64 "
                "twin (the module's functions rebound to DTYPE = np.float64) at the same "
                f"{code}-rounded point; the analytic side is the {code} gradients" + why)
            return
        self.work_dtype, self.differences = code, "low precision"
        self.low_precision_why = why
        self.notes.append(f"{code} code: its loss {loss_is} and {why}, so it is differenced "
                          f"in {code} with the {code} step (a weaker check than against "
                          "float64 differences)")

    def _twin(self) -> tuple[Callable | None, str]:
        """(the float64 twin of the loss, "") if it can be made and behaves, else (None, why)."""
        twin, why = _float64_twin(self.f.loss)
        if twin is None:
            return None, why
        reference = self._loss(self.params, function=self.f.loss)
        try:
            value = self._loss(self.params, function=twin)
        except Unusable as exc:
            return None, f"its float64 twin (DTYPE = np.float64) fails: {exc}"
        if abs(value - reference) > TWIN_AGREEMENT * max(1.0, abs(reference)):
            return None, (f"its float64 twin (DTYPE = np.float64) gives the loss {value:.6g}, "
                          f"not {reference:.6g}")
        try:
            resolves = self._resolves_float64(twin)
        except Unusable as exc:
            return None, f"its float64 twin (DTYPE = np.float64) fails: {exc}"
        if resolves is False:
            return None, "its float64 twin (DTYPE = np.float64) does not resolve float64 " \
                         "inputs either"
        if resolves is None:
            # The loss is flat here (a dead relu, a step network): its resolution cannot be
            # probed.  DTYPE governs the module when the twin's gradients come out in float64.
            gradients, _ = _float64_twin(self.f.gradients)
            try:
                grads = _call("gradients(params, X, Y) of the float64 twin", gradients,
                              self.params, self.X, self.Y) if gradients is not None else None
            except Unusable:
                grads = None
            dtypes = {np.asarray(g).dtype for g in grads.values()} \
                if isinstance(grads, dict) and grads else set()
            if dtypes != {np.dtype(np.float64)}:
                return None, ("the loss is flat near the input point, so whether its float64 "
                              "twin (DTYPE = np.float64) resolves float64 cannot be probed")
            return twin, ("; the twin's loss is flat near the input point, so its resolution "
                          "was not probed, but its gradients compute in float64")
        return twin, ""

    def _resolves_float64(self, function) -> bool | None:
        """Does ``function`` (a loss), given float64 inputs, compute at float64 resolution?
        (None: cannot tell, the loss is flat along every direction tried.)

        Along a random unit direction u the central quotients at the steps 1e-8 and 1.37e-8
        (relative to max|θ|) must agree with the one at 1e-6 to 1e-3: a float64 loss does, a
        loss that rounds its inputs to float32 gives 0 or noise at those steps.  It does not
        use the analytic gradient (which is what is being checked), and it probes near θ, at
        θ + δ (δ_i = 1e-3·max(1, |θ_i|)·N(0, 1)), not at θ: a point with zero biases may sit
        exactly on a jump of a step network.  Up to three directions are tried; one that
        agrees decides.
        """
        params = {k: v + 1e-3 * np.maximum(1.0, np.abs(v)) * self.rng.standard_normal(v.shape)
                  for k, v in self.params.items()}
        if self.code_dtype != np.float64:
            params = self._rounded(params)
        scale = max(1.0, max(float(np.max(np.abs(v), initial=0)) for v in params.values()))
        level = max(1.0, abs(self._loss(params, "a point near the input point",
                                        function=function)))
        verdict = None
        for _ in range(3):
            u = self._unit({k: self.rng.standard_normal(v.shape) for k, v in params.items()})

            def quotient(s):
                plus = self._loss({k: v + s * u[k] for k, v in params.items()},
                                  "a point near the input point", function=function)
                minus = self._loss({k: v - s * u[k] for k, v in params.items()},
                                   "a point near the input point", function=function)
                return (plus - minus) / (2 * s)

            coarse = quotient(1e-6 * scale)
            if abs(coarse) < 1e-5 * level:
                continue
            if all(abs(quotient(s * scale) - coarse) <= 1e-3 * abs(coarse)
                   for s in (1e-8, 1.37e-8)):
                return True
            verdict = False
        return verdict

    # -- one entry: a coordinate or a direction

    def _line(self, base: dict, name: str, key, direction):
        """t ↦ L(θ + t·e) for the entry, in the working precision; also the actual step."""
        tensor = base[name]

        def at(t: float) -> tuple[float, float]:
            if direction is None:
                moved = tensor.copy()
                moved[key] = tensor[key] + self.work_dtype.type(t)
                actual = float(moved[key]) - float(tensor[key])
            else:
                moved = (tensor + t * direction).astype(self.work_dtype, copy=False)
                actual = t
            return self._loss({**base, name: moved}, f"{name} ± h"), actual

        return at

    def _check_entry(self, point: _Point, name, key, direction) -> _Outcome:
        theta, g = point.params[name], point.grads[name]
        analytic_noise = NOISE_FACTOR * self.eps_code * float(np.max(np.abs(g), initial=0.0))
        if direction is None:
            value = float(theta[key])
            a, h = float(g[key]), self.root * max(1.0, abs(value))
        else:
            value = None
            a = float(np.sum(g * direction))
            h = self.root * max(1.0, float(np.max(np.abs(theta), initial=0.0)))
        at = self._line(point.base, name, key, direction)
        f0 = point.loss
        fp, hp = at(h)
        fm, hm = at(-h)
        eta = NOISE_FACTOR * self.eps_work * max(abs(f0), abs(fp), abs(fm))
        n = (fp - fm) / (hp - hm)
        atol = max(eta / h, analytic_noise)
        rel, err, ok = _compare(a, n, atol, self.rtol)
        if ok:
            return _Outcome("ok", a, n, rel, err, atol, h, value)
        # The half step and the Richardson extrapolation, before calling it a disagreement.
        fp2, _ = at(h / 2)
        fm2, _ = at(-h / 2)
        eta = NOISE_FACTOR * self.eps_work * max(abs(f0), abs(fp), abs(fm), abs(fp2), abs(fm2))
        n2 = (fp2 - fm2) / h
        for estimate, noise in ((n2, 2 * eta / h), ((4 * n2 - n) / 3, 3 * eta / h)):
            tol = max(noise, analytic_noise)
            rel2, err2, ok2 = _compare(a, estimate, tol, self.rtol)
            if ok2:
                return _Outcome("ok", a, estimate, rel2, err2, tol, h, value)
        # Kink test: the slope increments of a smooth function agree; a kink concentrates.
        s = h / 2
        slopes = np.array([fm2 - fm, f0 - fm2, fp2 - f0, fp - fp2]) / s
        increments = np.diff(slopes)
        spread = float(increments.max() - increments.min())
        largest = float(np.max(np.abs(increments)))
        kink = spread > max(16 * eta / s, KINK_FRACTION * min(err, largest))
        return _Outcome("kink" if kink else "fail", a, n, rel, err, atol, h, value)

    # -- the run

    def run(self) -> GradientReport:
        total = sum(v.size for v in self.params.values())
        mode = self.mode
        if mode == "auto":
            mode = "full" if total <= self.full_limit else "directional"
            self.notes.append(f"mode auto: {mode} ({total} parameters; every coordinate up to "
                              f"{self.full_limit})")
        self.resolved_mode = mode
        rows = {name: TensorRow(name=name, shape=tuple(theta.shape), mode=mode, checked=0,
                                size=int(theta.size)) for name, theta in self.params.items()}
        failures, fresh_points = [], []
        pending = list(rows)
        for fresh in range(self.fresh_points + 1):
            if fresh:
                # Every gradient entry and difference of the pending tensors was exactly 0: a
                # comparison of zeros proves nothing, so look again at a new point.
                try:
                    params, X, Y, origin = self._fresh_point(fresh)
                    self._move_to(params, X, Y, fresh=fresh)
                except Unusable as exc:
                    fresh_points.append({"origin": f"fresh point #{fresh} could not be used: "
                                                   f"{exc}", "tensors": list(pending)})
                    continue
                fresh_points.append({"origin": origin, "params": params, "X": X, "Y": Y,
                                     "tensors": list(pending)})
            found, pending = self._check_tensors([rows[name] for name in pending], fresh)
            failures += found
            if not pending:
                break
        for name in pending:
            rows[name].uninformative = True
        rows = list(rows.values())
        # A tensor that stays 0 everywhere is not a failure (an unused parameter, a step
        # network): the report says so in its headline, its table and its notes.
        status = "mismatch" if failures else "verified"
        self._summarise(rows, fresh_points)
        point = dict(self.input_point)
        if fresh_points:
            point["fresh"] = fresh_points
        return GradientReport(status=status, rows=rows, failures=failures,
                              thresholds=self._thresholds(), notes=self.notes, point=point,
                              name=self.f.name)

    def _check_tensors(self, rows, fresh: int) -> tuple[list[Failure], list[str]]:
        """Check every entry of the tensors of ``rows`` at the current point; (failures, names
        of the tensors whose gradient entries and differences were all exactly 0)."""
        entries, zero = [], []
        for row in rows:
            row.checked = row.failed = row.redrawn = row.nondiff = 0
            row.max_rel_error = row.max_abs_error = row.atol = 0.0
            row.fresh = fresh
            informative = False
            for key, direction in self._keys(row.shape, self.resolved_mode):
                outcome = self._check_entry(self.point0, row.name, key, direction)
                row.checked += 1
                if outcome.kind == "ok":
                    _account(row, outcome)
                    informative = informative or outcome.analytic != 0 or outcome.numeric != 0
                else:
                    informative = True
                    entries.append((row, _Entry(row.name, key, outcome, direction)))
            if not informative:
                row.zero_points += 1
                zero.append(row.name)
        self._redraw(entries)
        return self._failures(entries), zero

    def _summarise(self, rows, fresh_points) -> None:
        redrawn = sum(row.redrawn for row in rows)
        nondiff = sum(row.nondiff for row in rows)
        if redrawn:
            self.notes.append(
                f"{redrawn} entries disagreed at the point (a kink or jump inside the "
                "step); each agrees at a re-drawn, slightly perturbed point (new direction)")
        if nondiff:
            self.notes.append(
                f"{nondiff} entries straddled a kink at every one of {self.redraws + 1} points "
                "tried: non-differentiable here, not failures")
        moved = [row.name for row in rows if row.zero_points and not row.uninformative]
        if moved:
            self.notes.append(
                f"{_names(moved)}: every gradient entry and every difference was exactly 0 at "
                "the input point (nothing to compare: a dead relu, a flat loss), so "
                f"{'it was' if len(moved) == 1 else 'they were'} checked at a fresh point (the "
                "table says which; its X and Y are listed with the input point)")
        zero = [row.name for row in rows if row.uninformative]
        if zero:
            points = 1 + sum("X" in fresh for fresh in fresh_points)
            self.notes.append(
                f"{_names(zero)}: the gradient and every difference were exactly 0 at all "
                f"{points} points drawn (the input point and {points - 1} fresh ones), so the "
                "check says nothing about "
                f"{'it' if len(zero) == 1 else 'them'} (an unused parameter, or a gradient "
                "that is 0 wherever the loss is flat)"
                + ("" if len(zero) < len(rows) else
                   "; no tensor had anything to compare, so this verification is empty"))
        self.notes += [fresh["origin"] for fresh in fresh_points if "X" not in fresh]
        self.notes.append(f"{self.evaluations} loss evaluations")

    def _failures(self, entries) -> list[Failure]:
        failures, localised = [], set()
        for row, entry in entries:
            if entry.final == "ok":
                row.redrawn += 1
                continue
            if entry.final == "nondiff":
                row.nondiff += 1
                continue
            outcome, point, direction = entry.failure
            row.failed += 1
            _account(row, outcome)
            if sum(f.tensor == row.name for f in failures) >= MAX_FAILURES:
                continue
            label = entry.key if direction is None else f"direction {entry.key + 1}"
            failures.append(_failure(row.name, label, outcome, point, direction))
            if direction is not None and row.name not in localised:
                localised.add(row.name)
                found = self._localise(point, row.name, direction)
                if found is not None:
                    index, coordinate = found
                    failures.append(_failure(row.name, index, coordinate, point, None,
                                             f"bisection of direction {entry.key + 1}"))
        return failures

    def _keys(self, shape, mode):
        if mode == "full":
            for index in np.ndindex(shape):
                yield index, None
        else:
            for k in range(self.directions):
                yield k, self._direction(shape)

    def _direction(self, shape) -> np.ndarray:
        u = self.rng.standard_normal(shape)
        norm = float(np.sqrt(np.sum(u * u)))
        return u / norm if norm > 0 else np.ones(shape) / np.sqrt(max(1, int(np.prod(shape))))

    @staticmethod
    def _unit(vectors: dict) -> dict:
        norm = np.sqrt(sum(float(np.sum(d * d)) for d in vectors.values()))
        return {k: d / norm for k, d in vectors.items()}

    def _redraw(self, entries):
        """Re-check disagreeing entries at perturbed points (and new directions).

        Each round perturbs the point both ways, θ + δ and θ − δ: a kink that passes within
        the step of θ lies between them, so a gradient wrong on one side of it is seen.  An
        entry that straddled a kink at θ is cleared only if it agrees at some kink-free point
        and disagrees at none over all rounds; one that disagreed without a kink is cleared
        by a round whose two points both agree.
        """
        pending = [entry for _, entry in entries]
        for r in range(1, self.redraws + 1):
            if not pending:
                break
            pair = self._perturbed(r)
            still = []
            for entry in pending:
                results = []
                for point in pair:
                    shape = point.params[entry.tensor].shape
                    direction = None if entry.direction is None else self._direction(shape)
                    results.append((self._check_entry(point, entry.tensor, entry.key,
                                                      direction), point, direction))
                kinds = [outcome.kind for outcome, _, _ in results]
                if "fail" in kinds:
                    # A disagreement with no kink in sight.  Report the input point's values
                    # when the input point showed no kink either (the user's own point).
                    outcome, point, direction = next(x for x in results if x[0].kind == "fail")
                    entry.final = "mismatch"
                    entry.failure = (entry.first, self.point0, entry.direction) \
                        if entry.first.kind == "fail" else (outcome, point, direction)
                    continue
                if entry.first.kind == "kink":
                    if "ok" in kinds:
                        entry.final = "ok"      # provisionally: every round is still checked
                    still.append(entry)
                elif all(kind == "ok" for kind in kinds):
                    entry.final = "ok"
                else:
                    still.append(entry)
            pending = still
        for entry in pending:
            if entry.final == "ok":
                continue
            if entry.first.kind == "fail":      # disagrees at the input point, no kink seen there
                entry.final = "mismatch"
                entry.failure = (entry.first, self.point0, entry.direction)
            else:
                entry.final = "nondiff"

    def _perturbed(self, r: int) -> tuple[_Point, _Point]:
        """The points θ + δ and θ − δ of re-draw round ``r`` (δ_i = 16·2^(r−1)·h_i·N(0, 1))."""
        delta = {k: 16 * 2 ** (r - 1) * self.root * np.maximum(1.0, np.abs(v))
                 * self.rng.standard_normal(v.shape) for k, v in self.params.items()}
        points = []
        for sign in (1.0, -1.0):
            shifted = {k: v + sign * delta[k] for k, v in self.params.items()}
            if self.code_dtype != np.float64:
                shifted = {k: v.astype(self.code_dtype).astype(np.float64)
                           for k, v in shifted.items()}
            shift = max(float(np.max(np.abs(shifted[k] - self.params[k]), initial=0))
                        for k in shifted)
            base = self._working(shifted)
            points.append(_Point(shifted, base, self._gradients(shifted),
                                 self._loss(base, f"perturbed point #{r}"), redraw=r,
                                 shift=shift, fresh=self.point0.fresh))
        return points[0], points[1]

    def _localise(self, point: _Point, name: str, direction: np.ndarray):
        """Bisect a disagreeing direction down to one coordinate; (index, outcome) or None."""
        shape = direction.shape
        flat = direction.ravel()
        candidates = np.flatnonzero(flat)
        while candidates.size > 1:
            best, best_score = None, -1.0
            for half in np.array_split(candidates, 2):
                part = np.zeros(flat.size)
                part[half] = flat[half]
                norm = float(np.sqrt(np.sum(part * part)))
                if norm == 0:
                    continue
                outcome = self._check_entry(point, name, None, (part / norm).reshape(shape))
                # The disagreement along the original (unnormalised) part of u; kinks avoided.
                score = outcome.abs * norm if outcome.kind != "kink" else 0.0
                if score > best_score:
                    best, best_score = half, score
            candidates = best
        index = tuple(int(i) for i in np.unravel_index(int(candidates[0]), shape))
        outcome = self._check_entry(point, name, index, None)
        return (index, outcome) if outcome.kind == "fail" else None

    def _thresholds(self) -> dict:
        eps_name = f"eps({self.work_dtype})"
        code = str(self.code_dtype)
        if self.differences == "twin":
            numeric = (f"float64 differences of the module's float64 twin (DTYPE = np.float64) "
                       f"at the {code}-rounded point")
        elif self.differences == "low precision":
            numeric = (f"{code} differences of the same loss (the loss does not resolve "
                       f"float64, and {self.low_precision_why})")
        else:
            numeric = "float64 differences of the same loss"
        out = {
            "code_precision": code,
            "rtol": self.rtol,
            "step_rule": (f"h = {eps_name}^(1/3)·max(1, |θ_i|) = {self.root:.3g}·max(1, |θ_i|) "
                          f"per coordinate; along a random unit direction u, "
                          f"h = {self.root:.3g}·max(1, max|θ|) over the tensor"),
            "pass_rule": (f"rel = |a − n| / max(|a|, |n|, tiny) ≤ rtol = {self.rtol:g} "
                          f"(tiny = atol/rtol; a = analytic, n = central difference; if "
                          f"n(h) fails, n(h/2) and Richardson (4n(h/2) − n(h))/3 are tried)"),
            "noise_rule": (f"atol = η/h, η = {NOISE_FACTOR}·{eps_name}·max|L| "
                           f"(rounding noise of one loss value)"
                           + (f", at least {NOISE_FACTOR}·eps({code})·max|g| (rounding of "
                              f"the {code} gradient)" if code != "float64" else "")),
            "differences": f"central, {numeric}; mode {self.resolved_mode}" + (
                f", {self.directions} random unit directions per tensor"
                if self.resolved_mode == "directional" else ""),
            "kink_rule": ("a kink (or jump) inside the step is detected from the slopes on "
                          "[−h, −h/2, 0, h/2, h]; a disagreeing entry is re-drawn at a "
                          f"perturbed point (new direction) up to {self.redraws} times; one "
                          "that straddles a kink at every point is non-differentiable here"),
            "zero_rule": ("a tensor whose analytic entries and differences are all exactly 0 "
                          "compares nothing: it is checked again at a fresh point (seeded: new "
                          "params, entries that were 0 drawn nonzero, a new batch) up to "
                          f"{self.fresh_points} times; one that stays 0 is reported as "
                          "uninformative"),
        }
        float64_rtol = f"{RTOL[np.dtype(np.float64)]:g}"
        if self.differences == "low precision":
            out["float32_note"] = (f"{code} gradients against {code} central differences of "
                                   f"the same loss, rtol = {self.rtol:g} (not the float64 "
                                   f"{float64_rtol}): a weaker check, since "
                                   f"{self.low_precision_why}")
        elif code != "float64":
            source = "the module's float64 twin (DTYPE = np.float64)" \
                if self.differences == "twin" else "the same loss (it resolves float64 inputs)"
            out["float32_note"] = (f"{code} gradients against float64 central differences, "
                                   f"rtol = {self.rtol:g} (for the {code} rounding of the "
                                   f"analytic side; float64 code gets {float64_rtol}), of "
                                   f"{source}")
        out["numeric_of"] = "its float64 twin's loss" if self.differences == "twin" else \
            "its loss"
        return out


def _account(row: TensorRow, outcome: _Outcome) -> None:
    row.max_rel_error = max(row.max_rel_error, outcome.rel)
    row.max_abs_error = max(row.max_abs_error, outcome.abs)
    row.atol = max(row.atol, outcome.atol)


def _failure(tensor: str, entry, outcome: _Outcome, point: _Point, direction,
             localised_by: str | None = None) -> Failure:
    return Failure(tensor=tensor, entry=entry, analytic=outcome.analytic,
                   numeric=outcome.numeric, rel_error=outcome.rel, abs_error=outcome.abs,
                   step=outcome.step, value=outcome.value, redraw=point.redraw,
                   point_shift=point.shift, direction=direction, localised_by=localised_by,
                   fresh=point.fresh)


def _names(names) -> str:
    return ", ".join(names)


def _float64_twin(function) -> tuple[Callable | None, str]:
    """(a float64 twin of ``function``, "") or (None, why not).

    The twin is the function rebound to a copy of its module's namespace in which ``DTYPE`` is
    float64, with every function of that module rebound to the copy too, so that the helpers
    the loss calls read the new ``DTYPE`` as well.  It is the module with ``DTYPE = np.float64``
    without running the module again: values computed from ``DTYPE`` at import (default
    arguments, module constants) keep their float32 rounding.
    """
    if not isinstance(function, types.FunctionType):
        return None, "its loss is not a plain function, so no float64 twin can be made"
    namespace = function.__globals__
    dtype = namespace.get("DTYPE")
    if dtype is None:
        return None, "the module has no module-level DTYPE to make a float64 twin from"
    try:
        low = np.dtype(dtype)
    except TypeError:
        return None, f"its DTYPE {dtype!r} is not a NumPy dtype"
    if low.kind != "f" or np.finfo(low).eps <= np.finfo(np.float64).eps:
        return None, f"its DTYPE is {low}, so no float64 twin can be made"
    copy = dict(namespace)
    copy["DTYPE"] = np.dtype(np.float64) if isinstance(dtype, np.dtype) else \
        "float64" if isinstance(dtype, str) else np.float64
    for key, value in namespace.items():
        if isinstance(value, types.FunctionType) and value.__globals__ is namespace:
            copy[key] = _rebound(value, copy)
    return _rebound(function, copy), ""


def _rebound(function: types.FunctionType, namespace: dict) -> types.FunctionType:
    copy = types.FunctionType(function.__code__, namespace, function.__name__,
                              function.__defaults__, function.__closure__)
    copy.__kwdefaults__ = dict(function.__kwdefaults__) if function.__kwdefaults__ else None
    copy.__qualname__, copy.__doc__ = function.__qualname__, function.__doc__
    copy.__module__ = function.__module__
    copy.__dict__.update(function.__dict__)
    return copy
