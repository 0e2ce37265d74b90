r"""Check a multi-step derivation typed in LaTeX, line by line (SPEC §5, §7): :func:`check_derivation`.

A derivation is the ``align``/``equation``/``$$…$$``/``\[…\]`` blocks of a document
(:mod:`verify.derivation_lines` finds its '=' lines).  Every side of every line is read in the
notation profile's names for the network's own quantities (as :func:`verify.check_claim`
reads a claim: ``a^{[l]}``, ``z^{[l]}``, ``W^{[l]}``, ``\delta^{[l]}``, ``\hat{y}``, g, g'), each
derivative it names given its true value (:mod:`verify.derivation_truth`: ∂L/∂z^{[3]},
∂L/∂a^{[2]}, ∂a^{[2]}/∂z^{[2]} = diag(g'(z^{[2]})), ∂z^{[2]}/∂a^{[1]} = W^{[2]}; products of
them are products of matrices), and each '=' decided:

- the right side against the **true value of the left side** (the left side of the line
  above for a line that starts with ``=``); where the left side cannot be given a value (it
  names an entry, ∂L/∂W_{ij}), against the side before it: a chain of equalities;
- a wrong line is diagnosed as a claim is (:func:`verify.claim_diagnosis.diagnose`: the
  transpose, a factor, the sign, a dropped Φ', ⊙ for a matrix product, a neighbouring layer…),
  and a side of a shape that is neither the left side's nor its transpose is
  ``shape_mismatch`` — incorrect, the line having been read;
- a wrong line that equals the side before it repeats an earlier mistake: the step says so
  (``"equals_previous": true``);
- an ``\underbrace{X}_{2 \times 1}`` is read through as X and its shape checked (names such
  as ``m \times d`` are not); an annotation that is a value (``_{(a^{[3]} - y)}``) is checked
  against X as a step of its own line; one that cannot be read (words) is ignored.

Layouts: ∂…/∂… are in the layout asked for (numerator: ∂L/∂z is a row, ∂a/∂z is n×n, so that
a product of Jacobians in the chain's order, ∂L/∂a^{[2]} ∂a^{[2]}/∂z^{[2]} ∂z^{[2]}/∂a^{[1]},
is ∂L/∂a^{[1]}); ∇ is the gradient (the shape of the variable).  A Jacobian of a vector by a
matrix (∂z^{[2]}/∂W^{[2]}) is a 3-tensor with no matrix form; as the last factor of a chain
(numerator layout; the first, denominator) it is read as the chain rule reads it:
∂L/∂z^{[2]} ∂z^{[2]}/∂W^{[2]} is ∂L/∂W^{[2]} (:mod:`verify.derivation_tensor`); anywhere
else the line is unreadable, and its message says so.

The verdict is the first line's that is not correct; ``first_wrong`` its number among the
'=' lines (an unreadable line is ``invalid`` and also counted).

>>> import derive
>>> net = derive.mlp([2, 3, 1], activation="sigmoid", loss="bce")
>>> text = r'''\begin{align*}
... \frac{\partial \mathcal{L}}{\partial z^{[2]}} &= a^{[2]} - y \\
... \frac{\partial \mathcal{L}}{\partial W^{[2]}} &= (a^{[2]} - y) a^{[1]T}
... \end{align*}'''
>>> result = check_derivation(text, net, notation="cs229")
>>> result.headline
'incorrect: line 2 (layout swap)'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import sympy as sp

from derive.api import backprop
from derive.calculus.claim_nodes import LAYOUTS, Gradient
from derive.calculus.matrix_nodes import is_matrix
from derive.errors import BadInput
from derive.notation import get_profile

from .claims import bind_network, decide, network_problem
from .network_names import name_of, network_names
from .derivation_lines import EqualityLine, equality_lines
from .derivation_tensor import contract, split_tensor_factor
from .derivation_truth import NetworkCalculus
from .latex import parse_latex
from .verdict import METHODS, Diagnosis, Verdict, flat

#: File suffixes a string naming a derivation's file may have.
SUFFIXES = (".tex", ".md", ".txt", ".latex")


def _shape(expr) -> tuple:
    return tuple(expr.shape) if is_matrix(expr) else (1, 1)


def _plain(size: str) -> str:
    """A size as LaTeX, without spaces or outer parentheses (``(n_{0} + 1)`` → ``n_{0}+1``)."""
    size = size.replace(" ", "")
    return size[1:-1] if size.startswith("(") and size.endswith(")") else size


def _size(shape) -> str:
    return f"{shape[0]}×{shape[1]}"


@dataclass(frozen=True)
class Step:
    """The verdict on one '=' line.

    Attributes
    ----------
    line : int
        1-based among the '=' lines; ``source_line`` the document's line.
    latex : str
    verdict : Verdict
        Of the line's first side that is not correct (every side correct: the last's).
    against : str
        ``"left side"``, ``"previous side"`` or ``""`` (unread).
    equals_previous : bool or None
        For a wrong line: whether it equals the side before it (the mistake is earlier).
    checks : list of str
        What else was checked on the line (the underbraces' shapes and values).
    """

    line: int
    source_line: int
    latex: str
    verdict: Verdict
    against: str = ""
    equals_previous: bool | None = None
    checks: list = field(default_factory=list)

    def as_dict(self) -> dict:
        out = {"line": self.line, "verdict": self.verdict.verdict,
               "diagnosis": [d.as_dict() for d in self.verdict.diagnosis],
               "latex": self.latex, "source_line": self.source_line,
               "method": self.verdict.method, "against": self.against}
        if self.verdict.counterexample is not None:
            out["counterexample"] = self.verdict.counterexample
        if self.equals_previous is not None:
            out["equals_previous"] = self.equals_previous
        if self.checks:
            out["checks"] = list(self.checks)
        return out


@dataclass(frozen=True)
class DerivationVerdict:
    """The verdict on a derivation: ``verdict``, ``first_wrong`` (``None`` when every line is
    correct) and the ``steps``; :meth:`as_dict` the JSON of ``verify derivation``."""

    verdict: str
    first_wrong: int | None
    steps: list
    notes: tuple = ()

    @property
    def ok(self) -> bool:
        return self.verdict == "correct"

    @property
    def headline(self) -> str:
        """``correct: 6 lines``, ``incorrect: line 3 (missing transpose)``, ``invalid: …``."""
        if self.first_wrong is None:
            count = len(self.steps)
            return f"correct: {count} line{'s' if count != 1 else ''}"
        step = self.steps[self.first_wrong - 1]
        first = step.verdict.diagnosis[0]
        what = first.cls.replace("_", " ") if step.verdict.verdict == "incorrect" else \
            re.sub(r"^line \d+ \(source line \d+\): ", "", first.detail.splitlines()[0])
        return f"{self.verdict}: line {self.first_wrong} ({what})"

    def as_dict(self) -> dict:
        return {"verdict": self.verdict, "first_wrong": self.first_wrong,
                "steps": [step.as_dict() for step in self.steps]}

    def to_text(self) -> str:
        """The headline, one line per step, the first wrong line's counterexample, how each
        line was decided."""
        lines = [self.headline]
        for step in self.steps:
            verdict = step.verdict
            text = f"  line {step.line} (source line {step.source_line}): {verdict.headline}"
            if verdict.diagnosis:
                text += f" — {verdict.diagnosis[0].detail}"
            if step.against and verdict.verdict != "invalid":
                text += f" [against the {step.against}]"
            if step.equals_previous:
                text += " (it equals the side before it: the mistake is earlier)"
            lines.append(text)
            lines += [f"      {check}" for check in step.checks]
        if self.first_wrong is not None:
            wrong = self.steps[self.first_wrong - 1].verdict
            if wrong.counterexample:
                example = wrong.counterexample
                lines.append(f"counterexample at line {self.first_wrong}:")
                lines += [f"  {name} = {flat(value)}" for name, value in
                          example["point"].items()]
                lines.append(f"  this side: {flat(example['claimed'])}")
                lines.append(f"  true:      {flat(example['true'])}")
        methods = {}
        for step in self.steps:
            methods.setdefault(step.verdict.method, []).append(str(step.line))
        for method, numbers in methods.items():
            lines.append(f"decided by {METHODS.get(method, method)}: "
                         f"line{'s' if len(numbers) > 1 else ''} {', '.join(numbers)}")
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)


def _invalid(detail: str) -> Verdict:
    return Verdict("invalid", "unread", [Diagnosis("other", detail)])


class _Reader:
    """Reads the sides of a derivation's lines into values over one network's symbols."""

    def __init__(self, d, notation: str, layout: str):
        self.d, self.notation, self.layout = d, notation, layout
        names = network_names(d, notation)
        self.shapes = {name: _shape(symbol) for name, symbol in names.items()}
        self.calculus = NetworkCalculus(d)

    def _is_cost(self, side: str) -> bool:
        """Whether ``side`` is the profile's symbol of the cost (per sample, or the batch's)."""
        profile = get_profile(self.notation, where="notation")
        kind = "E" if self.d.batch else "C"
        own = name_of(profile.symbol(kind), self.notation)
        return own is not None and name_of(side.strip(), self.notation) == own

    def value(self, side: str, definitions: str, where: str):
        """(value, left node) of one side: its value over the network's symbols, and the
        parsed node (a Gradient, for the name of a transposed claim)."""
        text = f"{side}, {definitions}" if definitions else side
        if self._is_cost(side):                  # the loss itself: L = -y log(ŷ) - …
            return self.d.cost, None
        try:
            parsed = parse_latex(text, shapes=self.shapes, profile=self.notation,
                                 layout=self.layout, where=where)
        except BadInput as exc:
            unknown = re.search(r"no shape was declared for (\S+)", str(exc))
            chain = split_tensor_factor(side, self.layout) if "no matrix form" in str(exc) \
                else None
            if chain is not None:                 # ∂L/∂z ∂z/∂W: the chain rule's contraction
                rest, of, by = (self.value(part, definitions, where)[0] for part in chain)
                return contract(rest, of, by, self.layout, self.calculus), None
            if "no matrix form" in str(exc):
                place = "last" if self.layout == "numerator" else "first"
                raise BadInput(f"{exc}\n(a Jacobian by a matrix is read only as the {place} "
                               f"factor of a chain, in the {self.layout} layout: "
                               "∂L/∂z ∂z/∂W)", where) from None
            if unknown is None:
                raise
            raise BadInput(f"{unknown.group(1)} is not a quantity of this network in the "
                           f"{self.notation} notation (known: {', '.join(sorted(self.shapes))})"
                           f"\n{str(exc).splitlines()[-2]}\n{str(exc).splitlines()[-1]}",
                           where) from None
        value, _ = bind_network(parsed, self.d, self.notation)
        return value, parsed.expr


def _compare(d, claim, truth, gradient: bool, seed: int) -> Verdict:
    """The verdict on ``claim`` = ``truth`` (both over the network's symbols)."""
    claimed_shape, true_shape = _shape(claim), _shape(truth)
    problem = network_problem(d, claim, truth, gradient)
    if claimed_shape != true_shape:
        if claimed_shape != true_shape[::-1]:
            return Verdict("incorrect", "shape", [Diagnosis(
                "shape_mismatch", f"this side is {_size(claimed_shape)}, the side it equals "
                f"is {_size(true_shape)}")])
        problem.transposed = True
    try:
        return decide(problem, seed)
    except BadInput as exc:
        return _invalid(str(exc))
    except (TypeError, ValueError, AttributeError, NotImplementedError, sp.ShapeError,
            RecursionError) as exc:
        return _invalid(f"cannot evaluate this side: {type(exc).__name__}: {exc}")


def _annotation_checks(line: EqualityLine, reader: _Reader, d, seed: int) -> tuple:
    """(texts, first failing Verdict or None) of a line's underbrace annotations."""
    texts, failed = [], None
    for annotation in line.annotations:
        try:
            body, _ = reader.value(annotation.body, line.definitions, "underbrace")
        except BadInput:
            texts.append(f"underbrace {annotation.text}: not checked (its body is not read)")
            continue
        if annotation.shape is not None:
            rows, cols = annotation.shape
            shape = _shape(body)
            if not (rows.isdigit() and cols.isdigit()):
                # sizes by name: checked when they are the network's own (n_{1} \times 1)
                printed = [_plain(sp.latex(n)) for n in shape]
                if printed != [_plain(rows), _plain(cols)]:
                    texts.append(f"underbrace {annotation.text}: a shape in other names, "
                                 "not checked")
                    continue
                texts.append(f"underbrace {annotation.text}: right shape ({_size(shape)})")
                continue
            stated = (int(rows), int(cols))
            ok = shape == stated
            texts.append(f"underbrace {annotation.text}: {'right' if ok else 'wrong'} shape"
                         f" ({_size(shape)})")
            if not ok and failed is None:
                failed = Verdict("incorrect", "shape", [Diagnosis(
                    "shape_mismatch", f"the underbrace says {_size(stated)}, its expression "
                    f"is {_size(shape)}")])
            continue
        try:
            stated, _ = reader.value(annotation.text, line.definitions, "underbrace")
        except BadInput:
            texts.append(f"underbrace {annotation.text}: words, not checked")
            continue
        verdict = _compare(d, stated, body, False, seed)
        texts.append(f"underbrace {annotation.text}: {verdict.headline}")
        if verdict.verdict == "incorrect" and failed is None:
            failed = Verdict("incorrect", verdict.method, [
                Diagnosis(item.cls, f"the underbrace's value: {item.detail}")
                for item in verdict.diagnosis], verdict.counterexample, verdict.notes,
                verdict.points)
    return texts, failed


def _check_line(line: EqualityLine, reader: _Reader, d, state: dict, seed: int) -> Step:
    """One line's step; ``state`` carries the left side and the last side of the chain."""
    where = f"line {line.number}"

    def read(side):
        try:
            return reader.value(side, line.definitions, None)
        except BadInput as exc:
            if getattr(exc, "kind", None) == "shape" and "no shape was declared" not in \
                    str(exc):                      # read, but shapes that clash: a mistake
                raise _Clash(str(exc)) from None
            raise _Unread(f"{where} (source line {line.source_line}): {exc}") from None

    step = {"line": line.number, "source_line": line.source_line, "latex": line.latex}
    try:
        if line.continues:
            if "last" not in state and "unread" in state:
                raise _Unread(f"{where} continues line {state['unread']}, which could not "
                              "be read")
            if "last" not in state:
                raise _Unread(f"{where} starts with '=' but no line above it has a left side")
            left, gradient = state.get("left"), state.get("gradient", False)
        else:
            state.pop("unread_left", None)
            try:
                left, node = read(line.sides[0])
                gradient = isinstance(node, Gradient)
            except _Unread as exc:            # an entry ∂L/∂W_{ij}: the chain decides
                left, gradient, state["unread_left"] = None, False, str(exc)
            state.update(left=left, gradient=gradient, last=left)
        sides = [read(side)[0] for side in line.sides[1:]]
        state.pop("unread", None)
    except _Unread as exc:
        state.pop("last", None)
        state["unread"] = line.number
        return Step(**step, verdict=_invalid(str(exc)))
    except _Clash as exc:
        state.pop("last", None)
        state["unread"] = line.number
        return Step(**step, verdict=Verdict("incorrect", "shape", [
            Diagnosis("shape_mismatch", str(exc))]), against="shapes")
    if any(not side.strip() for side in line.sides[1:]):
        return Step(**step, verdict=_invalid(f"line {line.number}: nothing on the right of "
                                             "'='"))
    result, against, equals_previous = None, "", None
    for value in sides:
        previous = state.get("last")
        reference, against = (left, "left side") if left is not None else \
            (previous, "previous side")
        if reference is None:
            result = _invalid(state.get("unread_left", f"line {line.number}: the left side "
                                        "cannot be read"))
            break
        result = _compare(d, value, reference, gradient, seed)
        state["last"] = value
        if result.verdict != "correct":
            if previous is not None and previous is not reference:
                equals_previous = _compare(d, value, previous, gradient, seed).verdict == \
                    "correct"
            break
    checks, failed = _annotation_checks(line, reader, d, seed)
    if failed is not None and result.verdict == "correct":
        result, against = failed, "underbrace"
    return Step(**step, verdict=result, against=against, equals_previous=equals_previous,
                checks=checks)


class _Unread(Exception):
    """A side that cannot be read (the message names the line)."""


class _Clash(Exception):
    """A side whose shapes do not fit (a product of a 1×2 by a 3×1): a wrong line."""


def _text_of(text_or_path) -> str:
    if isinstance(text_or_path, Path) or (
            isinstance(text_or_path, str) and "\n" not in text_or_path and
            text_or_path.strip().lower().endswith(SUFFIXES)):
        path = Path(text_or_path)
        try:
            return path.read_text(encoding="utf-8")
        except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
            raise BadInput(f"{exc.strerror}: {path}", "FILE") from None
        except UnicodeDecodeError:
            raise BadInput(f"{path} is not UTF-8 text", "FILE") from None
    if not isinstance(text_or_path, str):
        raise BadInput("the derivation must be LaTeX text or the path of a .tex file",
                       "derivation")
    return text_or_path


def check_derivation(text_or_path, net, notation: str | None = None,
                     layout: str = "numerator", seed: int = 0) -> DerivationVerdict:
    r"""The verdict on every '=' line of a derivation of ``net``'s gradients.

    Parameters
    ----------
    text_or_path : str or pathlib.Path
        LaTeX text (a document, its display-math blocks, or the lines themselves), or the path
        of a ``.tex`` (``.md``, ``.txt``) file.
    net : Network
        :func:`derive.mlp` or :func:`derive.load_spec`.
    notation : str, optional
        The profile whose names the derivation writes (default: the network's, else cs229).
    layout : {"numerator", "denominator"}
        The layout of its ∂…/∂….
    seed : int
        Seed of the random rational points.

    Returns
    -------
    DerivationVerdict

    Raises
    ------
    BadInput
        A bad argument, an unreadable file, or no '=' line in the text.
    """
    if layout not in LAYOUTS:
        raise BadInput(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}", "layout")
    text = _text_of(text_or_path)
    notation = notation or getattr(net, "notation", None) or "cs229"
    notation = getattr(notation, "name", notation)
    get_profile(notation, where="notation")
    lines = equality_lines(text)
    if not lines:
        raise BadInput("no '=' line found: write the derivation in align, equation, $$…$$ or "
                       r"\[…\] blocks, one '=' per line (lines separated by \\)", "derivation")
    d = backprop(net, layout=layout, form="matrix")
    reader = _Reader(d, notation, layout)
    state: dict = {}
    steps = [_check_line(line, reader, d, state, seed) for line in lines]
    first = next((step for step in steps if step.verdict.verdict != "correct"), None)
    notes = tuple(dict.fromkeys(note for step in steps for note in step.verdict.notes))
    if first is None:
        return DerivationVerdict("correct", None, steps, notes)
    return DerivationVerdict(first.verdict.verdict, first.line, steps, notes)


__all__ = ["DerivationVerdict", "SUFFIXES", "Step", "check_derivation"]
