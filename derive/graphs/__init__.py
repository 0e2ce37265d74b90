"""Computation graphs (CMU 10-315): named nodes, reverse-mode accumulation over all paths.

A presentation built from the same calculus as the engine: each node's local Jacobian comes
from :func:`derive.calculus.concrete.jacobian_matrix`, accumulated over every path to the
output (the multivariate chain rule).
"""

from .derivation import GraphDerivation, Variable, derive_graph
from .spec import Graph, load_graph, parse_graph

__all__ = ["Graph", "GraphDerivation", "Variable", "derive_graph", "load_graph", "parse_graph"]
