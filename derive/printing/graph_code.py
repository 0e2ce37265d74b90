"""A computation graph's gradients as code: one SymPy, or one NumPy, expression each.

``derive graph --format sympy`` and ``--format numpy`` (and ``render(d, "sympy" | "numpy")``
for a ``GraphDerivation``): ``grad_v = …`` for every parameter and input v, written in inputs
and parameters only, in the shape of v.  In NumPy, entries of a vector or matrix are read as
``W[i, j]`` (2-D arrays, vectors n×1), so each line evaluates on the variables' arrays.

>>> from derive.graphs import Graph, derive_graph
>>> d = derive_graph(Graph(nodes={"z": "w*x", "J": "sin(z)"}, output="J", inputs=["x"],
...                        parameters=["w"]))
>>> print(numpy_gradients(d), end="")
grad_w = x*np.cos(w*x)
grad_x = w*np.cos(w*x)
"""

from __future__ import annotations

import sympy as sp

from ..calculus.numpy_code import NumpyCodePrinter
from .text import one_line

__all__ = ["numpy_gradients", "sympy_gradients"]


def sympy_gradients(d) -> str:
    """``grad_v = <SymPy expression>`` for every parameter and input, in inputs and parameters
    only (a Matrix in the variable's shape)."""
    return "".join(f"grad_{name} = {one_line(d.gradient(name, explicit=True))}\n"
                   for name in d.leaves())


def numpy_gradients(d) -> str:
    """``grad_v = <one NumPy expression>`` for every parameter and input (see the module
    docstring)."""
    entries = {}
    for name in d.leaves():
        variable = d.variables[name]
        rows = variable.shape[0]
        for position, entry in enumerate(variable.entries):
            code = name if variable.kind == "scalar" else \
                f"{name}[{position % rows}, {position // rows}]"
            entries[entry] = sp.Symbol(code)
    printer = NumpyCodePrinter()
    lines = []
    for name in d.leaves():
        value = d.gradient(name, explicit=True).xreplace(entries)
        if isinstance(value, sp.MatrixBase):
            rows = ", ".join("[" + ", ".join(printer.doprint(e) for e in value.row(i)) + "]"
                             for i in range(value.rows))
            code = f"np.array([{rows}])"
        else:
            code = printer.doprint(value)
        lines.append(f"grad_{name} = {code}")
    return "\n".join(lines) + "\n"
