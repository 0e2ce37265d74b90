"""General computation graphs (CMU 10-315): named nodes, reverse-mode accumulation over all paths.

A :class:`Graph` is a list of named nodes, each a SymPy expression of inputs, parameters and
other nodes, plus the name of the output node J (a scalar objective).  :func:`derive_graph`
derives ∂J/∂v for every node, parameter and input v in reverse topological order, as the CMU 10-315
notes do for z4 = f4(wD, wE, z2, z3), z3 = f3(wC, z1), z2 = f2(wB, z1), z1 = f1(wA, x)::

    ∂J/∂z1 = ∂J/∂z2 · ∂z2/∂z1 + ∂J/∂z3 · ∂z3/∂z1          (rule "accumulate")

Every node is kept as an expression of its *direct inputs only* (fresh symbols); the derivation
is a straight-line program (:class:`~derive.program.Program`) and
:meth:`GraphDerivation.explicit` substitutes back when a closed form is wanted.

Shapes
------
Every name is a scalar unless ``shapes`` says otherwise: ``n`` or ``[n]`` is a column n×1,
``[p, q]`` a p×q matrix (``[1, n]`` a row, treated as the vector of its entries, SPEC §3.1).
A node's shape is inferred from its expression; a shape declared for a node is checked.
A vector or matrix is an explicit SymPy Matrix of real entry symbols: ``x_1, x_2`` for a vector,
``W_1_2`` for row 1, column 2 of a matrix.  In node expressions ``*`` is the matrix product,
``.T`` the transpose; elementwise functions (``sin``, ``exp``, ``log``, ``tanh``, ``sigmoid``,
``relu``, ``Max`` … and every activation of :mod:`derive.activations`) apply entry by entry;
``softmax(z)`` is the vector softmax; ``sum(v)``, ``dot(u, v)`` and ``hadamard(u, v)`` are
provided.  A node must be a scalar, a vector or a matrix; the output must be a scalar.  A 1×1
product (``v.T*h``) is a scalar as a node's value and inside a function; to add it to a scalar
inside one expression write ``dot(v, h)``.

Layouts (SPEC §3.1)
-------------------
Numerator layout: ∂J/∂v is 1×n for v ∈ R^n, q×p for V ∈ R^{p×q}; a local Jacobian ∂c/∂p is
m×n.  Denominator layout: the transpose of each, and the chain product flips order
(∂J/∂p = Σ_c ∂c/∂p · ∂J/∂c), as the CMU 10-315 layout table shows.  A Jacobian that would be a 3- or
4-tensor (a vector node by a matrix, or a matrix node by anything) is written over vec(·), the
entries stacked column by column, and the step says so (``dh/dvec(W)``).

The TOML form of a graph is described in :mod:`derive.graphs.spec`.

Errors (a cycle, an undefined name, a missing output, a shape mismatch, malformed TOML, a
missing file) are :class:`~derive.errors.BadInput` naming the file, line and key.

Symbols of the program (glossary)
---------------------------------
=====================  ==========================================================
``z1``, ``h_2``        a node's value (scalar; entry 2 of a vector node)
``W_1_2``              entry (1, 2) of a matrix
``dJ_dz1``, ``dJ_dh_2``  the adjoint ∂J/∂z1 (total derivative), entry by entry
``dz2_dz1``            the local partial ∂z2/∂z1 of a child by a direct input;
                       ``dh_dx_1_2`` = ∂h_1/∂x_2, ``dh_dW_1_1_2`` = ∂h_1/∂W_12
=====================  ==========================================================
The local partials of the output J itself appear as their values (∂J/∂J = 1, so each is its own
contribution and needs no second name).

>>> g = Graph(nodes={"z1": "sin(x)", "z2": "x**3", "y": "z1*z2"}, output="y", inputs=["x"])
>>> d = derive_graph(g)
>>> d.gradient("x")
dy_dz1*dz1_dx + dy_dz2*dz2_dx
>>> d.gradient("x", explicit=True)
x**3*cos(x) + 3*x**2*sin(x)
>>> print(d.steps[-1].lhs, "=", d.steps[-1].rhs, f"[{d.steps[-1].rule}]")
dy/dx = dy_dz1*dz1_dx + dy_dz2*dz2_dx [accumulate]
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import sympy as sp
from sympy.matrices.exceptions import ShapeError
from sympy.parsing.sympy_parser import parse_expr

from ..calculus.concrete import jacobian_matrix
from ..calculus.result import check_layout
from ..derivation import Check, Derivation, Label
from ..errors import BadInput
from ..program import Program
from ..registry import TRANSFORMS
from ..render import Rendered
from .nodes import CONSTANTS, FUNCTIONS, RESERVED, names_used, node_text, shape_text
from .spec import Graph, load_graph

__all__ = ["GraphDerivation", "Variable", "derive_graph"]

# --- variables: the symbols of each name --------------------------------------------------------

@dataclass(frozen=True)
class Variable:
    """One name of the graph at its concrete shape.

    ``value`` is the Symbol (scalar) or Matrix of entry symbols; ``entries`` lists them in vec
    order (column by column); ``role`` is "input", "parameter" or "node".
    """

    name: str
    role: str
    shape: tuple
    value: sp.Basic
    entries: tuple

    @property
    def kind(self) -> str:
        rows, cols = self.shape
        if rows == cols == 1:
            return "scalar"
        return "vector" if 1 in self.shape else "matrix"

    def suffix(self, position: int) -> str:
        """The entry subscript of vec position ``position``: "", "_3" or "_1_2"."""
        if self.kind == "scalar":
            return ""
        if self.kind == "vector":
            return f"_{position + 1}"
        rows = self.shape[0]
        return f"_{position % rows + 1}_{position // rows + 1}"

    def reshape(self, row: list) -> sp.Basic:
        """Entries in vec order → a value of this variable's shape (Expr for a scalar)."""
        if self.kind == "scalar":
            return row[0]
        rows, cols = self.shape
        return sp.Matrix(rows, cols, lambda i, j: row[j * rows + i])


def _make_variable(name: str, role: str, shape: tuple) -> Variable:
    rows, cols = shape
    if rows == cols == 1:
        symbol = sp.Symbol(name, real=True)
        return Variable(name, role, shape, symbol, (symbol,))
    if rows == 1 or cols == 1:
        matrix = sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}_{i + j + 1}", real=True))
    else:
        matrix = sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}_{i + 1}_{j + 1}",
                                                              real=True))
    entries = tuple(matrix[i, j] for j in range(cols) for i in range(rows))
    return Variable(name, role, shape, matrix, entries)


# --- the derivation -----------------------------------------------------------------------------

@dataclass
class GraphDerivation(Derivation, Rendered):
    """∂J/∂v for every node, parameter and input v of a :class:`Graph`.

    Steps, in order: one ``definition`` per node (its expression over its direct inputs), then,
    for each name in reverse topological order, one ``diff`` step per local Jacobian ∂c/∂v of
    each child c, followed by the adjoint ∂J/∂v (``chain_rule`` for one child, ``accumulate``
    for several, ``definition`` for J itself and for names J does not depend on).

    Attributes
    ----------
    graph : Graph
    layout : str
        "numerator" or "denominator": the layout of every derivative step.
    variables : dict
        name → :class:`Variable`, in forward (topological) order.
    order : tuple of str
        The forward order: inputs, parameters, then nodes topologically (ties by declaration).
    parents, children : dict
        name → direct inputs of a node (in order of use);
        name → the nodes that use it and lead to J.
    """

    graph: Graph | None = None
    program: Program = field(default_factory=lambda: Program(()))
    variables: dict = field(default_factory=dict)
    order: tuple = ()
    parents: dict = field(default_factory=dict)
    children: dict = field(default_factory=dict)
    #: (child, parent) → how ∂child/∂parent is written: (child's name, parent's name with the
    #: entry it is differentiated by, e.g. ("z2", "W_12")).
    wrt_names: dict = field(default_factory=dict)
    _adjoint_rows: dict = field(default_factory=dict, repr=False)
    _gradients: dict = field(default_factory=dict, repr=False)
    _locals: dict = field(default_factory=dict, repr=False)

    @property
    def output(self) -> str:
        return self.graph.output

    def explicit(self, expr: sp.Basic) -> sp.Basic:
        """``expr`` with every intermediate symbol replaced by its definition."""
        return self.program.expand(expr)

    def symbol(self, name: str) -> sp.Basic:
        """The Symbol (scalar) or Matrix of entry symbols that stands for ``name``."""
        return self._variable(name).value

    def _variable(self, name: str) -> Variable:
        if name not in self.variables:
            raise BadInput(f"no input, parameter or node named {name!r}; known: "
                           f"{', '.join(self.variables)}")
        return self.variables[name]

    def gradient(self, name: str, explicit: bool = False) -> sp.Basic:
        """∇_v J: the shape of ``name`` (an Expr for a scalar, else a Matrix; SPEC §3.1).

        Written over the adjoints of v's children and the local partials (``dJ_dz2*dz2_dz1 +
        …``); ``explicit=True`` substitutes the program down to inputs and parameters.
        """
        value = self._gradients[self._variable(name).name]
        return self.explicit(value) if explicit else value

    def over_nodes(self, expr: sp.Basic) -> sp.Basic:
        """``expr`` with adjoints and local partials substituted, node values kept as symbols.

        The form backprop code computes from a forward cache: ``grad_W2 = y_1*tanh(u_1)``.
        """
        nodes = {s for n, v in self.variables.items() if v.role == "node" for s in v.entries}
        program = Program(tuple(d for d in self.program.definitions if d[0] not in nodes))
        return program.expand(expr)

    def derivative(self, name: str, explicit: bool = False) -> sp.Basic:
        """∂J/∂v in the derivation's layout: numerator 1×n (q×p for a p×q matrix),
        denominator n×1 (p×q)."""
        value = self.gradient(name, explicit)
        variable = self.variables[name]
        if self.layout == "numerator" and variable.kind != "scalar":
            if variable.kind == "vector":
                return sp.Matrix([list(value)])
            return value.T
        if variable.kind == "vector":
            return sp.Matrix(list(value))
        return value

    def local_jacobian(self, child: str, parent: str, explicit: bool = False) -> sp.Basic:
        """∂child/∂parent as its ``diff`` step shows it (over direct inputs of ``child``)."""
        key = (child, parent)
        if key not in self._locals:
            raise BadInput(f"{child!r} does not use {parent!r} on a path to {self.output!r}")
        value = self._locals[key]
        return self.explicit(value) if explicit else value

    def leaves(self) -> list[str]:
        """Parameters then inputs, in declaration order: the names whose gradients one reports."""
        return list(self.graph.parameters) + list(self.graph.inputs)

    # --- numbers --------------------------------------------------------------------------
    def _bind(self, values: Mapping) -> dict:
        bound = {}
        for name in list(self.graph.inputs) + list(self.graph.parameters):
            if name not in values:
                raise BadInput(f"no value for {name!r}; give every input and parameter: "
                               f"{', '.join(self.leaves())}")
            variable = self.variables[name]
            array = np.asarray(values[name], dtype=float)
            if array.size != len(variable.entries):
                raise BadInput(f"value of {name!r} has shape {array.shape}; expected "
                               f"{variable.shape}")
            array = array.reshape(variable.shape)
            for position, symbol in enumerate(variable.entries):
                rows = variable.shape[0]
                bound[symbol] = float(array[position % rows, position // rows])
        return bound

    def value(self, values: Mapping) -> float:
        """J at ``values`` (name → number or array of the name's shape)."""
        symbol = self.variables[self.output].entries[0]
        return float(self.program.evaluate(self._bind(values), [symbol])[symbol])

    def evaluate(self, values: Mapping) -> dict:
        """∇_v J at ``values`` for every name v, by running the program with NumPy.

        Returns name → float (scalar) or ndarray of the name's shape, in forward order.
        """
        bound = self._bind(values)
        wanted = [e for row in self._adjoint_rows.values() for e in row
                  if isinstance(e, sp.Symbol)]
        computed = self.program.evaluate(bound, wanted)
        result = {}
        for name, row in self._adjoint_rows.items():
            numbers = [float(computed[e]) if isinstance(e, sp.Symbol) else float(e) for e in row]
            variable = self.variables[name]
            if variable.kind == "scalar":
                result[name] = numbers[0]
            else:
                result[name] = np.array(numbers, dtype=float).reshape(
                    variable.shape[::-1]).T.copy()
        return {name: result[name] for name in self.order}


def derive_graph(graph: Graph | Mapping | str, layout: str = "numerator") -> GraphDerivation:
    """Derive ∂J/∂v for every node, parameter and input of ``graph`` by reverse accumulation.

    Parameters
    ----------
    graph : Graph, mapping or path
        Anything :func:`load_graph` accepts.
    layout : {"numerator", "denominator"}
        Numerator: ∂J/∂v is 1×n, local Jacobians m×n, ∂J/∂p = Σ_c ∂J/∂c · ∂c/∂p.
        Denominator: the transposes, ∂J/∂p = Σ_c ∂c/∂p · ∂J/∂c.

    Returns
    -------
    GraphDerivation

    Examples
    --------
    >>> d = derive_graph({"nodes": {"y": "z*z", "z": "w*x"}, "output": "y",
    ...                   "inputs": ["x"], "parameters": ["w"]})
    >>> d.gradient("w", explicit=True)
    2*w*x**2
    >>> d = derive_graph({"nodes": {"J": "v.T*x"}, "output": "J", "inputs": ["x"],
    ...                   "parameters": ["v"], "shapes": {"x": 2, "v": 2}}, "denominator")
    >>> d.derivative("v").shape, d.gradient("v").shape
    ((2, 1), (2, 1))
    """
    check_layout(layout)
    graph = load_graph(graph)
    return _Builder(graph, layout).build()


class _Builder:
    """Checks a graph and writes its derivation: forward definitions, then reverse accumulation."""

    def __init__(self, graph: Graph, layout: str):
        self.graph = graph
        self.layout = layout
        self.d = GraphDerivation(graph=graph, layout=layout)
        self.definitions: list[tuple[sp.Symbol, sp.Expr]] = []
        self.names: dict[str, str] = {}   # symbol name → what it stands for (clash detection)

    # --- checks ---------------------------------------------------------------------------
    def _check_names(self) -> None:
        g = self.graph
        seen: dict[str, str] = {}
        for role, names in (("input", g.inputs), ("parameter", g.parameters),
                            ("node", [n for n, _ in g.nodes])):
            for name in names:
                key = f"nodes.{name}" if role == "node" else ("inputs" if role == "input"
                                                              else "parameters")
                if not name.isidentifier() or keyword.iskeyword(name):
                    raise BadInput(f"{role} name {name!r} is not an identifier", g.where(key))
                if name in RESERVED:
                    raise BadInput(f"{role} name {name!r} is the name of a function or "
                                   "constant of the expression language; rename it",
                                   g.where(key))
                if name in seen:
                    raise BadInput(f"{name!r} is declared twice (as {seen[name]} and {role})",
                                   g.where(key))
                seen[name] = role
        if g.output not in dict(g.nodes):
            if g.output in seen:
                raise BadInput(f"the output {g.output!r} is a {seen[g.output]}; it must be a "
                               "node", g.where("output"))
            raise BadInput(f"the output node {g.output!r} is not defined; nodes: "
                           f"{', '.join(n for n, _ in g.nodes)}", g.where("output"))
        for name, _ in g.shapes:
            if name not in seen:
                raise BadInput(f"shape given for {name!r}, which is not an input, parameter or "
                               "node", g.where(f"shapes.{name}"))

    def _dependencies(self) -> dict[str, list[str]]:
        g = self.graph
        known = set(g.declared())
        deps = {}
        for name, expr in g.nodes:
            if isinstance(expr, bool) or not isinstance(expr, (str, int, float, sp.Basic)):
                raise BadInput(f"node {name!r} must be a SymPy expression string, got {expr!r}",
                               g.where(f"nodes.{name}"))
            text = node_text(expr)
            if not text.strip():
                raise BadInput(f"node {name!r} is empty", g.where(f"nodes.{name}"))
            used = names_used(text, f"node {name!r}:", g.where(f"nodes.{name}"))
            undefined = [n for n in used if n not in known and n not in RESERVED]
            if undefined:
                raise BadInput(f"node {name!r} uses undefined name(s) {', '.join(undefined)} "
                               "(not an input, parameter, node or known function)",
                               g.where(f"nodes.{name}"))
            deps[name] = [n for n in used if n in known]
        return deps

    def _topological(self, deps: dict[str, list[str]]) -> list[str]:
        """Nodes in an order where each comes after its inputs; ties by declaration order."""
        declared = [n for n, _ in self.graph.nodes]
        placed: list[str] = []
        remaining = list(declared)
        while remaining:
            ready = [n for n in remaining
                     if all(p in placed or p not in deps for p in deps[n])]
            if not ready:
                raise BadInput(f"the graph has a cycle: {self._cycle(remaining, deps)}",
                               self.graph.where(f"nodes.{remaining[0]}"))
            placed.append(ready[0])
            remaining.remove(ready[0])
        return placed

    @staticmethod
    def _cycle(remaining: list[str], deps: dict[str, list[str]]) -> str:
        path = [remaining[0]]
        while True:
            nxt = next(p for p in deps[path[-1]] if p in remaining and p in deps)
            if nxt in path:
                cycle = path[path.index(nxt):] + [nxt]
                return ", ".join(f"{a} uses {b}" for a, b in zip(cycle, cycle[1:]))
            path.append(nxt)

    # --- symbols --------------------------------------------------------------------------
    def _claim(self, name: str, meaning: str) -> sp.Symbol:
        if name in self.names:
            raise BadInput(f"symbol {name!r} would stand for both {self.names[name]} and "
                           f"{meaning}; rename one of the graph's names", self.graph.source)
        self.names[name] = meaning
        return sp.Symbol(name, real=True)

    def _define(self, name: str, meaning: str, value: sp.Expr) -> sp.Basic:
        """A fresh symbol for ``value`` in the program, or the value itself when it is 0."""
        if value == 0:
            return sp.S.Zero
        symbol = self._claim(name, meaning)
        self.definitions.append((symbol, value))
        return symbol

    def _add_variable(self, name: str, role: str, shape: tuple) -> Variable:
        variable = _make_variable(name, role, shape)
        for position, symbol in enumerate(variable.entries):
            self._claim(symbol.name, f"{role} {name}{variable.suffix(position)}")
        self.d.variables[name] = variable
        return variable

    # --- forward ----------------------------------------------------------------------------
    def _evaluate_node(self, name: str, expr) -> sp.Basic:
        g = self.graph
        where = g.where(f"nodes.{name}")
        text = node_text(expr)
        local = {**FUNCTIONS, **CONSTANTS,
                 **{n: v.value for n, v in self.d.variables.items()}}
        used = [n for n in self.d.parents[name]]
        shapes = ", ".join(f"{n} {shape_text(self.d.variables[n].shape)}" for n in used)
        try:
            value = parse_expr(text, local_dict=local, transformations=TRANSFORMS)
        except ShapeError as exc:
            detail = str(exc).rstrip(".") or type(exc).__name__
            raise BadInput(f"shape mismatch in node {name!r} = {text!r}: {detail}; shapes: "
                           f"{shapes}", where) from None
        except TypeError as exc:
            raise BadInput(f"node {name!r} = {text!r} combines values that do not fit "
                           f"({exc}); shapes: {shapes}", where) from None
        except Exception as exc:  # SymPy raises many types (SyntaxError, TokenError ...)
            raise BadInput(f"node {name!r} = {text!r} does not parse: {type(exc).__name__}: "
                           f"{exc}", where) from None
        if isinstance(value, sp.MatrixBase):
            value = value[0, 0] if value.shape == (1, 1) else sp.Matrix(value)
        elif isinstance(value, (int, float)):
            value = sp.sympify(value)
        if not isinstance(value, (sp.Expr, sp.MatrixBase)):
            raise BadInput(f"node {name!r} = {text!r} is not a number, vector or matrix "
                           f"({type(value).__name__})", where)
        allowed = {s for n in used for s in self.d.variables[n].entries}
        stray = sorted(str(s) for s in value.free_symbols if s not in allowed)
        if stray:
            raise BadInput(f"node {name!r} = {text!r} uses {', '.join(stray)}", where)
        return value

    def _forward(self, nodes: list[str]) -> None:
        g = self.graph
        declared_shapes = dict(g.shapes)
        expressions = dict(g.nodes)
        for name in nodes:
            value = self._evaluate_node(name, expressions[name])
            shape = value.shape if isinstance(value, sp.MatrixBase) else (1, 1)
            if name in declared_shapes and declared_shapes[name] != shape:
                raise BadInput(f"node {name!r} is {shape_text(shape)} but its declared shape "
                               f"is {shape_text(declared_shapes[name])}",
                               g.where(f"shapes.{name}"))
            if name == g.output and shape != (1, 1):
                raise BadInput(f"the output {name!r} must be a scalar; it is "
                               f"{shape_text(shape)} (reduce it with sum(...) or v.T*v)",
                               g.where(f"nodes.{name}"))
            variable = self._add_variable(name, "node", shape)
            entries = [value] if shape == (1, 1) else [value[i, j] for j in range(shape[1])
                                                       for i in range(shape[0])]
            self.definitions.extend(zip(variable.entries, entries))
            self.d.add(Label("node", of=name), value, "definition")
            self._node_values[name] = entries

    # --- backward ---------------------------------------------------------------------------
    def _ancestors_of_output(self) -> set[str]:
        reach, stack = {self.graph.output}, [self.graph.output]
        while stack:
            for parent in self.d.parents.get(stack.pop(), []):
                if parent not in reach:
                    reach.add(parent)
                    stack.append(parent)
        return reach

    def _local(self, child: str, parent: str) -> sp.Matrix:
        """Add the ``diff`` step ∂child/∂parent; return the numerator Jacobian of vec(child) by
        vec(parent) over local-partial symbols (explicit values for the output's partials)."""
        c, p = self.d.variables[child], self.d.variables[parent]
        explicit = jacobian_matrix(self._node_values[child], list(p.entries))
        if child == self.graph.output:
            symbolic = explicit
        else:
            symbolic = sp.Matrix(*explicit.shape, lambda i, j: self._define(
                f"d{child}_d{parent}{c.suffix(i)}{p.suffix(j)}",
                f"∂{child}{c.suffix(i)}/∂{parent}{p.suffix(j)}", explicit[i, j]))
        of = f"vec({child})" if c.kind == "matrix" else child
        if p.kind == "matrix" and c.kind == "scalar":
            wrt = parent
            shown = p.reshape(list(explicit))
            shown = shown.T if self.layout == "numerator" else shown
        else:
            wrt = f"vec({parent})" if p.kind == "matrix" else parent
            shown = explicit if self.layout == "numerator" else explicit.T
            if shown.shape == (1, 1):
                shown = shown[0, 0]
        self.d.wrt_names[(child, parent)] = (of, wrt)
        self.d._locals[(child, parent)] = shown
        self.d.add(Label("partial", of=of, wrt=wrt), shown, "diff", check=Check("sympy_diff"))
        return symbolic

    def _adjoint(self, name: str, locals_: dict) -> None:
        J, v = self.graph.output, self.d.variables[name]
        children = self.d.children[name]
        n = len(v.entries)
        if name == J:
            row, rule = [sp.S.One], "definition"
            total = sp.Matrix([[1]])
        elif not children:
            row, rule = [sp.S.Zero] * n, "definition"
            total = sp.zeros(1, n) if self.layout == "numerator" else sp.zeros(n, 1)
        else:
            terms = []
            for child in children:
                adjoint = sp.Matrix([self.d._adjoint_rows[child]])       # 1 × |c|
                if self.layout == "numerator":
                    terms.append(adjoint * locals_[child])
                else:
                    terms.append(locals_[child].T * adjoint.T)
            total = terms[0]
            for term in terms[1:]:
                total = total + term
            rule = "accumulate" if len(children) > 1 else "chain_rule"
            row = [self._define(f"d{J}_d{name}{v.suffix(k)}", f"∂{J}/∂{name}{v.suffix(k)}",
                                entry) for k, entry in enumerate(total)]
        sums = list(total)
        self.d._adjoint_rows[name] = row
        gradient = v.reshape(sums)
        self.d._gradients[name] = gradient
        if v.kind == "scalar":
            shown = gradient
        elif v.kind == "vector":
            shown = sp.Matrix([sums]) if self.layout == "numerator" else sp.Matrix(sums)
        else:
            shown = gradient.T if self.layout == "numerator" else gradient
        self.d.add(Label("partial", of=J, wrt=name), shown, rule)

    def build(self) -> GraphDerivation:
        g = self.graph
        self._check_names()
        deps = self._dependencies()
        nodes = self._topological(deps)
        self.d.parents = {name: deps[name] for name in nodes}
        self._node_values: dict[str, list] = {}
        shapes = dict(g.shapes)
        for role, names in (("input", g.inputs), ("parameter", g.parameters)):
            for name in names:
                self._add_variable(name, role, shapes.get(name, (1, 1)))
        self._forward(nodes)
        self.d.order = tuple(self.d.variables)
        reach = self._ancestors_of_output()
        self.d.children = {
            name: [c for c in nodes if c in reach and c != name and name in deps[c]
                   and name != g.output]
            for name in self.d.order}
        for name in reversed(self.d.order):
            locals_ = {child: self._local(child, name) for child in self.d.children[name]}
            self._adjoint(name, locals_)
        self.d.program = Program(tuple(self.definitions))
        self.d._adjoint_rows = {n: self.d._adjoint_rows[n] for n in self.d.order}
        self.d._gradients = {n: self.d._gradients[n] for n in self.d.order}
        return self.d
