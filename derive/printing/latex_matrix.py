r"""The LaTeX document of a matrix-form derivation (symbolic or integer sizes, one sample or a
batch): every value a matrix symbol printed through the derivation's symbol table (kind, layer)
and the profile (``W^{[1]}``, ``\Delta^{[2]}``, ``\tilde{W}^{(1)}``), the per-sample or batch
cost, and the derivation's overall check at the end.
"""

from __future__ import annotations

from ..naming import J, index_text
from ..notation import Profile
from .checks import check_latex
from .latex_doc import NetworkRenderer, summary

__all__ = ["MatrixRenderer"]


class MatrixRenderer(NetworkRenderer):
    """A ``MatrixDerivation``: matrix symbols named through the derivation's symbol table."""

    def __init__(self, d, profile: Profile):
        self.batch = d.batch
        self.net = d.network
        super().__init__(d, profile)
        if d.check:
            self.DERIVED = "derived by the engine, covered by the final check"

    def names(self) -> dict:
        return {symbol: self.sym(kind, layer)
                for symbol, (kind, layer) in self.d.symbols.table.items()}

    def bars(self) -> dict:
        return {symbol: self.sym("Wbar", layer)
                for symbol, (kind, layer) in self.d.symbols.table.items() if kind == "W"}

    def layers(self) -> list:
        net = self.net
        return [J, net.depth] if net.symbolic_depth else \
            list(range(1, net.depth + 1))

    def layer_activations(self) -> list:
        return [(layer, self.net.activation(layer)) for layer in self.layers()]

    def activation_name(self, function, argument):
        kind, layer = self.d.symbols.table.get(argument, (None, None))
        if kind not in ("z", "Z") or self.net.activation(layer).vector_valued:
            return None
        if self.net.activation(layer).function is not function:
            return None
        return self.phi(layer)

    def section(self, step) -> str:
        return "forward" if step.lhs.kind in ("z", "a", "C", "E") else "backward"

    def note(self, step) -> str:
        text = super().note(step)
        if self.batch and step.lhs.kind == "dC/da":
            # The engine's batch ∂C/∂A stacks the per-sample derivatives (Δ is unscaled).
            scale = r"$\frac{1}{N}$ of it" if self.net.reduction == "mean" else "the same"
            text += (" The derivatives of the samples' costs, side by side; the batch cost's "
                     f"is {scale}.")
        return text

    def cost(self) -> str:
        return self.sym("E" if self.batch else "C")

    LHS = {
        "z": lambda self, label: self.sym("Z" if self.batch else "z", label.layer),
        "a": lambda self, label: self.a(label.layer),
        "C": lambda self, label: self.sym("C"),
        "E": lambda self, label: self.sym("E"),
        "B": lambda self, label: self.sym("B", label.layer),
        "D": lambda self, label: self.sym("D", label.layer),
        "dC/da": lambda self, label: self.cost_derivative(label.layer, self.sym("C"),
                                                          row=not self.batch),
        "dE/dW": lambda self, label: self.derivative(self.cost(), self.sym("W", label.layer)),
        "dE/db": lambda self, label: self.derivative(self.cost(), self.sym("b", label.layer)),
        "grad": lambda self, label: self.nabla(self.parameter(label.wrt, label.layer),
                                               self.cost()),
    }

    FORM = "in matrix form "

    def samples(self) -> str:
        if self.batch:
            return rf"a batch of $N$ samples as the columns of ${self.sym('X')}$"
        return "one sample, vectors as columns"

    def gradients(self) -> str:
        lines = []
        layers = {index_text(layer): layer for layer in self.layers()}
        for name, value in self.d.gradients.items():
            layer = layers[name[1:]]
            lines.append((self.nabla(self.parameter(name, layer), self.cost()), self.rhs(value)))
        if self.batch:
            reduction = "mean" if self.net.reduction == "mean" else "sum"
            intro = f"Gradients of the batch cost (the {reduction} over the samples)."
        else:
            intro = "Gradients of the per-sample cost."
        return summary("Gradients", intro, lines)

    def footer(self) -> str:
        check = self.d.check
        if check:
            return rf"\noindent\textbf{{Checked:}} {check_latex(check)}."
        return r"\noindent\textbf{Not checked}: the derivation was made without its check."
