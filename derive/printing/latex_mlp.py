r"""The LaTeX document of the Ensimag per-neuron derivation at concrete sizes: explicit matrices
over entry symbols (``W^{[1]}_{23}``, ``a^{[1]}_{2}``, ``\mathcal{P}^{3}_{1}``), printed as
``bmatrix``, with the local Jacobians ∂f^j/∂a^{j-1}, ∂f^j/∂w_k^j (w_k the weights of neuron k:
a row of W, a column in the columns convention) and the signals P^j and B^j.
"""

from __future__ import annotations

import sympy as sp

from ..notation import Profile
from .checks import check_latex
from .latex_doc import NetworkRenderer, summary
from .latex_expr import decorate, indices, paren, subscript

__all__ = ["NeuronRenderer"]


class NeuronRenderer(NetworkRenderer):
    """A per-neuron derivation: explicit matrices over entry symbols."""

    def __init__(self, d, profile: Profile):
        self.net = d.network
        # The network entry by entry: its layers' symbols and the targets y.
        self.explicit = d.explicit_network
        super().__init__(d, profile)

    def names(self) -> dict:
        """Every entry symbol of the network and of the signals → its LaTeX."""
        net, names = self.net, {}
        for layer in self.explicit.layers:
            j = layer.index
            first_column = layer.layer.variant.first_column
            W = self.sym("W", j)
            for r in range(layer.W.rows):
                for c in range(layer.W.cols):
                    names[layer.W[r, c]] = subscript(W, indices(r + 1, c + first_column))
            for kind, symbols, where in (("b", layer.b, j), ("a", layer.inputs, j - 1),
                                         ("z", layer.z, j), ("a", layer.a, j)):
                if symbols is None:
                    continue
                base = self.a(where) if kind == "a" else self.sym(kind, where)
                names.update({s: subscript(base, str(i + 1)) for i, s in enumerate(symbols)})
            for i in range(layer.n_in):                        # P^j = ∂C/∂a^{j-1}
                names[sp.Symbol(f"P{j}_{i + 1}", real=True)] = self.row_entry(j, i + 1)
            for i in range(layer.n_out):
                names[sp.Symbol(f"B{j}_{i + 1}", real=True)] = subscript(self.sym("B", j),
                                                                          str(i + 1))
        for i in range(net.sizes[-1]):
            names[sp.Symbol(f"P{net.depth + 1}_{i + 1}", real=True)] = \
                self.row_entry(net.depth + 1, i + 1)
        names.update({s: subscript(self.sym("y"), str(i + 1))
                      for i, s in enumerate(self.explicit.y)})
        names[sp.Symbol("C")] = self.sym("C")                  # C^{(n)} of the batch cost
        return names

    def row_entry(self, j: int, i: int) -> str:
        """Entry i of P^j = ∂C/∂a^{j-1}."""
        if self.signal_names_row():
            return subscript(self.sym("P", j), str(i))
        return self.frac(self.sym("C"), subscript(self.a(j - 1), str(i)))

    def layer_activations(self) -> list:
        return [(layer.index, layer.activation) for layer in self.explicit.layers]

    def section(self, step) -> str:
        if step.rule == "reduction":
            return "batch"
        return "forward" if step.lhs.kind in ("z", "a", "C") else "backward"

    def f(self, j) -> str:
        return decorate("f", self.profile.layer_index(j))

    def neuron(self, j: int, k: int) -> str:
        """The weights of neuron k of layer j: a row of W (a column for ``columns``)."""
        index = f":,{k}" if self.net.layer(j).variant.neurons_in_columns else f"{k},:"
        return subscript(self.sym("W", j), index)

    def phi_of(self, j) -> str:
        z = self.sym("z", j)
        return self.frac(self.phi(j) + paren(z), z)

    LHS = {
        "z": lambda self, label: self.sym("z", label.layer),
        "a": lambda self, label: self.a(label.layer),
        "C": lambda self, label: self.sym("C"),
        "E": lambda self, label: self.sym("E"),
        "B": lambda self, label: self.sym("B", label.layer),
        "P": lambda self, label: self.cost_derivative(label.layer - 1, self.sym("C"), row=True),
        "dphi/dz": lambda self, label: self.phi_of(label.layer),
        "df/da": lambda self, label: self.frac(self.f(label.layer), self.a(label.layer - 1)),
        "df/dw": lambda self, label: self.frac(self.f(label.layer),
                                               self.neuron(label.layer, label.index)),
        "df/db": lambda self, label: self.frac(self.f(label.layer), self.sym("b", label.layer)),
        "dE/dw": lambda self, label: self.derivative(self.sym("C"),
                                                     self.neuron(label.layer, label.index)),
        "dE/db": lambda self, label: self.derivative(self.sym("C"), self.sym("b", label.layer)),
        "dC/dz": lambda self, label: self.derivative(self.sym("C"), self.sym("z", label.layer)),
        "grad": lambda self, label: self.nabla(self.parameter(label.wrt, label.layer),
                                               self.sym("C")),
    }

    def gradients(self) -> str:
        lines = [(self.nabla(self.parameter(name, int(name[1:])), self.sym("C")),
                  self.rhs(value)) for name, value in self.d.gradients.items()]
        reduction = "mean" if self.net.reduction == "mean" else "sum"
        return summary("Gradients", "Gradients of the per-sample cost, as the steps from "
                        f"the signals give them (the batch gradient is their {reduction} over "
                        "the samples).", lines)

    def footer(self) -> str:
        check = getattr(self.d, "check", None)
        return rf"\noindent\textbf{{Checked:}} {check_latex(check)}." if check else ""
