"""Graph specs: a :class:`Graph` from TOML or a mapping, with errors naming file, line and key.

The TOML form::

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
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from typing import Mapping

from ..errors import BadInput

__all__ = ["Graph", "load_graph", "parse_graph"]

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


