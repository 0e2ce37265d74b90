"""The gradient checker (SPEC §7): :func:`check_gradients` ties the rules of the modules beside it.

It compares a gradient module's ``gradients`` with central differences of its ``loss``, every
coordinate (mode ``full``) or random directions per tensor (``directional``), and returns a
:class:`~verify.report.GradientReport`.  The run, in order:

1. **the module** (:mod:`verify.modules`) — read from a file, a module, an object, a dict or a
   ``(loss, gradients)`` pair; its params, sizes and target domain given, inferred or drawn
   (seeded), Y by :func:`derive.targets.draw_targets`;
2. **the precision** (:mod:`verify.twin`) — float32 code (the dtype of the params, of the
   gradients, of the loss, or a module attribute ``DTYPE``) is checked at the point rounded to
   float32, against float64 differences of its own loss or of its float64 twin when it can,
   else against float32 differences (a weaker check, said so);
3. **each entry** (:mod:`verify.steps`) — the step per parameter scale, the noise floor, rtol,
   half step and Richardson before calling it a disagreement;
4. **each disagreement** (:mod:`verify.kinks`) — a kink inside the step is told from a wrong
   gradient by the slope test and re-draws on both sides of the point; in directional mode a
   failing direction is narrowed to one entry by bisection (:mod:`verify.directional`);
5. **zeros** (here) — an entry whose analytic value and central difference are both exactly 0
   compares nothing.  A tensor that has only such entries at the point (a dead relu, a flat
   loss) is checked again, with its kinks and re-draws, at a *fresh point* — new params (by
   ``init_params`` or the parameter shapes; else the input params plus noise) whose entries
   that are exactly 0 (zero biases) are drawn N(0, 0.5²), a new batch X, Y drawn again in its
   domain — up to ``fresh_points`` times, from the same seeded generator.  A tensor that stays
   0 at every point is *uninformative*: not a failure (an unused parameter, a step network),
   but said in the headline, the table and the notes;
6. **the report** (here) — the per-tensor table, the failures with the point they were found
   at, the likely bug of each failing tensor (:func:`~verify.report.diagnose_tensor`: a
   constant ratio such as N, "not averaged over the batch"; the transpose; zero), the
   thresholds (in one line of text; in full in the JSON) and notes of what was inferred.

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

import os
from typing import Any

import numpy as np

from derive.targets import TARGET_DOMAINS, draw_targets

from .directional import draw_direction, localise
from .evaluation import Evaluator, Point
from .kinks import Disagreement, redraw
from .modules import (GradientModule, Unusable, apply_network, as_float_array, call,
                      call_gradients, draw_params, finite_gradients, first_output, infer_sizes,
                      infer_targets, label_of, load_module, network_facts, read_module)
from .report import Failure, GradientReport, TensorRow, diagnose_checked
from .steps import NOISE_FACTOR, RTOL, Outcome, StepRule, check_entry
from .twin import choose_differences

#: Fresh points drawn, at most, for tensors whose gradient entries and differences were all
#: exactly 0 (nothing compared); and the scale of the N(0, s²) entries drawn there.
FRESH_POINTS = 5
FRESH_SCALE = 0.5
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

MODES = ("auto", "full", "directional")


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
        ``.py`` file, loaded with :func:`~verify.modules.load_module`.
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
        A key of :data:`derive.targets.TARGET_DOMAINS`.
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
    network = network_facts(spec)
    label = name or label_of(module_or_functions)
    try:
        if isinstance(module_or_functions, (str, os.PathLike)):
            module_or_functions = load_module(module_or_functions)
        module = read_module(module_or_functions, label)
        if network is not None:
            apply_network(module, *network)
        if param_shapes is not None:
            module.param_shapes = {k: tuple(v) for k, v in param_shapes.items()}
        if sizes is not None:
            module.sizes = tuple(sizes)
        if targets is not None:
            module.targets, module.targets_from = targets, "given"
        checker = _Checker(module, rng, mode=mode, directions=directions, redraws=redraws,
                           full_limit=full_limit, rtol=rtol, fresh_points=fresh_points)
        checker.prepare(params, X, Y, batch, seed)
        return checker.run()
    except Unusable as exc:
        message = str(exc) if exc.where else f"{label}: {exc}"
        return GradientReport(status="unusable", message=message, name=label)


class _Checker:
    """One run of :func:`check_gradients`: the point, the precision, the entries, the report."""

    def __init__(self, module: GradientModule, rng, *, mode, directions, redraws, full_limit,
                 rtol, fresh_points=FRESH_POINTS):
        self.module = module
        self.evaluator = Evaluator(module)
        self.rng = rng
        self.mode = mode
        self.directions = max(1, int(directions))
        self.redraws = max(0, int(redraws))
        self.fresh_points = max(0, int(fresh_points))
        self.full_limit = full_limit
        self.rtol_override = rtol
        self.notes: list[str] = []
        self.differences = "same loss"
        self.low_precision_why = ""

    # -- the point

    def prepare(self, params, X, Y, batch, seed):
        notes, origin, module = self.notes, [], self.module
        self.seed = seed
        if params is None:
            params = draw_params(module, self.rng, seed, notes)
            origin.append(notes[-1])
        else:
            origin.append("params given")
        if not isinstance(params, dict) or not params:
            raise Unusable("params must be a non-empty dict name -> array")
        params = {str(k): as_float_array(v, f"parameter {k}") for k, v in params.items()}
        if sum(v.size for v in params.values()) == 0:
            raise Unusable("the parameters have no entries to check (every tensor is empty)")
        given_dtypes = [v.dtype for v in params.values()]
        params = {k: v.astype(np.float64, copy=False) for k, v in params.items()}
        if module.param_shapes:
            expected = module.param_shapes
            if set(expected) != set(params):
                raise Unusable(f"params have keys {list(params)}, but the parameter shapes "
                               f"name {list(expected)}")
            for k, shape in expected.items():
                if params[k].shape != tuple(shape):
                    raise Unusable(f"parameter {k} has shape {params[k].shape}, the parameter "
                                   f"shapes say {tuple(shape)}")
        n_out = None
        if X is None:
            n_in, n_out = infer_sizes(module, params, batch, self.rng)
            X = self.rng.standard_normal((n_in, batch))
            origin.append(f"X drawn N(0, 1), {n_in}x{batch}")
        else:
            X = as_float_array(X, "X").astype(np.float64)
        self.domain = None
        if Y is None:
            if n_out is None:
                if module.sizes:
                    n_out = int(module.sizes[-1])
                elif module.forward is not None:
                    out = np.asarray(first_output(call("forward(params, X)", module.forward,
                                                       params, X)))
                    n_out = out.shape[0]
                else:
                    raise Unusable("Y not given and the module has no forward() to size it")
            self.domain = infer_targets(module, params, X, notes)
            Y = draw_targets(self.domain, (n_out, X.shape[1]), self.rng)
            origin.append(f"Y drawn in the {self.domain} domain")
        else:
            Y = as_float_array(Y, "Y").astype(np.float64)
        self.origin = "; ".join(origin)

        # Precision of the code: the given parameters' dtype, the gradients', the loss's, DTYPE.
        evaluator = self.evaluator
        grads = call_gradients(module, params, X, Y)
        dtypes = given_dtypes + [np.asarray(g).dtype for g in grads.values()]
        evaluator.set_data(X, Y)
        loss0 = evaluator.loss(params)
        dtypes.append(evaluator.loss_dtype)
        if module.dtype is not None:
            dtypes.append(module.dtype)
        floats = [d for d in dtypes if d.kind == "f"]
        evaluator.code_dtype = max(floats, key=lambda d: np.finfo(d).eps) if floats \
            else np.dtype(np.float64)
        if evaluator.code_dtype != np.float64:
            # Round the point so that analytic and numeric sides see the same numbers.
            params = evaluator.rounded(params)
            X, Y = evaluator.rounded(X), evaluator.rounded(Y)
            evaluator.set_data(X, Y)
            grads, loss0 = evaluator.gradients(params), None
            chosen = choose_differences(evaluator, params, self.rng)
            evaluator.difference_loss, evaluator.work_dtype = chosen.loss, chosen.work_dtype
            self.differences, self.low_precision_why = chosen.kind, chosen.why
            notes.append(chosen.note)
        else:
            grads = finite_gradients(grads)
        self.rule = StepRule.of(evaluator.code_dtype, evaluator.work_dtype,
                                own_precision=self.differences == "low precision",
                                rtol=self.rtol_override)
        self.input_point = {"origin": self.origin, "params": params, "X": X, "Y": Y}
        self._move_to(params, X, Y, grads, loss0)

    def _move_to(self, params, X, Y, grads=None, loss=None, fresh: int = 0) -> None:
        """Make (params, X, Y) the point the entries are checked at (``self.point0``)."""
        self.params = params
        self.evaluator.set_data(X, Y)
        shape = np.shape(X)
        self.batch_size = int(shape[1]) if len(shape) == 2 else None
        where = "the input point" if not fresh else f"fresh point #{fresh}"
        self.point0 = self.evaluator.point(params, grads=grads, loss=loss, where=where,
                                           fresh=fresh)

    def _fresh_point(self, fresh: int) -> tuple[dict, np.ndarray, np.ndarray, str]:
        """A new point, drawn from the checker's seeded generator: fresh params (by
        ``init_params`` or the parameter shapes when the module has them, else the input
        params plus N(0, 0.5²) noise), every entry that is exactly 0 (zero biases) replaced by
        an N(0, 0.5²) draw, X ~ N(0, 1) of the input's shape, Y drawn again in its domain
        (kept when it was given)."""
        scratch: list[str] = []
        module, given = self.module, self.input_point["params"]
        if module.init_params is not None or module.param_shapes:
            drawn = draw_params(module, self.rng, self.seed, scratch)
            how = "params drawn by init_params" if module.init_params is not None else \
                "params drawn N(0, 0.5²) from the parameter shapes"
            params = {k: as_float_array(drawn.get(k), f"parameter {k}").astype(np.float64)
                      for k in given}
            for k, value in params.items():
                if value.shape != given[k].shape:
                    raise Unusable(f"init_params() gave parameter {k} the shape {value.shape}")
        else:
            how = "the input params plus N(0, 0.5²) noise"
            params = {k: v + FRESH_SCALE * self.rng.standard_normal(v.shape)
                      for k, v in given.items()}
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
        if self.evaluator.code_dtype != np.float64:
            rounded = self.evaluator.rounded
            params, X, Y = rounded(params), rounded(X), rounded(Y)
        return params, X, Y, f"fresh point #{fresh} (seeded): " + "; ".join(parts)

    # -- the entries

    def _check(self, point: Point, name: str, key, direction) -> Outcome:
        return check_entry(self.evaluator, self.rule, point, name, key, direction)

    def _keys(self, shape, mode):
        if mode == "full":
            for index in np.ndindex(shape):
                yield index, None
        else:
            for k in range(self.directions):
                yield k, draw_direction(self.rng, shape)

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
                              name=self.module.name,
                              threshold_summary=self._threshold_summary())

    def _check_tensors(self, rows, fresh: int) -> tuple[list[Failure], list[str]]:
        """Check every entry of the tensors of ``rows`` at the current point; (failures, names
        of the tensors whose gradient entries and differences were all exactly 0)."""
        entries, zero, seen = [], [], {}
        for row in rows:
            row.checked = row.failed = row.redrawn = row.nondiff = 0
            row.max_rel_error = row.max_abs_error = row.atol = 0.0
            row.fresh = fresh
            informative = False
            for key, direction in self._keys(row.shape, self.resolved_mode):
                outcome = self._check(self.point0, row.name, key, direction)
                seen.setdefault(row.name, []).append((key, direction, outcome))
                row.checked += 1
                if outcome.kind == "ok":
                    _account(row, outcome)
                    informative = informative or outcome.analytic != 0 or outcome.numeric != 0
                else:
                    informative = True
                    entries.append((row, Disagreement(row.name, key, outcome, self.point0,
                                                      direction)))
            if not informative:
                row.zero_points += 1
                zero.append(row.name)
        redraw([entry for _, entry in entries], self.point0, rounds=self.redraws,
               evaluator=self.evaluator, root=self.rule.root, rng=self.rng, check=self._check)
        failures = self._failures(entries)
        for row in rows:
            row.diagnosis = diagnose_checked(self.point0.grads[row.name], seen.get(row.name, []),
                                             self.resolved_mode, self.batch_size) \
                if row.failed else []
        return failures, zero

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
                found = localise(point, row.name, direction, self._check)
                if found is not None:
                    index, coordinate = found
                    failures.append(_failure(row.name, index, coordinate, point, None,
                                             f"bisection of direction {entry.key + 1}"))
        return failures

    # -- the report

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
        self.notes.append(f"{self.evaluator.evaluations} loss evaluations")

    def _thresholds(self) -> dict:
        """The rules of this run in full sentences (the JSON report's ``thresholds``)."""
        eps_name = f"eps({self.evaluator.work_dtype})"
        code = str(self.evaluator.code_dtype)
        rtol, root = self.rule.rtol, self.rule.root
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
            "rtol": rtol,
            "step_rule": (f"h = {eps_name}^(1/3)·max(1, |θ_i|) = {root:.3g}·max(1, |θ_i|) "
                          f"per coordinate; along a random unit direction u, "
                          f"h = {root:.3g}·max(1, max|θ|) over the tensor"),
            "pass_rule": (f"rel = |a − n| / max(|a|, |n|, tiny) ≤ rtol = {rtol:g} "
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
                                   f"the same loss, rtol = {rtol:g} (not the float64 "
                                   f"{float64_rtol}): a weaker check, since "
                                   f"{self.low_precision_why}")
        elif code != "float64":
            source = "the module's float64 twin (DTYPE = np.float64)" \
                if self.differences == "twin" else "the same loss (it resolves float64 inputs)"
            out["float32_note"] = (f"{code} gradients against float64 central differences, "
                                   f"rtol = {rtol:g} (for the {code} rounding of the "
                                   f"analytic side; float64 code gets {float64_rtol}), of "
                                   f"{source}")
        out["numeric_of"] = "its float64 twin's loss" if self.differences == "twin" else \
            "its loss"
        return out

    def _threshold_summary(self) -> str:
        """The facts of :meth:`_thresholds` in one line, for the text report: rtol and atol for
        this precision, the step rule, the mode and what is differenced, kinks and zeros."""
        work = str(self.evaluator.work_dtype)
        code = str(self.evaluator.code_dtype)
        rtol, root = self.rule.rtol, self.rule.root
        float64_rtol = f"{RTOL[np.dtype(np.float64)]:g}"
        if self.differences == "low precision":
            precision = (f"{code} gradients against {code} central differences, rtol = "
                         f"{rtol:g} (a weaker check; float64 code gets {float64_rtol})")
        elif code != "float64":
            precision = (f"{code} gradients against float64 central differences, rtol = "
                         f"{rtol:g} (float64 code gets {float64_rtol})")
        else:
            precision = f"float64 code, rtol = {rtol:g}"
        noise = f"atol = η/h, η = {NOISE_FACTOR}·eps({work})·max|L|" + (
            f", at least {NOISE_FACTOR}·eps({code})·max|g|" if code != "float64" else "")
        step = (f"step h = eps({work})^(1/3)·max(1, |θ_i|) = {root:.3g}·max(1, |θ_i|) per "
                f"coordinate, {root:.3g}·max(1, max|θ|) along a direction")
        mode = f"mode {self.resolved_mode}" + (
            f", {self.directions} random unit directions per tensor"
            if self.resolved_mode == "directional" else "")
        of = (f"the module's float64 twin (DTYPE = np.float64) at the {code}-rounded point"
              if self.differences == "twin" else "the same loss")
        return (f"{precision} on rel = |a − n| / max(|a|, |n|, atol/rtol), {noise}; {step}; "
                f"{mode}: central {work} differences of {of}, n(h/2) and Richardson tried on "
                f"a miss; kinks: up to {self.redraws} re-draws at θ ± δ; all-0 tensors: up to "
                f"{self.fresh_points} fresh points")


def _account(row: TensorRow, outcome: Outcome) -> None:
    row.max_rel_error = max(row.max_rel_error, outcome.rel)
    row.max_abs_error = max(row.max_abs_error, outcome.abs)
    row.atol = max(row.atol, outcome.atol)


def _failure(tensor: str, entry, outcome: Outcome, point: Point, direction,
             localised_by: str | None = None) -> Failure:
    return Failure(tensor=tensor, entry=entry, analytic=outcome.analytic,
                   numeric=outcome.numeric, rel_error=outcome.rel, abs_error=outcome.abs,
                   step=outcome.step, value=outcome.value, redraw=point.redraw,
                   point_shift=point.shift, direction=direction, localised_by=localised_by,
                   fresh=point.fresh)


def _names(names) -> str:
    return ", ".join(names)


__all__ = ["check_gradients", "MODES", "FULL_LIMIT", "DIRECTIONS", "REDRAWS", "BATCH",
           "FRESH_POINTS", "FRESH_SCALE", "MAX_FAILURES"]
