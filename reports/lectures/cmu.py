r"""The CMU 10-315 lecture of a computation graph: the nodes as functions of their direct inputs
(z_4 = f_4(w_D, w_E, z_2, z_3)), the local derivatives of each node, the reverse accumulation
level by level — the chain rule, and where a node feeds several others the multivariate chain
rule, the contributions of every path adding up — the gradients, then the layout table
(numerator and denominator layouts) and the vᵀAv exercise, as the CMU 10-315 notes teach them.

Every line is checked here, not taken from the engine on trust: a line is evaluated at random
rational points (50 digits) and compared with ``sympy.diff`` of the graph's own formulas — the
local derivative of a node with the derivative of its expression, an adjoint ∂J/∂v (written
out down to the inputs and parameters) with the derivative of J written out;
:class:`GraphMismatch` stops the document otherwise.  The entries of the layout table are
computed by the matrix calculus (:func:`derive.jacobians.jacobian`) at symbolic size and
compared with ``sympy.diff`` at an explicit one; the exercise's lines are exact.

>>> import derive
>>> from reports.lectures import lecture
>>> doc = lecture(derive.derive_graph("examples/graph_cmu.toml"), "cmu")
>>> [section.title for section in doc.sections][:3]
['The computation graph', 'Local derivatives', 'Reverse accumulation']
"""

from __future__ import annotations

import random
import re
from itertools import count

import sympy as sp

from derive.derivation import Check, Label
from derive.jacobians import jacobian
from derive.printing.latex_escape import math_name
from derive.printing.latex_graph import GraphRenderer
from derive.program import Program
from verify.claim_points import evaluate, same

from .document import Algorithm, Eq, Group, Section, Table, Text
from .lines import LineMismatch

__all__ = [
    "GraphChecker",
    "GraphMismatch",
    "cmu_graph_sections",
    "layout_sections",
    "quadratic_form_section",
]

#: Rational points each graph line is compared at.
POINTS = 3
DIGITS = 50
#: Explicit size the layout table's identities are instantiated at.
TABLE_SIZES = {"N": 3, "M": 2}


class GraphMismatch(LineMismatch):
    """A displayed line of a graph's lecture differs from sympy.diff of the graph's formulas."""


# --- checking -----------------------------------------------------------------------------------

class GraphChecker:
    """Compare expressions over a graph's symbols at random rational points (module docstring).

    Every entry of every input, parameter and node gets a small positive rational (positive, so
    that a node's ``log`` or ``sqrt`` stays real); node values are free there, as the local
    derivatives are functions of them, and adjoints are compared written out.
    """

    def __init__(self, d, seed: int = 0):
        self.d = d
        symbols = [s for v in d.variables.values() for s in v.entries]
        rng = random.Random(seed)
        self.points = [{s: sp.Rational(rng.randint(1, 9), rng.randint(2, 9)) for s in symbols}
                       for _ in range(POINTS)]
        self.check = Check("rational_points", "sympy_diff", points=POINTS, digits=DIGITS)

    def compare(self, shown, truth, what: str) -> Check:
        """The check that ``shown`` equals ``truth`` (both written out) at every point.

        Raises
        ------
        GraphMismatch
            They differ at a point, or a side is not a finite number there.
        """
        shown, truth = self.d.explicit(shown), self.d.explicit(truth)
        for point in self.points:
            try:
                equal = same(evaluate(shown, point), evaluate(truth, point))
            except ValueError as exc:
                raise GraphMismatch(f"the line for {what} cannot be evaluated at a rational "
                                    f"point: {exc}") from None
            if not equal:
                raise GraphMismatch(f"the line for {what} differs from sympy.diff: {shown} vs "
                                    f"{truth}")
        return self.check


def _in_layout(d, variable, gradient):
    """A gradient (the shape of ``variable``) as the derivative steps show it in the layout."""
    if variable.kind == "scalar":
        return gradient
    entries = [gradient[i, j] for j in range(variable.shape[1]) for i in range(variable.shape[0])]
    if variable.kind == "vector":
        return sp.Matrix([entries]) if d.layout == "numerator" else sp.Matrix(entries)
    return gradient.T if d.layout == "numerator" else gradient


def _true_gradient(d, name):
    """∇_v J by sympy.diff of J written out down to v (a node: held free, every other node
    written out), in the shape of v."""
    variable = d.variables[name]
    kept = set(variable.entries)
    program = Program(tuple(p for p in d.program.definitions if p[0] not in kept))
    output = program.expand(d.variables[d.output].entries[0])
    return variable.reshape([sp.diff(output, e) for e in variable.entries])


def _true_local(d, child, parent):
    """∂child/∂parent by sympy.diff of the child's expression over its direct inputs, shaped as
    the derivation's ``diff`` step shows it."""
    c, p = d.variables[child], d.variables[parent]
    node = next(s.rhs for s in d.steps if s.lhs == Label("node", of=child))
    values = [node] if c.kind == "scalar" else [node[i, j] for j in range(c.shape[1])
                                                 for i in range(c.shape[0])]
    numerator = sp.Matrix(values).jacobian(list(p.entries))
    if p.kind == "matrix" and c.kind == "scalar":
        shaped = p.reshape(list(numerator))
        return shaped.T if d.layout == "numerator" else shaped
    shaped = numerator if d.layout == "numerator" else numerator.T
    return shaped[0, 0] if shaped.shape == (1, 1) else shaped


# --- the graph ----------------------------------------------------------------------------------

_ROLE_ORDER = {"parameter": 0, "input": 1, "node": 2}


class _GraphLecture:
    """A graph derivation's lines, numbered from ``tags`` and checked by a GraphChecker."""

    def __init__(self, d, profile, tags):
        self.d = d
        self.r = GraphRenderer(d, profile)
        self.checker = GraphChecker(d)
        self.tags = tags
        self.J = d.output
        self.nodes = [n for n in d.order if d.variables[n].role == "node"]

    # printing
    def name(self, name: str) -> str:
        return math_name(name)

    def names(self, names) -> str:
        texts = [f"${self.name(n)}$" for n in names]
        return texts[0] if len(texts) == 1 else ", ".join(texts[:-1]) + " and " + texts[-1]

    def eq(self, lhs: str, expr, truth=None, what: str = "", shown: str | None = None) -> Eq:
        text = shown if shown is not None else self.r.rhs(expr)
        if truth is None:
            return Eq(lhs, f"= {text}", str(next(self.tags)), definition=True)
        return Eq(lhs, f"= {text}", str(next(self.tags)),
                  check=self.checker.compare(expr, truth, what or lhs))

    def parents(self, node: str) -> list:
        """The direct inputs of ``node``: parameters, inputs, then nodes (the notes' order)."""
        order = list(self.d.order)
        return sorted(self.d.parents[node],
                      key=lambda n: (_ROLE_ORDER[self.d.variables[n].role], order.index(n)))

    def function(self, node: str) -> str:
        """``f_{4}(w_{D}, w_{E}, z_{2}, z_{3})`` for node z4: f indexed by the node's number
        (or its name), applied to its direct inputs; a node that copies another: its name."""
        parents = self.parents(node)
        if len(parents) == 1 and self.node_value(node) == self.d.symbol(parents[0]):
            return self.name(parents[0])
        match = re.fullmatch(r"[A-Za-z]+_?(\d+)", node)
        index = match.group(1) if match else self.name(node)
        args = ", ".join(self.name(n) for n in self.parents(node))
        return f"f_{{{index}}}({args})"

    def tidy(self, value):
        """A vector or matrix ``value`` with each node's expression written as the node (the
        derivative of tanh(W x + b)_1 as 1 - h_1^2): one screen wide, not the forward pass
        again in every entry.  Scalars are kept as the notes write them."""
        if not isinstance(value, sp.MatrixBase):
            return value
        nodes = {v: s for s, v in self.d.program.definitions
                 if s in self.node_entries and not v.is_Atom}
        return value.xreplace(nodes)

    @property
    def node_entries(self) -> set:
        return {s for n in self.nodes for s in self.d.variables[n].entries}

    def node_value(self, node: str):
        """The node's expression over its direct inputs (its definition step)."""
        return next(s.rhs for s in self.d.steps if s.lhs == Label("node", of=node))

    # sections
    def forward(self) -> Section:
        lines = []
        for node in self.nodes:
            value, form = self.node_value(node), self.function(node)
            text = self.r.rhs(value)
            shown = text if form == text else f"{form} = {text}"
            lines.append(self.eq(self.name(node), value, shown=shown))
        blocks = [Group(f"Each node is a function of its direct inputs only, computed in "
                        f"order from the inputs to the objective ${self.name(self.J)}$.",
                        tuple(lines))]
        shared = [n for n in self.d.order if len(self.d.children.get(n, [])) > 1]
        if shared:
            feeds = "; ".join(f"${self.name(n)}$ feeds {self.names(self.d.children[n])}"
                              for n in shared)
            blocks.append(Text(f"{feeds}: the derivative of ${self.name(self.J)}$ must add "
                               "up the paths, which needs the multivariate chain rule."))
        return Section("The computation graph", blocks)

    def local(self) -> Section:
        blocks = []
        for child in reversed(self.nodes):
            lines = []
            for parent in self.parents(child):
                if child not in self.d.children.get(parent, []):
                    continue
                of, wrt = self.d.wrt_names[(child, parent)]
                lhs = self.r.lhs(Label("partial", of=of, wrt=wrt))
                lines.append(self.eq(lhs, self.tidy(self.d.local_jacobian(child, parent)),
                                     _true_local(self.d, child, parent),
                                     what=f"d{child}/d{parent}"))
            if lines:
                which = "its input" if len(lines) == 1 else \
                    "each of its inputs, the others held fixed"
                blocks.append(Group(rf"${self.name(child)} = {self.function(child)}$ "
                                    f"differentiated in {which}.", tuple(lines)))
        return Section("Local derivatives", blocks)

    def levels(self) -> list:
        """The names J depends on, by distance from J: level k once all its children are
        known; in a level parameters, inputs, then nodes (the notes' order)."""
        level = {self.J: 0}
        for name in reversed(self.d.order):
            children = self.d.children.get(name, [])
            if name != self.J and children:
                level[name] = 1 + max(level[c] for c in children)
        order = list(reversed(self.d.order))
        out = []
        for k in range(1, max(level.values()) + 1):
            names = [n for n in order if level.get(n) == k]
            out.append(sorted(names, key=lambda n: (_ROLE_ORDER[self.d.variables[n].role],
                                                    order.index(n))))
        return out

    def _locals(self, name: str) -> dict:
        """Symbol of each local partial of ``name``'s children → its definition."""
        lookup = self.d.program.lookup()
        variable, out = self.d.variables[name], {}
        for child in self.d.children[name]:
            c = self.d.variables[child]
            for i in range(len(c.entries)):
                for j in range(len(variable.entries)):
                    symbol = sp.Symbol(f"d{child}_d{name}{c.suffix(i)}{variable.suffix(j)}",
                                       real=True)
                    if symbol in lookup:
                        out[symbol] = lookup[symbol]
        return out

    def adjoint_lines(self, name: str) -> list:
        d = self.d
        step = next(s for s in d.steps if s.lhs == Label("partial", of=self.J, wrt=name)
                    and s.rule != "diff")
        truth = _in_layout(d, d.variables[name], _true_gradient(d, name))
        lhs = self.r.lhs(step.lhs)
        if d.variables[name].kind == "vector":
            value, shown = self._chain(name)
            return [self.eq(lhs, value, truth, what=f"dJ/d{name}", shown=shown)]
        lines = [self.eq(lhs, step.rhs, truth, what=f"dJ/d{name}")]
        substituted = step.rhs.xreplace(self._locals(name))
        if d.variables[name].kind == "scalar" and substituted != step.rhs:
            lines.append(self.eq("", substituted, truth, what=f"dJ/d{name}",
                                 shown=self._products(name)))
        return lines

    def _chain(self, name: str):
        """∂J/∂v for a vector v as the notes' table writes it, Σ_c ∂J/∂c ∂c/∂v (denominator:
        ∂c/∂v ∂J/∂c), and its value: each adjoint (a row or column of its entries' symbols)
        times the local Jacobian its ``diff`` step shows."""
        d, J = self.d, self.name(self.J)
        v = d.variables[name]
        value, texts = None, []
        for child in d.children[name]:
            c = d.variables[child]
            if child == self.J:
                adjoint = sp.Matrix([[1]])
            else:
                adjoint = sp.Matrix([[sp.Symbol(f"d{self.J}_d{child}{c.suffix(i)}", real=True)
                                      for i in range(len(c.entries))]])
            local = d.local_jacobian(child, name)
            local = local if isinstance(local, sp.MatrixBase) else sp.Matrix([[local]])
            up, down = self.r.frac(J, self.name(child)), \
                self.r.frac(self.name(child), self.name(name))
            if d.layout == "numerator":
                term = adjoint * local if adjoint.shape[1] == local.shape[0] else \
                    adjoint[0, 0] * local
                text = f"{up} {down}"
            else:
                term = local * adjoint.T if local.shape[1] == adjoint.shape[1] else \
                    local * adjoint[0, 0]
                text = f"{down} {up}"
            texts.append(self.r.rhs(local) if child == self.J else text)
            value = term if value is None else value + term
        expected = (1, len(v.entries)) if d.layout == "numerator" else (len(v.entries), 1)
        if value.shape != expected:
            raise GraphMismatch(f"the chain rule for dJ/d{name} has shape {value.shape}, "
                                f"expected {expected}")
        return value, " + ".join(texts)

    def _products(self, name: str):
        """``∂J/∂c · (∂c/∂v written out)`` per child c, in the order of the chain rule, when
        v and its children are scalars (else ``None``: SymPy's order)."""
        d = self.d
        if any(d.variables[c].kind != "scalar" for c in d.children[name]):
            return None
        terms = []
        for child in d.children[name]:
            adjoint = self.r.rhs(sp.Symbol(f"d{self.J}_d{child}", real=True))
            local = d.local_jacobian(child, name)
            text = self.r.rhs(local)
            if isinstance(local, sp.Add):
                text = rf"\left({text}\right)"
            times = r" \cdot " if text[0].isdigit() or text.startswith("-") else " "
            terms.append(f"{text} {adjoint}" if d.layout == "denominator" else
                         f"{adjoint}{times}{text}")
        return " + ".join(terms)

    def accumulation(self) -> Section:
        d, J = self.d, self.name(self.J)
        start = Eq(self.r.frac(J, J), "= 1", str(next(self.tags)), definition=True)
        blocks = [Group(f"Reverse accumulation starts at the objective ${J}$; each node "
                        "below needs the derivatives of the nodes it feeds.", (start,))]
        for names in self.levels():
            lines = [line for name in names for line in self.adjoint_lines(name)]
            shared = [n for n in names if len(d.children[n]) > 1]
            above = sorted({c for n in names for c in d.children[n]},
                           key=list(d.order).index)
            note = (f"The chain rule, from the derivative{'s' if len(above) > 1 else ''} of "
                    f"{self.names(above)} above")
            for n in shared:
                note += (f"; ${self.name(n)}$ feeds {self.names(d.children[n])}: by the "
                         "multivariate chain rule the contributions of every path add up")
            blocks.append(Group(note + ".", tuple(lines)))
        unused = [n for n in d.order if n != self.J and not d.children.get(n)]
        if unused:
            blocks.append(Text(f"{self.names(unused)} {'is' if len(unused) == 1 else 'are'} "
                               f"on no path to ${J}$: {'its' if len(unused) == 1 else 'their'}"
                               " derivative is 0."))
        blocks.append(self.algorithm())
        return Section("Reverse accumulation", blocks)

    def algorithm(self) -> Algorithm:
        J = self.name(self.J)
        frac = self.r.frac
        if self.d.layout == "numerator":
            dx, dw = (rf"{frac(J, 'y')} {frac('y', 'x')}", rf"{frac(J, 'y')} {frac('y', 'w')}")
        else:
            dx, dw = (rf"{frac('y', 'x')} {frac(J, 'y')}", rf"{frac('y', 'w')} {frac(J, 'y')}")
        return Algorithm(f"Backpropagation, {self.d.layout} layout (CMU 10-315)", (
            (0, rf"\textbf{{init}} ${frac(J, J)} = 1$, every other derivative of ${J}$ $= 0$"),
            (0, r"\textbf{for} each node $y = f(x, w)$, from the objective down \textbf{do}"),
            (1, rf"${frac(J, 'x')}$ += ${dx}$"),
            (1, rf"${frac(J, 'w')}$ += ${dw}$")))

    def gradients(self) -> Section:
        d, J = self.d, self.name(self.J)
        lines = [self.eq(self.r.nabla(self.name(name), J),
                         self.tidy(d.over_nodes(d.gradient(name))),
                         _true_gradient(d, name), what=f"the gradient of {name}")
                 for name in d.leaves() if d.children.get(name)]
        if not lines:
            return Section("Gradients", [Text(f"${J}$ depends on no input or parameter.")])
        return Section("Gradients", [Group("Each in the shape of its variable, written over "
                                           "the inputs, the parameters and the node values of "
                                           "the forward pass.", tuple(lines))])


def cmu_graph_sections(d, profile, tags: count | None = None) -> list:
    """The sections of the CMU 10-315 lecture of the graph derivation ``d`` in ``profile``."""
    tags = tags if tags is not None else count(1)
    g = _GraphLecture(d, profile, tags)
    return [g.forward(), g.local(), g.accumulation(), g.gradients(),
            *layout_sections(d.layout), quadratic_form_section(d.layout, tags)]


# --- the layout table ---------------------------------------------------------------------------

#: The notes' table of derivatives with respect to vectors: (derivative as the notes write it,
#: the formula and variable for derive.jacobian, its options, the formula over explicit
#: matrices, a note).
IDENTITIES = (
    (r"\partial \mathbf{v} / \partial \mathbf{v}", "v", "v", {}, lambda m: m["v"], ""),
    (r"\partial (t\mathbf{v}) / \partial \mathbf{v}", "t v", "v", {"scalars": ("t",)},
     lambda m: m["t"] * m["v"], r"$t \in \mathbb{R}$"),
    (r"\partial (\mathbf{u}^T \mathbf{v}) / \partial \mathbf{u}", "u^T v", "u", {},
     lambda m: m["u"].T * m["v"], ""),
    (r"\partial (\mathbf{u}^T \mathbf{v}) / \partial \mathbf{v}", "u^T v", "v", {},
     lambda m: m["u"].T * m["v"], ""),
    (r"\partial (\mathbf{v}^T \mathbf{v}) / \partial \mathbf{v}", "v^T v", "v", {},
     lambda m: m["v"].T * m["v"], ""),
    (r"\partial (\mathbf{v}^T A \mathbf{v}) / \partial \mathbf{v}", "v^T A v", "v", {},
     lambda m: m["v"].T * m["A"] * m["v"], ""),
    (r"\partial (\mathbf{v}^T A \mathbf{v}) / \partial \mathbf{v}", "v^T A v", "v",
     {"symmetric": ("A",)}, lambda m: m["v"].T * m["S"] * m["v"], r"if $A = A^T$"),
    (r"\partial (B\mathbf{v}) / \partial \mathbf{v}", "B v", "v", {},
     lambda m: m["B"] * m["v"], r"$B \in \mathbb{R}^{M \times N}$"),
)
_SHAPES = {"v": ("N", 1), "u": ("N", 1), "A": ("N", "N"), "B": ("M", "N")}


def _explicit_matrices(t) -> dict:
    n, m = TABLE_SIZES["N"], TABLE_SIZES["M"]
    def entries(name, rows, cols):
        return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}{i + 1}{j + 1}", real=True))
    a = entries("A", n, n)
    return {"v": entries("v", n, 1), "u": entries("u", n, 1), "A": a, "B": entries("B", m, n),
            "S": sp.Matrix(n, n, lambda i, j: a[min(i, j), max(i, j)]), "t": t}


def _identity_cell(formula, wrt, options, explicit, layout) -> str:
    """The derivative by the matrix calculus, checked against sympy.diff at TABLE_SIZES."""
    result = jacobian(formula, wrt, layout=layout, shapes=_SHAPES, **options).expr
    sizes = {sp.Symbol(k): v for k, v in TABLE_SIZES.items()}
    t = next((s for s in result.free_symbols if s.name == "t"), sp.Symbol("t", real=True))
    matrices = _explicit_matrices(t)
    symmetric = "A" in options.get("symmetric", ())
    value = result.subs(sizes)
    value = value.xreplace({s: matrices["S" if s.name == "A" and symmetric else s.name]
                            for s in value.atoms(sp.MatrixSymbol)})
    value = sp.Matrix(sp.Matrix(value.doit()) if hasattr(value, "doit") else value)
    of = explicit(matrices)
    of = of[0, 0] if of.shape == (1, 1) else of
    truth = jacobian(of, matrices[wrt], layout=layout).expr
    truth = truth if isinstance(truth, sp.MatrixBase) else sp.Matrix([[truth]])
    if value.shape != truth.shape or (value - truth).applyfunc(sp.expand) != \
            sp.zeros(*truth.shape):
        raise LineMismatch(f"the layout table's {layout} entry for d({formula})/d{wrt} differs "
                           "from sympy.diff")
    names = {sp.MatrixSymbol(k, *(sp.Symbol(s) if isinstance(s, str) else s for s in shape)):
             rf"\mathbf{{{k}}}" for k, shape in _SHAPES.items() if shape[1] == 1}
    text = sp.latex(result, symbol_names=names)
    return "$" + text.replace(r"\mathbb{I}", "I_N") + "$"


def _shape(layout, of, wrt) -> str:
    """The shape of ∂of/∂wrt for explicit shapes ``of`` and ``wrt`` (sizes 2 … 5), named back by
    letter (m, n, p, q)."""
    letters = {1: "1", 2: "m", 3: "n", 4: "p", 5: "q"}
    x = sp.Matrix(*wrt, lambda i, j: sp.Symbol(f"x{i}{j}", real=True))
    y = sp.Matrix(*of, lambda i, j: (i + 2 * j + 1) * sum(x) ** (i + j + 1))
    y = y[0, 0] if of == (1, 1) else y
    x = x[0, 0] if wrt == (1, 1) else x
    result = jacobian(y, x, layout=layout).expr
    shape = result.shape if isinstance(result, sp.MatrixBase) else (1, 1)
    return rf"${letters[shape[0]]} \times {letters[shape[1]]}$"


#: The shapes part of the table: (derivative, shape of the function's value, of the variable,
#: note).
SHAPE_ROWS = (
    (r"\partial y / \partial x", (1, 1), (1, 1), r"$y, x \in \mathbb{R}$"),
    (r"\partial \mathbf{y} / \partial x", (2, 1), (1, 1), r"$\mathbf{y} \in \mathbb{R}^m$"),
    (r"\partial y / \partial \mathbf{x}", (1, 1), (3, 1), r"$\mathbf{x} \in \mathbb{R}^n$"),
    (r"\partial \mathbf{y} / \partial \mathbf{x}", (2, 1), (3, 1),
     r"$\mathbf{y} \in \mathbb{R}^m$, $\mathbf{x} \in \mathbb{R}^n$"),
    (r"\partial y / \partial X", (1, 1), (4, 5), r"$X \in \mathbb{R}^{p \times q}$"),
)


def layout_sections(layout: str) -> list:
    """The notes' layout tables: the shape of each kind of derivative in both layouts, then
    the derivatives of the usual functions of vectors (each entry computed by the matrix
    calculus and compared with sympy.diff), a section each."""
    columns = ("Derivative", "Numerator layout", "Denominator layout", "Notes")
    shapes = tuple((f"${name}$", _shape("numerator", of, wrt),
                    _shape("denominator", of, wrt), note)
                   for name, of, wrt, note in SHAPE_ROWS)
    rows = tuple((f"${name}$", _identity_cell(formula, wrt, options, explicit, "numerator"),
                  _identity_cell(formula, wrt, options, explicit, "denominator"),
                  note or r"$\mathbf{u}, \mathbf{v} \in \mathbb{R}^N$")
                 for name, formula, wrt, options, explicit, note in IDENTITIES)
    intro = Text("Numerator layout writes a derivative with the shape of the numerator down "
                 "the rows and that of the variable across (outputs by inputs: "
                 r"$\partial \mathbf{y}/\partial \mathbf{x}$ is $m \times n$); denominator "
                 "layout is its transpose, and the chain rule multiplies in the opposite "
                 f"order. This document is in {layout} layout.")
    return [Section("Layouts", [
        intro, Table("The shape of a derivative in each layout (computed by the calculus).",
                     columns, shapes)]),
        Section("Derivatives of functions with respect to vectors", [
            Table("Each entry computed by the matrix calculus at symbolic size and compared "
                  f"with sympy.diff at $N = {TABLE_SIZES['N']}$, $M = {TABLE_SIZES['M']}$.",
                  columns, rows)])]


# --- the vᵀAv exercise --------------------------------------------------------------------------

def _ordered(value) -> str:
    """LaTeX of ``value`` with its terms in the order written (unevaluated sums)."""
    if isinstance(value, sp.MatrixBase):
        rows = [" & ".join(_ordered(value[i, j]) for j in range(value.cols))
                for i in range(value.rows)]
        return r"\begin{bmatrix} " + r" \\ ".join(rows) + r" \end{bmatrix}"
    return sp.latex(value, order="none")


def _exact(shown, truth, what: str, against: str = "") -> Check:
    if sp.Matrix(shown - truth).applyfunc(sp.expand) != sp.zeros(*truth.shape):
        raise LineMismatch(f"the exercise's line for {what} is wrong")
    return Check("exact", against)


def quadratic_form_section(layout: str, tags: count | None = None) -> Section:
    r"""The notes' exercise: ∂(vᵀAv)/∂v = (A + Aᵀ)v for v ∈ R², A ∈ R^{2×2}, by expanding Av,
    then vᵀAv, differentiating the scalar, and expanding (Aᵀ + A)v; the closed form checked
    against the matrix calculus at any size."""
    tags = tags if tags is not None else count(1)
    v1, v2 = sp.symbols("v_1 v_2", real=True)
    A = sp.Matrix(2, 2, lambda i, j: sp.Symbol(f"A_{{{i + 1},{j + 1}}}", real=True))
    v = sp.Matrix([v1, v2])
    f = (v.T * A * v)[0, 0]

    def eq(lhs, value, check, shown=None):
        text = shown if shown is not None else sp.latex(value)
        return Eq(lhs, f"= {text}", str(next(tags)), check=check)

    a11, a12, a21, a22 = A
    add = lambda *terms: sp.Add(*terms, evaluate=False)
    mul = lambda *factors: sp.Mul(*factors, evaluate=False)
    pair = add(a12, a21)
    av = sp.Matrix([add(mul(a11, v1), mul(a12, v2)), add(mul(a21, v1), mul(a22, v2))])
    expanded = add(mul(a11, v1 ** 2), mul(pair, v1, v2), mul(a22, v2 ** 2))
    f_lhs = r"f(\mathbf{v}) = \mathbf{v}^T A \mathbf{v}"
    top = (eq(r"A \mathbf{v}", av, _exact(av, A * v, "Av"), shown=_ordered(av)),
           eq(f_lhs, expanded, _exact(sp.Matrix([expanded]), sp.Matrix([f]), "v^T A v"),
              shown=_ordered(expanded)))
    partials = [add(mul(2, a11, v1), mul(pair, v2)), add(mul(pair, v1), mul(2, a22, v2))]
    scalar = tuple(eq(rf"\frac{{\partial f}}{{\partial v_{k + 1}}}", p,
                      _exact(sp.Matrix([p]), sp.Matrix([sp.diff(f, var)]), f"df/dv{k + 1}",
                             "sympy_diff"), shown=_ordered(p))
                   for k, (p, var) in enumerate(zip(partials, (v1, v2))))
    column = sp.Matrix(partials)
    bottom = (eq(r"(A^T + A) \mathbf{v}", column, _exact(column, (A.T + A) * v, "(A^T + A)v"),
                 shown=_ordered(column)),)
    gradient = sp.Matrix([sp.diff(f, v1), sp.diff(f, v2)])
    closed = {}
    order = ("denominator", "numerator") if layout == "denominator" else \
        ("numerator", "denominator")
    for which in order:
        result = jacobian("v^T A v", "v", layout=which,
                          shapes={"v": ("n", 1), "A": ("n", "n")}).expr
        n, Av = sp.Symbol("n"), sp.MatrixSymbol("A", sp.Symbol("n"), sp.Symbol("n"))
        vv = sp.MatrixSymbol("v", n, 1)
        expected = (Av + Av.T) * vv if which == "denominator" else vv.T * (Av + Av.T)
        difference = sp.Matrix((result - expected).subs(n, 3).as_explicit())
        if result != expected and difference.applyfunc(sp.expand) != \
                sp.zeros(*difference.shape):
            raise LineMismatch(f"the matrix calculus gives {result} for d(v^T A v)/dv in "
                               f"{which} layout")
        value = (A + A.T) * v if which == "denominator" else v.T * (A + A.T)
        truth = gradient if which == "denominator" else gradient.T
        closed[which] = eq(r"\frac{\partial f}{\partial \mathbf{v}}", value,
                           _exact(value, truth, f"df/dv, {which} layout", "sympy_diff"),
                           shown=(r"(A + A^T)\mathbf{v} \quad \text{(denominator layout)}"
                                  if which == "denominator" else
                                  r"\mathbf{v}^T (A + A^T) \quad \text{(numerator layout)}"))
    return Section("Exercise: the derivative of $\\mathbf{v}^T A \\mathbf{v}$", [
        Text(r"Prove $\frac{\partial}{\partial \mathbf{v}} \mathbf{v}^T A \mathbf{v} = "
             r"(A^T + A)\mathbf{v}$ for $\mathbf{v} \in \mathbb{R}^2$ and "
             r"$A \in \mathbb{R}^{2 \times 2}$."),
        Group(r"Expand $A\mathbf{v}$, then $\mathbf{v}^T A \mathbf{v}$, in the scalars "
              r"$v_1, v_2, A_{i,j}$.", top),
        Group("The scalar partial derivatives.", scalar),
        Group(r"Bottom-up: expand $(A^T + A)\mathbf{v}$; its entries are the partials.", bottom),
        Group(r"So the derivative is $(A + A^T)\mathbf{v}$, a column, in denominator layout and "
              r"its transpose $\mathbf{v}^T(A + A^T)$ in numerator layout; the matrix calculus "
              r"(\texttt{derive.jacobian}) gives the same at any size $n$.",
              tuple(closed[w] for w in order))])
