"""What is checked: a gradient module, read from a file, a module, an object, a dict or a pair.

A *gradient module* exposes ``loss(params, X, Y) -> float`` and ``gradients(params, X, Y) ->
dict`` (same keys and shapes as ``params``); usually also ``PARAM_SHAPES``,
``init_params(rng=None)``, ``forward(params, X)``, ``SIZES``, ``TARGETS``, ``LOSS`` and
``DTYPE`` (SPEC §6).  This module turns any of those forms into a :class:`GradientModule`,
calls its functions so that a failure of the module becomes one :class:`Unusable` line, and
fills in what the module does not say: its params (drawn), its input and output sizes (tried
from the first and last weight's shape) and its target domain (the spec's loss, ``TARGETS``,
the registry's ``LOSS``, else the range of ``forward``'s output).

>>> module = read_module((lambda p, X, Y: 0.0, lambda p, X, Y: {}), "pair")
>>> module.name, module.forward is None
('pair', True)
"""

from __future__ import annotations

import inspect
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Callable

import numpy as np

from derive.errors import BadInput
from derive.losses import LOSSES
from derive.spec import load_spec
from derive.targets import TARGET_DOMAINS


class Unusable(BadInput):
    """The module cannot be checked; the message names the problem in one line."""


@dataclass
class GradientModule:
    """The functions and facts of a module under check (``None``: the module does not say).

    ``targets_from`` says where ``targets`` came from, for the report's notes.
    """

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


# --- reading it ---------------------------------------------------------------------------------

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
    verify.modules.Unusable: no/such/module.py: no such file
    """
    path = Path(path)
    if not path.is_file():
        raise Unusable("no such file" if not path.exists() else "not a file", str(path))
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise Unusable(f"cannot read it: {one_line(exc)}", str(path)) from None
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
        raise Unusable(f"importing it raised {one_line(exc)}", str(path)) from None
    finally:
        if sys.modules.get(module_name) is module:
            del sys.modules[module_name]
    return module


def label_of(obj) -> str:
    """The name a report gives the checked thing: a file's base name, ``functions`` for a
    pair, else the object's ``__name__`` or type."""
    if isinstance(obj, (str, os.PathLike)):
        return os.path.basename(os.fspath(obj))
    if isinstance(obj, (tuple, list)):
        return "functions"
    file = getattr(obj, "__file__", None)
    if file:
        return os.path.basename(file)
    return getattr(obj, "__name__", type(obj).__name__)


def read_module(obj, label: str) -> GradientModule:
    """The :class:`GradientModule` of a module, an object, a dict or a ``(loss, gradients)``
    pair; :class:`Unusable` when ``loss`` or ``gradients`` is missing or ``PARAM_SHAPES`` is
    not a dict name -> shape.  Attributes of the wrong kind are ignored."""
    if isinstance(obj, (tuple, list)):
        if len(obj) != 2 or not all(callable(f) for f in obj):
            raise Unusable("expected a (loss, gradients) pair of functions")
        return GradientModule(loss=obj[0], gradients=obj[1], name=label)
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
    return GradientModule(loss=get("loss"), gradients=get("gradients"), param_shapes=shapes,
                          sizes=tuple(sizes) if isinstance(sizes, (list, tuple)) else None,
                          targets=get("TARGETS") if get("TARGETS") in TARGET_DOMAINS else None,
                          loss_name=get("LOSS") if isinstance(get("LOSS"), str) else None,
                          dtype=dtype if dtype is not None and dtype.kind == "f" else None,
                          name=label, **optional)


def network_facts(spec):
    """(sizes, loss, parameter shapes) of a spec (a Network, a dict or a TOML path), or None.

    Raises
    ------
    derive.errors.BadInput
        The spec is bad, or has symbolic sizes (code is checked at integer sizes).
    """
    if spec is None:
        return None
    if not hasattr(spec, "loss"):
        spec = load_spec(spec)
    sizes = tuple(getattr(spec, "sizes", ()))
    if not sizes or not all(isinstance(n, int) for n in sizes) or \
            not hasattr(spec, "param_shapes"):
        raise BadInput("the spec has symbolic sizes or depth; checking code needs integer "
                       "sizes", "--spec")
    return sizes, spec.loss, dict(spec.param_shapes())


def apply_network(module: GradientModule, sizes, loss, shapes) -> None:
    """Give ``module`` the spec's sizes, parameter shapes and target domain (the spec wins over
    the module's ``TARGETS``; shapes that differ from ``PARAM_SHAPES`` are :class:`Unusable`)."""
    if module.param_shapes is not None and module.param_shapes != shapes:
        raise Unusable(f"PARAM_SHAPES {_shapes_text(module.param_shapes)} differ from the "
                       f"spec's {_shapes_text(shapes)}")
    module.param_shapes = shapes
    module.sizes = sizes
    module.targets, module.targets_from = loss.targets, f"the spec's loss {loss.name!r}"


def _shapes_text(shapes: dict) -> str:
    return "{" + ", ".join(f"{k}: {'x'.join(map(str, v))}" for k, v in shapes.items()) + "}"


# --- calling it ---------------------------------------------------------------------------------

def one_line(exc: BaseException) -> str:
    """``Type: first line of the message`` (at most 200 characters), for an Unusable message."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = text if len(text) <= 200 else text[:197] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def call(what: str, function: Callable, *args):
    """``function(*args)``; whatever it raises (``sys.exit`` too) becomes :class:`Unusable`
    naming ``what``."""
    try:
        return function(*args)
    except Unusable:
        raise
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # the module's own failure (sys.exit too): report it
        raise Unusable(f"{what} raised {one_line(exc)}") from None


def call_gradients(module: GradientModule, params: dict, X, Y) -> dict:
    """``module.gradients(params, X, Y)``, checked to be a dict of numeric arrays with the
    keys and shapes of ``params`` (values as the module returned them)."""
    grads = call("gradients(params, X, Y)", module.gradients, params, X, Y)
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


def finite_gradients(grads: dict) -> dict:
    """The gradients as float64 arrays; :class:`Unusable` naming the first NaN or inf."""
    out = {}
    for k, value in grads.items():
        g = np.asarray(value, dtype=np.float64)
        bad = ~np.isfinite(g)
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            raise Unusable(f"gradients()[{k!r}] contains {g[where]} at index {where}")
        out[k] = g
    return out


def as_float_array(value, what: str) -> np.ndarray:
    """``value`` as a float array (integers and booleans as float64), else :class:`Unusable`."""
    try:
        array = np.asarray(value)
        if array.dtype.kind not in "fiub":
            raise TypeError
        return array.astype(array.dtype if array.dtype.kind == "f" else np.float64)
    except (TypeError, ValueError):
        raise Unusable(f"{what} is not a numeric array") from None


def first_output(result):
    """The prediction of ``forward``, which may return it alone or first in a tuple."""
    return result[0] if isinstance(result, tuple) else result


# --- what the module does not say ---------------------------------------------------------------

def draw_params(module: GradientModule, rng, seed, notes: list) -> dict:
    """Params by the module's ``init_params`` (given ``rng``, ``seed`` or nothing, as its
    signature asks), else N(0, 0.5²) entries of the parameter shapes; says how in ``notes``."""
    if module.init_params is not None:
        init = module.init_params
        try:
            parameters = inspect.signature(init).parameters
        except (TypeError, ValueError):
            parameters = {}
        if "rng" in parameters:
            params = call("init_params(rng)", lambda: init(rng=rng))
        elif "seed" in parameters:
            params = call("init_params(seed)", lambda: init(seed=seed))
        elif parameters:
            params = call("init_params(rng)", init, rng)
        else:
            params = call("init_params()", init)
        if not isinstance(params, dict):
            raise Unusable(f"init_params() returned {type(params).__name__}, not a dict")
        notes.append(f"params drawn by init_params with seed {seed}")
        return params
    if module.param_shapes:
        notes.append(f"params drawn from the parameter shapes: N(0, 0.5²) entries, seed {seed}")
        return {k: 0.5 * rng.standard_normal(shape) for k, shape in
                module.param_shapes.items()}
    raise Unusable("no params given, and the module has neither init_params() nor "
                   "PARAM_SHAPES to draw them (give a spec)")


def infer_sizes(module: GradientModule, params: dict, batch: int, rng) -> tuple[int, int]:
    """(n_0, n_L) from SIZES, or by trying the conventions' readings of the first weight."""
    if module.sizes:
        return int(module.sizes[0]), int(module.sizes[-1])
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
        if module.forward is not None:
            try:
                out = np.asarray(first_output(module.forward(params, X)))
            except Exception as exc:
                last_error = f"forward(params, X) raised {one_line(exc)}"
                continue
            if out.ndim == 2 and out.shape[1] == batch:
                return n_in, out.shape[0]
            last_error = f"forward(params, X) returned shape {out.shape}"
            continue
        for n_out in candidates_out:
            try:
                value = module.loss(params, X, rng.standard_normal((n_out, batch)))
                value = np.asarray(value)
                if value.size != 1:
                    last_error = f"loss() returned an array of shape {value.shape}, not a number"
                    continue
                float(value.reshape(()))
                return n_in, n_out
            except Exception as exc:
                last_error = f"loss(params, X, Y) raised {one_line(exc)}"
                continue
    raise Unusable("cannot tell the input/output sizes from the parameter shapes "
                   f"{shapes}" + (f" (last try: {last_error})" if last_error else "")
                   + "; give SIZES in the module, a spec, or X and Y")


def infer_targets(module: GradientModule, params, X, notes: list) -> str:
    """The target domain Y is drawn in (a key of :data:`derive.targets.TARGET_DOMAINS`),
    noting where it came from."""
    if module.targets:
        notes.append(f"targets {module.targets} ({module.targets_from})")
        return module.targets
    if module.loss_name:
        try:
            found = LOSSES.get(module.loss_name).targets
        except BadInput:
            found = None
        if found:
            notes.append(f"targets {found} (loss {module.loss_name!r} of the registry)")
            return found
    if module.forward is not None:
        try:
            out = np.asarray(first_output(module.forward(params, X)), dtype=float)
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


__all__ = ["Unusable", "GradientModule", "load_module", "label_of", "read_module",
           "network_facts", "apply_network", "one_line", "call", "call_gradients",
           "finite_gradients", "as_float_array", "first_output", "draw_params", "infer_sizes",
           "infer_targets"]
