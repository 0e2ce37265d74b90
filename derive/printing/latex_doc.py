r"""What the LaTeX documents of derivations share: rule titles, notes, blocks, network parts.

A document (SPEC §8) is a short header, one ``align*`` per part of the derivation (forward pass,
backward pass, …) with one line per step, tagged with the step's number, and before every line
an ``\intertext`` (the first line: a paragraph) naming the rule that gives it and how the engine
checked it; the gradients; the derivation's overall check.  Nothing is computed here: every
equality shown is one the engine recorded.  :class:`Renderer` is that skeleton; each derivation
kind fills in its hooks (symbol names, sections, left sides) in its own module —
:mod:`~derive.printing.latex_matrix`, :mod:`~derive.printing.latex_mlp`,
:mod:`~derive.printing.latex_graph` — and :class:`NetworkRenderer` holds what the two network
forms share (layers, the activation's name Φ, the signals P and B).

Notation: every symbol comes from the profile (:mod:`derive.notation`), never spelled here.
∂C/∂a is a fraction in numerator layout and ``\nabla_{a} C`` in denominator layout; Ensimag's
row signal P^j = ∂C/∂a^{j-1} keeps its name when the profile gives it one (``\mathcal{P}^{j}``);
gradients are ``\nabla_{W^{[l]}} J``.  The network's activation Φ is printed with the profile's
name (``g``, ``\Phi``, ``h``), indexed by layer only when the layers use different activations;
the header says which function Φ is.

Glossary: ``d`` a derivation; ``l``, ``j`` a layer index; ``C`` the per-sample cost, ``E`` the
batch cost (the profile's ``C`` and ``E``); ``P`` the row signal, ``B`` the column signal
(``D`` in batch form).
"""

from __future__ import annotations

import sympy as sp

from ..activations import x as ACTIVATION_VARIABLE
from ..errors import BadInput
from ..notation import Profile
from .checks import check_latex
from .forms import rule_sentence
from .latex_escape import latex_text
from .latex_expr import (NotationLatexPrinter, decorate, is_node, paren, prime, repair_scripts,
                         transpose_symbol)

__all__ = ["DEFINITIONS", "RULE_LATEX", "NetworkRenderer", "Renderer", "block", "has_entrywise",
           "rule_title", "summary"]


# --- rules and how they were checked --------------------------------------------------------------

#: Each rule of :data:`derive.derivation.RULES`, shortened for the line it justifies (text mode).
RULE_LATEX: dict[str, str] = {
    "definition": "Definition",
    "layer": "Definition of the layer",
    "loss": "Per-sample cost: the sum of the per-entry losses",
    "batch_loss": "Batch cost: the mean (or sum) of the per-sample costs",
    "diff": "Differentiation",
    "activation_derivative": "Derivative of the activation",
    "chain_rule": "Chain rule",
    "recursion_start": "Start of the backward recursion (Ensimag)",
    "recursion": "Backward recursion, by the chain rule (Ensimag)",
    "weight_gradient": "Chain rule for the weights of one neuron (Ensimag)",
    "bias_gradient": "Chain rule for the bias (Ensimag)",
    "gradient_transpose": "The gradient is the transposed derivative",
    "diag_hadamard": r"$\operatorname{diag}(v)\,u = v \odot u$",
    "signal_definition": "Definition of the backpropagated signal (Ensimag)",
    "signal_recursion": "Backward recursion of the signal",
    "signal_gradient": "Gradient from the signal",
    "simplify": "Simplification of the loss's derivative with the output activation",
    "target_domain": "A property of the loss's targets",
    "accumulate": "Multivariate chain rule: the contributions of every path add up",
    "reduction": "The gradient of a mean (sum) is the mean (sum) of the gradients",
    "layout": "Layout conversion (transpose)",
    "vjp": "Chain rule in reverse mode",
    "loss_gradient": "Derivative of the loss, entry by entry",
}
#: Rules whose steps are definitions: nothing to check.
DEFINITIONS = {"definition", "layer", "loss", "batch_loss", "reduction"}


def rule_title(rule: str) -> str:
    """The rule's title in a note (its sentence, escaped, for a rule without one)."""
    return RULE_LATEX.get(rule) or latex_text(rule_sentence(rule))


# --- the renderers --------------------------------------------------------------------------------

class Renderer:
    """What every renderer shares: the profile, a printer, lines with notes, blocks."""

    #: Section title of each part of the derivation, in order of first appearance.
    TITLES = {"forward": "Forward pass", "backward": "Backward pass", "batch": "Over a batch"}
    #: How an unchecked, non-definition step was obtained.
    DERIVED = "computed by the engine from the lines above"

    def __init__(self, d, profile: Profile):
        self.d = d
        self.profile = profile
        self.printer = NotationLatexPrinter(profile, self.names(), self.bars(),
                                            self.activation_name)

    # hooks of the derivation kinds
    def names(self) -> dict:
        return {}

    def bars(self) -> dict:
        return {}

    def activation_name(self, function, argument):
        return None

    def section(self, step) -> str:
        return "backward"

    # symbols
    def sym(self, kind: str, layer=None) -> str:
        try:
            text = self.profile.symbol(kind, layer)
        except (KeyError, IndexError, ValueError) as exc:
            raise BadInput(f"notation template {self.profile.latex.get(kind)!r} for {kind!r} of "
                           f"profile {self.profile.name!r} cannot be filled in ({exc}); write "
                           "the layer index as {l}") from None
        return repair_scripts(text)

    def frac(self, of: str, wrt: str) -> str:
        return rf"\frac{{\partial {of}}}{{\partial {wrt}}}"

    def nabla(self, wrt: str, of: str) -> str:
        return rf"\nabla_{{{wrt}}} {of}"

    # lines
    def note(self, step) -> str:
        if step.check:
            how = "; checked: " + check_latex(step.check)
        elif step.rule in DEFINITIONS:
            how = ""
        else:
            how = "; " + self.DERIVED
        extra = " (entrywise)" if has_entrywise(step.rhs) else ""
        return rf"\textit{{{rule_title(step.rule)}}}{extra}{how}."

    def rhs(self, value) -> str:
        return self.printer.doprint(value)

    def body(self) -> str:
        """The steps: one block per run of steps of one section."""
        blocks, current, previous = [], None, None
        for number, step in enumerate(self.d.steps, start=1):
            section = self.section(step)
            if current is None or section != current[0]:
                current = (section, [])
                blocks.append(current)
                previous = None
            lhs = "" if step.lhs == previous else self.lhs(step.lhs)
            current[1].append((lhs, self.rhs(step.rhs), self.note(step), number))
            previous = step.lhs
        return "\n\n".join(block(self.TITLES[section], lines) for section, lines in blocks)

    def lhs(self, label) -> str:
        method = self.LHS.get(label.kind)
        if method is None:
            return r"\text{" + latex_text(str(label)) + "}"
        return method(self, label)

    LHS: dict = {}

    # the parts of the document
    def header(self) -> str:
        return ""

    def gradients(self) -> str:
        return ""

    def simplification(self) -> str:
        return ""

    def footer(self) -> str:
        return ""

    def document(self) -> str:
        """Header, steps, gradients, the recognised simplification, the overall check."""
        parts = [self.header(), self.body(), self.gradients(), self.simplification(),
                 self.footer()]
        return "\n\n".join(part for part in parts if part) + "\n"


def has_entrywise(value) -> bool:
    return isinstance(value, sp.Basic) and any(is_node(n, "Entrywise2")
                                               for n in sp.preorder_traversal(value))


def block(title: str, lines: list) -> str:
    """One ``align*``: the first line's note in a paragraph before it, the others as
    ``\\intertext`` between the lines."""
    out = [rf"\noindent\textbf{{{title}.}} {lines[0][2]}", r"\begin{align*}"]
    for i, (lhs, rhs, note, number) in enumerate(lines):
        if i:
            out.append(rf"\intertext{{{note}}}")
        end = r"\\" if i + 1 < len(lines) else ""
        out.append(rf"{lhs} &= {rhs} \tag{{{number}}}{end}")
    out.append(r"\end{align*}")
    return "\n".join(out)


def summary(title: str, intro: str, lines: list[tuple[str, str]]) -> str:
    """An untagged ``align*`` of results (the gradients)."""
    out = [rf"\noindent\textbf{{{title}.}} {intro}", r"\begin{align*}"]
    out += [rf"{lhs} &= {rhs}" + (r"\\" if i + 1 < len(lines) else "")
            for i, (lhs, rhs) in enumerate(lines)]
    out.append(r"\end{align*}")
    return "\n".join(out)


class NetworkRenderer(Renderer):
    """What the matrix-form and concrete renderers share: layers, activations, signals."""

    batch = False

    # activations: the profile's Φ for the network's elementwise, non-identity activations
    def layer_activations(self) -> list:
        """(layer, activation) in layer order."""
        raise NotImplementedError

    def _named_layers(self) -> list:
        return [(layer, act) for layer, act in self.layer_activations()
                if not act.vector_valued and act.expr != ACTIVATION_VARIABLE]

    def _uniform(self) -> bool:
        return len({act.function for _, act in self._named_layers()}) == 1

    def phi(self, layer) -> str:
        """The name of layer ``layer``'s activation: the profile's Φ, or the registry's name."""
        named = dict((str(l), act) for l, act in self._named_layers())
        if str(layer) not in named:
            return dict((str(l), a) for l, a in self.layer_activations())[str(layer)].latex
        if self._uniform():
            return self.sym("phi")
        indexed = self.sym("phi", layer)
        if indexed == self.sym("phi"):            # a template without the layer: add it
            indexed = decorate(indexed, self.profile.layer_index(layer))
        return indexed

    def legend(self) -> str:
        """Which function Φ is (with its derivative and how that was checked)."""
        seen, parts = [], []
        for layer, act in self._named_layers():
            name = self.phi(layer)
            if name in seen:
                continue
            seen.append(name)
            printer = NotationLatexPrinter(self.profile)
            variable = paren(printer.doprint(ACTIVATION_VARIABLE))
            derivative = (rf"${prime(act.latex)}{variable} = "
                          rf"{printer.doprint(act.printed_derivative)}$ "
                          f"(checked: {check_latex(act.check)})")
            definition = printer.doprint(act.expr)
            if isinstance(act.expr, sp.Function) and act.expr.args == (ACTIVATION_VARIABLE,) \
                    or definition == act.latex + variable:
                parts.append(rf"${name} = {act.latex}$, where {derivative}")   # tanh: no more
            else:
                parts.append(rf"${name} = {act.latex}$, where ${act.latex}{variable} = "
                             rf"{definition}$ and {derivative}")
        if not parts:
            return ""
        return r"\noindent Activation: " + "; ".join(parts) + "."

    # shared left sides
    def a(self, layer) -> str:
        if layer == 0:
            return self.sym("X" if self.batch else "x")
        return self.sym("A" if self.batch else "a", layer)

    def signal_names_row(self) -> bool:
        """Whether the profile names the row signal P^j (ensimag 𝓟^j) rather than spelling it
        as a derivative (cs229's ∂L/∂a^{[l]}), which is then written out here."""
        text = self.sym("P", 1)
        return r"\frac" not in text and r"\partial" not in text

    def cost_derivative(self, layer, cost: str, row: bool) -> str:
        """∂C/∂a^{layer}: a fraction (numerator layout) or ∇ (denominator), with Ensimag's
        name P^{layer+1} in front for a per-sample row signal when the profile has one."""
        wrt = self.a(layer)
        numerator = self.d.layout == "numerator"
        value = self.frac(cost, wrt) if numerator else self.nabla(wrt, cost)
        if row and self.signal_names_row():
            name = self.sym("P", layer + 1)
            name = name if numerator else transpose_symbol(name, self.profile.transpose)
            return f"{name} = {value}"
        return value

    def derivative(self, of: str, wrt: str) -> str:
        """∂(scalar)/∂(parameter): a fraction in numerator layout, ∇ in denominator layout."""
        return self.frac(of, wrt) if self.d.layout == "numerator" else self.nabla(wrt, of)

    def parameter(self, name: str, layer) -> str:
        return self.sym(name[0], layer)

    def simplification(self) -> str:
        """Which line is the recognised output simplification (ŷ − y), if any."""
        if not self.d.simplification:
            return ""
        lines = [n for n, step in enumerate(self.d.steps, start=1)
                 if step.rule in ("simplify", "target_domain")]
        return (rf"\noindent Recognised simplification: line ({lines[-1]}) is the residual, "
                "prediction minus target.") if lines else ""

    #: How the header names the form of the derivation, and its samples.
    FORM = ""

    def samples(self) -> str:
        return "one sample"

    def header(self) -> str:
        net, profile, layout = self.net, self.profile, self.d.layout
        comment = (f"% generated by symbackprop: {net.describe()}; notation {profile.name}; "
                   f"{layout} layout; {self.samples()}")
        paragraphs = [rf"\noindent Backpropagation {self.FORM}for a {latex_text(net.describe())},"
                      f" in the notation profile {latex_text(profile.name)}; "
                      f"{self.samples()}; derivatives in {layout} layout, gradients in the "
                      "shape of their parameter.", self.legend()]
        if any(has_entrywise(step.rhs) for step in self.d.steps):
            paragraphs.append(r"\noindent Inside the per-entry loss and its derivative, sums, "
                              f"products (${profile.hadamard}$), fractions, powers and functions "
                              "of vectors are taken entry by entry.")
        return comment + "\n" + "\n\n".join(p for p in paragraphs if p)
