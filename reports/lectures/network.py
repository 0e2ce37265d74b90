r"""What the lectures of a network share: the derivations they show, their symbols, their parts.

:class:`NetworkLecture` holds the engine's per-sample derivation and, lazily, its batch form,
a :class:`~reports.lectures.lines.Writer` for each, and the expressions every course needs —
the Jacobians of a layer (``∂a/∂z``, ``∂z/∂a``) from the matrix calculus, the derivative of the
cost in the layout of the derivation (a row in numerator layout), the fused output signal.  A
course (:mod:`reports.lectures.cs229`, …) arranges them into its sections.

A hidden activation that is not entrywise (softmax) has no diagonal Jacobian; the courses then
write the chain with the Jacobian itself.
"""

from __future__ import annotations

from functools import cached_property
from itertools import count

import sympy as sp

from derive.calculus.constructors import mm, transpose
from derive.engine import derive_matrix
from derive.fusion import fuse_output
from derive.jacobians import jacobian
from derive.naming import N
from derive.printing.latex_doc import has_entrywise

from ..meta import describe
from .document import Algorithm, Group, Text
from .lines import Writer

__all__ = ["NetworkLecture"]


class NetworkLecture:
    """One network's derivations and the lines every course shows (module docstring)."""

    def __init__(self, d, profile, batch=None):
        self.d = d
        self._batch = batch
        self.net = d.network
        self.profile = profile
        self.layout = d.layout
        self.tags = count(1)
        self.w = Writer(d, profile, tags=self.tags)
        self.sym = d.symbols
        self.depth = self.net.depth
        self.generic = bool(self.net.symbolic_depth)
        self.aliases = {}

    # --- the derivations ---------------------------------------------------------------------
    @cached_property
    def batch(self):
        """The batch form's derivation and its writer (numbered on from this one)."""
        b = self._batch if self._batch is not None else self.d if self.d.batch else \
            derive_matrix(self.net, layout=self.layout, batch=True, check=True)
        return b, Writer(b, self.profile, tags=self.tags)

    def layers(self) -> list:
        """The layer positions: 1 … L, or (j, L) for a symbolic depth."""
        return list(self.net.positions()) if hasattr(self.net, "positions") else \
            list(range(1, self.depth + 1))

    # --- quantities ---------------------------------------------------------------------------
    def param(self, layer, kind: str):
        """The symbol of layer ``layer``'s weights (``W``) or bias (``b``), or ``None``."""
        for name, symbol in self.sym.params(layer).items():
            if name.startswith(kind):
                return symbol
        return None

    def param_name(self, layer, kind: str):
        for name in self.sym.params(layer):
            if name.startswith(kind):
                return name
        return None

    def _stage(self, layer, kind: str):
        known = self.d.definitions.get(self.sym.value(kind, layer))
        if known is not None:
            return known
        # A symbolic depth defines layers j and L; layer j+1 is stated from its layer object.
        stages = self.net.layer(layer).stages(self.sym, self.sym.a(layer - 1))
        return next(stage.value for stage in stages if stage.kind == kind)

    def pre_activation(self, layer):
        """The value of z^{l} over a^{l-1} and the layer's parameters."""
        return self._stage(layer, "z")

    def activation(self, layer):
        """The value of a^{l} over z^{l}."""
        return self._stage(layer, "a")

    def entrywise(self, layer) -> bool:
        return not self.net.activation(layer).vector_valued

    def in_layout(self, column):
        """A gradient-shaped (column) expression as a derivative in the derivation's layout."""
        return transpose(column) if self.layout == "numerator" else column

    def chain(self, *factors):
        """Jacobians multiplied in the layout's order (numerator: left to right as given,
        from the cost down; denominator: the transposed product, reversed)."""
        if self.layout == "numerator":
            return mm(*factors)
        return mm(*reversed(factors))

    def dadz(self, layer):
        """∂a/∂z of layer ``layer`` in the layout (diag(Φ'(z)) for an entrywise Φ)."""
        return jacobian(self.activation(layer), wrt=self.sym.z(layer), layout=self.layout).expr

    def dzda(self, layer):
        """∂z^{l}/∂a^{l-1} in the layout (W for the rows convention)."""
        return jacobian(self.pre_activation(layer), wrt=self.sym.a(layer - 1),
                        layout=self.layout).expr

    def fusion(self):
        return fuse_output(self.net.activation(self.depth), self.net.loss)

    def composed(self, expr, down_to: int):
        """``expr`` with the forward values of the layers above ``down_to`` written out: a
        function of a^{down_to} and the parameters (g^L of the layers down_to+1 … L)."""
        for layer in range(self.depth, down_to, -1):
            expr = expr.xreplace({self.sym.a(layer): self.activation(layer)})
            expr = expr.xreplace({self.sym.z(layer): self.pre_activation(layer)})
        return expr

    # --- named intermediates ------------------------------------------------------------------
    def alias(self, name: str, latex: str, value, writer=None):
        """A matrix symbol printed as ``latex`` (by ``writer``, default this lecture's) that
        stands for ``value`` (an expression over the derivation's symbols) when a line is
        checked: a course's own name for an intermediate (the Mines row E^{(l)}, Ensimag's
        P^j) without a printed line that the engine's symbols cannot say."""
        symbol = sp.MatrixSymbol(f"alias_{name}", *value.shape)
        self.aliases[symbol] = value
        (writer or self.w).renderer.printer.names[symbol] = latex
        return symbol

    def unalias(self, expr):
        """``expr`` with every alias replaced by its value (repeatedly: aliases of aliases)."""
        while True:
            done = expr.xreplace(self.aliases)
            if done == expr:
                return expr
            expr = done

    def named_line(self, lhs: str, expr, truth=None, what: str = "", writer=None,
                   shown: str | None = None):
        """A line ``lhs = expr`` printed with its aliases, checked with their values."""
        w = writer or self.w
        return w.line(lhs, self.unalias(expr), None if truth is None else self.unalias(truth),
                      shown=shown if shown is not None else w.tex(expr), what=what or lhs)

    # --- printed pieces -----------------------------------------------------------------------
    def s(self, kind: str, layer=None) -> str:
        return self.w.sym(kind, layer)

    def dcost(self, wrt: str, batch: bool = False) -> str:
        r"""∂L/∂(wrt) as the course writes it: a fraction (numerator), ∇ (denominator)."""
        cost = self.s("E" if batch else "C")
        if self.layout == "numerator":
            return self.w.frac(cost, wrt)
        return rf"\nabla_{{{wrt}}} {cost}"

    def grad(self, wrt: str, batch: bool = False) -> str:
        return rf"\nabla_{{{wrt}}} {self.s('E' if batch else 'C')}"

    def signal_line(self, layer, writer=None, batch=False):
        """The engine's signal of ``layer`` as its own line (δ^{[l]} = …)."""
        w = writer or self.w
        d = self.batch[0] if batch else self.d
        sig = d.signal(layer)
        return w.line(self.s("D" if batch else "B", layer), sig, d.signal(layer),
                      what=f"the signal of layer {layer}")

    def gradient_lines(self, layer, writer=None, batch=False, braced=False, kinds=("W", "b")):
        """∇ of the layer's weights and bias (``kinds``) from its signal, checked against the
        engine's gradients."""
        w = writer or self.w
        d = self.batch[0] if batch else self.d
        out = []
        for kind in kinds:
            name = self.param_name(layer, kind)
            if name is None or name not in d.gradients:     # a symbolic depth: layer j only
                continue
            value = d.gradient(name)
            symbol = self.s("W" if kind == "W" else "b", layer)
            shown = w.braced(value) if braced else None
            out.append(w.line(self.grad(symbol, batch), value, value, shown=shown,
                              what=f"the gradient of {name}"))
        return out

    def sgd(self, batch_cost: bool = True) -> Algorithm:
        """Gradient descent on every parameter, as the notes write the update."""
        cost = self.s("E" if batch_cost else "C")
        lines = [(0, r"\textbf{for} $t = 1, 2, \dots$ \textbf{do}"),
                 (1, r"\textbf{for} $l = 1, \dots, L$ \textbf{do}")]
        for kind in ("W", "b"):
            if self.param(1, kind) is None:
                continue
            symbol = self.s(kind, "l")
            lines.append((2, rf"${symbol} := {symbol} - \alpha\, "
                             rf"\frac{{\partial {cost}}}{{\partial {symbol}}}$"))
        return Algorithm("Gradient descent, learning rate $\\alpha$", tuple(lines))

    def batch_definitions(self) -> Group:
        """The batch's forward pass and cost, from the batch derivation (definitions)."""
        b, w = self.batch
        lines = [w.line(self._lhs(w, step.lhs), step.rhs) for step in b.steps
                 if step.lhs.kind in ("z", "a", "E")]
        return Group(rf"The samples are the ${N}$ columns of ${self.s('X')}$; each layer "
                     "is computed for all of them at once, the bias added to every column.",
                     tuple(lines))

    def _lhs(self, w, label) -> str:
        return w.renderer.lhs(label)

    def batch_gradients(self) -> Group:
        b, w = self.batch
        lines = []
        for layer in reversed(self.layers()):
            lines.append(self.signal_line(layer, w, batch=True))
            lines += self.gradient_lines(layer, w, batch=True)
        scale = r"$\frac{1}{N}$" if self.net.reduction == "mean" else "the sum over the samples"
        return Group(f"The signals of the samples side by side; each gradient is {scale} "
                     "of the per-sample gradients, summed by the matrix product.", tuple(lines))

    def setting(self) -> list:
        """What the lecture is about: the network, the layout, the activation's definition
        and its derivative with how the engine checked it (paragraphs)."""
        r = self.w.renderer
        about = describe(self.d, self.profile)
        text = [Text(f"The network: {about.network}; one sample, vectors as columns; "
                     f"derivatives in {self.layout} layout, gradients in the shape of their "
                     "parameter.")]
        legend = r.legend()
        if legend:
            text.append(Text(legend.removeprefix(r"\noindent").strip()))
        if any(has_entrywise(step.rhs) for step in self.d.steps):
            text.append(Text("Inside the per-entry loss and its derivative, sums, products "
                             f"(${self.profile.hadamard}$), fractions, powers and functions of "
                             "vectors are taken entry by entry."))
        return text
