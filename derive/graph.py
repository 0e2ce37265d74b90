"""General computation graphs (seed 001): named nodes, reverse-mode accumulation over all paths.

A :class:`Graph` is a list of named nodes, each a SymPy expression of inputs, parameters and
other nodes, plus the name of the output node J (a scalar objective).  :func:`derive_graph`
derives ∂J/∂v for every node, parameter and input v in reverse topological order, as seed 001
does for z4 = f4(wD, wE, z2, z3), z3 = f3(wC, z1), z2 = f2(wB, z1), z1 = f1(wA, x)::

    ∂J/∂z1 = ∂J/∂z2 · ∂z2/∂z1 + ∂J/∂z3 · ∂z3/∂z1          (rule "accumulate")

Every node is kept as an expression of its *direct inputs only* (fresh symbols); the derivation
is a straight-line program (:class:`~derive.derivation.Program`) and
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
(∂J/∂p = Σ_c ∂c/∂p · ∂J/∂c), as seed 001's table shows.  A Jacobian that would be a 3- or
4-tensor (a vector node by a matrix, or a matrix node by anything) is written over vec(·), the
entries stacked column by column, and the step says so (``dh/dvec(W)``).

TOML
----
::

    [graph]
    output = "J"
    inputs = ["x"]
    parameters = ["W", "b", "v"]

    [graph.nodes]            # any order; each a SymPy expression of inputs, parameters, nodes
    h = "tanh(W*x + b)"
    J = "v.T*h"

    [graph.shapes]           # optional; scalars by default
    W = [3, 2]
    x = 2
    b = 3
    v = 3

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

import io
import keyword
import os
import re
import tokenize
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import sympy as sp
from sympy.matrices.exceptions import ShapeError
from sympy.parsing.sympy_parser import parse_expr

from .activations import ACTIVATIONS
from .calculus.concrete import jacobian_matrix
from .calculus.result import check_layout
from .derivation import DerivationBase, Label, Program
from .errors import BadInput
from .registry import _FORBIDDEN, _TRANSFORMS

__all__ = ["Graph", "GraphDerivation", "derive_graph", "load_graph", "parse_graph"]

# --- the expression language of nodes ---------------------------------------------------------

_SCALAR_FUNCTIONS = ("sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sinh", "cosh", "asin",
                     "acos", "atan", "Abs", "sign", "erf", "Heaviside", "Max", "Min")
_CONSTANTS = {"e": sp.E, "pi": sp.pi}
_ATTRIBUTES = {"T"}


def _elementwise(function):
    """``function`` applied entry by entry when any argument is a matrix (scalars broadcast)."""
    def apply(*args):
        matrices = [a for a in args if isinstance(a, sp.MatrixBase)]
        if all(m.shape == (1, 1) for m in matrices):      # v.T*h inside relu(...) is a scalar
            return function(*(a[0, 0] if isinstance(a, sp.MatrixBase) else a for a in args))
        shape = matrices[0].shape
        if any(m.shape != shape for m in matrices):
            raise ShapeError(f"{getattr(function, '__name__', function)} of matrices of shapes "
                             + ", ".join(_shape_text(m.shape) for m in matrices))
        return sp.Matrix(*shape, lambda i, j: function(
            *(a[i, j] if isinstance(a, sp.MatrixBase) else a for a in args)))
    return apply


def _sum(value):
    return sp.Add(*value) if isinstance(value, sp.MatrixBase) else value


def _hadamard(u, v):
    if not (isinstance(u, sp.MatrixBase) and isinstance(v, sp.MatrixBase)):
        return u * v
    if u.shape != v.shape:
        raise ShapeError(f"hadamard of shapes {_shape_text(u.shape)} and {_shape_text(v.shape)}")
    return u.multiply_elementwise(v)


def _dot(u, v):
    if not (isinstance(u, sp.MatrixBase) and isinstance(v, sp.MatrixBase)) or len(u) != len(v):
        shapes = [_shape_text(a.shape) if isinstance(a, sp.MatrixBase) else "scalar"
                  for a in (u, v)]
        raise ShapeError(f"dot needs two vectors of the same length, got {shapes[0]} and "
                         f"{shapes[1]}")
    return sp.Add(*[a * b for a, b in zip(u, v)])


def _softmax(z):
    if not isinstance(z, sp.MatrixBase) or 1 not in z.shape:
        raise ShapeError("softmax needs a vector")
    return ACTIVATIONS.get("softmax").apply_vector(sp.Matrix(list(z)))


def _transpose(value):
    return value.T if isinstance(value, sp.MatrixBase) else value


def _functions() -> dict:
    table = {name: _elementwise(getattr(sp, name)) for name in _SCALAR_FUNCTIONS}
    table["abs"] = table["Abs"]
    for name in ACTIVATIONS.names():
        if name not in table and name != "softmax":
            table[name] = _elementwise(ACTIVATIONS.get(name).function)
    table.update(softmax=_softmax, sum=_sum, dot=_dot, hadamard=_hadamard, transpose=_transpose)
    return table


_FUNCTIONS = _functions()
_RESERVED = set(_FUNCTIONS) | set(_CONSTANTS)


def _node_text(expr) -> str:
    """A node's expression as text: strings as given, SymPy objects printed (read back later)."""
    return expr if isinstance(expr, str) else sp.sstr(expr)


def _shape_text(shape) -> str:
    return f"{shape[0]}x{shape[1]}"


def _names_used(text: str, what: str, where: str | None) -> list[str]:
    """Names the expression ``text`` refers to, in order of first use (attributes excluded)."""
    if _FORBIDDEN.search(text):
        raise BadInput(f"{what} {text!r} is not a plain mathematical expression", where)
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError) as exc:
        raise BadInput(f"{what} {text!r} does not parse: {exc}", where) from None
    names: list[str] = []
    previous = None
    for token in tokens:
        if token.type == tokenize.NAME:
            if previous is not None and previous.type == tokenize.OP and previous.string == ".":
                if token.string not in _ATTRIBUTES:
                    raise BadInput(f"{what} {text!r} uses .{token.string}; the only attribute "
                                   f"allowed is .T (transpose)", where)
            elif token.string not in names:
                names.append(token.string)
        if token.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.ENDMARKER):
            previous = token
    return names


# --- the graph spec -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Graph:
    """A computation graph: named nodes over inputs and parameters, and an output node J.

    Attributes
    ----------
    nodes : tuple of (name, expression)
        In declaration order (a dict is accepted).  An expression is a string in SymPy syntax,
        or a SymPy expression whose symbols carry the graph's names.
    output : str
        The node that is the objective J; must evaluate to a scalar.
    inputs, parameters : tuple of str
        Leaves of the graph.  Both get gradients; the split is for readers and reports.
    shapes : tuple of (name, (rows, cols))
        Shapes of non-scalar names (a dict of ``n``, ``[n]`` or ``[p, q]`` is accepted).
    source : str or None
        Where the graph came from (a file path), for error messages.
    lines : tuple of (key, line)
        Line numbers of keys in the source file (``"nodes.h"`` → 12), for error messages.
    """

    nodes: tuple
    output: str
    inputs: tuple = ()
    parameters: tuple = ()
    shapes: tuple = ()
    source: str | None = None
    lines: tuple = field(default=(), compare=False, repr=False)

    def __post_init__(self):
        nodes = self.nodes.items() if isinstance(self.nodes, Mapping) else self.nodes
        object.__setattr__(self, "nodes", tuple((str(k), v) for k, v in nodes))
        shapes = self.shapes.items() if isinstance(self.shapes, Mapping) else self.shapes
        object.__setattr__(self, "shapes", tuple(
            (str(k), _read_shape(v, self.where(f"shapes.{k}"))) for k, v in shapes))
        for key in ("inputs", "parameters"):
            value = getattr(self, key)
            if isinstance(value, str) or not all(isinstance(v, str) for v in value):
                raise BadInput(f"{key} must be a list of names, got {value!r}", self.where(key))
            object.__setattr__(self, key, tuple(value))
        if isinstance(self.lines, Mapping):
            object.__setattr__(self, "lines", tuple(self.lines.items()))

    def where(self, key: str) -> str:
        """``file:line: graph.key`` (or just ``graph.key``) for an error message."""
        lines = dict(self.lines)
        parts = [p for p in (self.source, str(lines[key]) if key in lines else None) if p]
        return ":".join(parts + [f" graph.{key}" if parts else f"graph.{key}"])

    def declared(self) -> list[str]:
        """Every name in declaration order: inputs, parameters, nodes."""
        return list(self.inputs) + list(self.parameters) + [name for name, _ in self.nodes]


def _read_shape(value, where: str) -> tuple[int, int]:
    if isinstance(value, bool):
        value = None
    if isinstance(value, int):
        value = [value]
    if isinstance(value, (list, tuple)) and len(value) == 1:
        value = [value[0], 1]
    if (isinstance(value, (list, tuple)) and len(value) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value)):
        return (value[0], value[1])
    raise BadInput(f"a shape is n, [n] or [rows, cols] of positive integers, got {value!r}",
                   where)


_GRAPH_KEYS = ("output", "inputs", "parameters", "nodes", "shapes")


def parse_graph(data: Mapping, source: str | None = None, text: str | None = None) -> Graph:
    """A :class:`Graph` from a mapping shaped like the TOML (with or without the ``graph`` key).

    ``text`` is the TOML source, used only to find the line of a key for error messages.
    """
    lines = _key_lines(text) if text is not None else {}
    where = source or "graph"
    if "graph" in data:
        data = data["graph"]
    elif "nodes" not in data:
        raise BadInput("no [graph] table: a graph spec needs [graph] with output, inputs, "
                       "parameters and [graph.nodes]", where)
    if not isinstance(data, Mapping):
        raise BadInput("[graph] must be a table", where)
    unknown = [k for k in data if k not in _GRAPH_KEYS]
    if unknown:
        line = lines.get(unknown[0])
        raise BadInput(f"unknown key graph.{unknown[0]}; known: {', '.join(_GRAPH_KEYS)}",
                       f"{where}:{line}" if line else where)
    nodes = data.get("nodes")
    if not isinstance(nodes, Mapping) or not nodes:
        raise BadInput("[graph.nodes] must be a non-empty table of name = \"expression\"",
                       f"{where}:{lines['nodes']}" if "nodes" in lines else where)
    if "output" not in data:
        raise BadInput("graph.output is missing: name the node that is the objective J", where)
    if not isinstance(data["output"], str):
        raise BadInput(f"graph.output must be a node name, got {data['output']!r}", where)
    shapes = data.get("shapes", {})
    if not isinstance(shapes, Mapping):
        raise BadInput("[graph.shapes] must be a table of name = n or [rows, cols]", where)
    return Graph(nodes=dict(nodes), output=data["output"], inputs=data.get("inputs", ()),
                 parameters=data.get("parameters", ()), shapes=dict(shapes), source=source,
                 lines=lines)


_HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\s\"]+?)\s*\]\s*(#.*)?$")
_KEY = re.compile(r"^\s*\"?([A-Za-z_][A-Za-z0-9_]*)\"?\s*=")


def _key_lines(text: str) -> dict[str, int]:
    """``"nodes.h"`` → line of ``h = …`` under ``[graph.nodes]``; ``"output"`` → its line."""
    lines: dict[str, int] = {}
    table = ""
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            table = header.group(1).replace(" ", "").replace('"', "")
            if table.startswith("graph."):
                lines.setdefault(table[len("graph."):], number)
            continue
        key = _KEY.match(line)
        if key is None:
            continue
        if table == "graph":
            lines.setdefault(key.group(1), number)
        elif table.startswith("graph."):
            lines.setdefault(f"{table[len('graph.'):]}.{key.group(1)}", number)
    return lines


def load_graph(path_or_dict) -> Graph:
    """A :class:`Graph` from a TOML file (path) or from a mapping shaped like it.

    >>> g = load_graph({"graph": {"output": "y", "inputs": ["x"],
    ...                           "nodes": {"y": "x**2"}}})
    >>> g.nodes
    (('y', 'x**2'),)
    """
    if isinstance(path_or_dict, Graph):
        return path_or_dict
    if isinstance(path_or_dict, Mapping):
        return parse_graph(path_or_dict)
    import tomllib

    path = os.fspath(path_or_dict)
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        raise BadInput("no such file", path) from None
    except IsADirectoryError:
        raise BadInput("is a directory, not a TOML file", path) from None
    try:
        text = raw.decode("utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError as exc:
        raise BadInput(f"not UTF-8 text: {exc}", path) from None
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        location = f"{path}:{match.group(1)}" if match else path
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        column = f" (column {match.group(2)})" if match else ""
        raise BadInput(f"malformed TOML: {message}{column}", location) from None
    return parse_graph(data, source=path, text=text)


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
class GraphDerivation(DerivationBase):
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
    layout: str = "numerator"
    variables: dict = field(default_factory=dict)
    order: tuple = ()
    parents: dict = field(default_factory=dict)
    children: dict = field(default_factory=dict)
    _adjoint_rows: dict = field(default_factory=dict, repr=False)
    _gradients: dict = field(default_factory=dict, repr=False)
    _locals: dict = field(default_factory=dict, repr=False)

    @property
    def output(self) -> str:
        return self.graph.output

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
                if name in _RESERVED:
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
            text = _node_text(expr)
            if not text.strip():
                raise BadInput(f"node {name!r} is empty", g.where(f"nodes.{name}"))
            used = _names_used(text, f"node {name!r}:", g.where(f"nodes.{name}"))
            undefined = [n for n in used if n not in known and n not in _RESERVED]
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
        text = _node_text(expr)
        local = {**_FUNCTIONS, **_CONSTANTS,
                 **{n: v.value for n, v in self.d.variables.items()}}
        used = [n for n in self.d.parents[name]]
        shapes = ", ".join(f"{n} {_shape_text(self.d.variables[n].shape)}" for n in used)
        try:
            value = parse_expr(text, local_dict=local, transformations=_TRANSFORMS)
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
                raise BadInput(f"node {name!r} is {_shape_text(shape)} but its declared shape "
                               f"is {_shape_text(declared_shapes[name])}",
                               g.where(f"shapes.{name}"))
            if name == g.output and shape != (1, 1):
                raise BadInput(f"the output {name!r} must be a scalar; it is "
                               f"{_shape_text(shape)} (reduce it with sum(...) or v.T*v)",
                               g.where(f"nodes.{name}"))
            variable = self._add_variable(name, "node", shape)
            entries = [value] if shape == (1, 1) else [value[i, j] for j in range(shape[1])
                                                       for i in range(shape[0])]
            self.definitions.extend(zip(variable.entries, entries))
            self.d.add(Label("node", of=name), value, "definition",
                       form=f"{name} = {_node_text(expressions[name])}")
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
        self._wrt_text[(child, parent)] = (of, wrt)
        self.d._locals[(child, parent)] = shown
        self.d.add(Label("partial", of=of, wrt=wrt), shown, "diff", check="sympy.diff",
                   form=f"d{of}/d{wrt}: local Jacobian of {child} by its input {parent}")
        return symbolic

    def _adjoint(self, name: str, locals_: dict) -> None:
        J, v = self.graph.output, self.d.variables[name]
        children = self.d.children[name]
        n = len(v.entries)
        if name == J:
            row, rule, form = [sp.S.One], "definition", f"d{J}/d{J} = 1"
            total = sp.Matrix([[1]])
        elif not children:
            row, rule = [sp.S.Zero] * n, "definition"
            form = f"d{J}/d{name} = 0: {J} does not depend on {name}"
            total = sp.zeros(1, n) if self.layout == "numerator" else sp.zeros(n, 1)
        else:
            terms, words = [], []
            for child in children:
                adjoint = sp.Matrix([self.d._adjoint_rows[child]])       # 1 × |c|
                of, wrt = self._wrt_text[(child, name)]
                if self.layout == "numerator":
                    terms.append(adjoint * locals_[child])
                    words.append(f"d{J}/d{of} · d{of}/d{wrt}")
                else:
                    terms.append(locals_[child].T * adjoint.T)
                    words.append(f"d{of}/d{wrt} · d{J}/d{of}")
            total = terms[0]
            for term in terms[1:]:
                total = total + term
            rule = "accumulate" if len(children) > 1 else "chain_rule"
            form = f"d{J}/d{name} = " + " + ".join(words)
            if v.kind == "matrix":
                form += f" (over vec({name}), arranged in the layout's shape)"
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
        self.d.add(Label("partial", of=J, wrt=name), shown, rule, form=form)

    def build(self) -> GraphDerivation:
        g = self.graph
        self._check_names()
        deps = self._dependencies()
        nodes = self._topological(deps)
        self.d.parents = {name: deps[name] for name in nodes}
        self._node_values: dict[str, list] = {}
        self._wrt_text: dict[tuple[str, str], tuple[str, str]] = {}
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
