r"""The general formula each step instantiates, and each rule's sentence, in words.

A step is data — a label (kind, layer, neuron, node), a value, a rule — so the formula it is an
instance of ("P^3 = P^4 . df^3/da^2") follows from that data and the derivation's own: the
network's weight convention and reduction, the layout, one sample or a batch.  This module
states every such formula once, in plain text and in LaTeX, as templates of the one placeholder
syntax of :mod:`derive.naming` (``{l}``, ``{l-1}``, ``{l+1}``, ``{wrt}``; any other brace is
literal).  Three presentations have forms: the Ensimag per-neuron recursion
(``PerNeuronDerivation``: P^j, ∂f^j/∂w_k^j, B^j), the matrix form
(``MatrixDerivation``: each reverse-mode step followed by the identities it applied,
``step.uses``), and computation graphs (``GraphDerivation``).  Derivations are told apart by class name, so this module imports no
engine.

In denominator layout every derivative is the transpose of its numerator form, and its formula
says so: the same factors in reversed order ((AB)ᵀ = BᵀAᵀ).

>>> from derive.network import mlp
>>> from derive.api import backprop
>>> d = backprop(mlp([2, 3, 1], activation="sigmoid", loss="bce"))
>>> [form_text(d, s) for s in d.steps if s.rule == "recursion_start"]
['P^3 = dC/da^2']
>>> [form_latex(d, s) for s in d.steps if s.lhs.kind == "z"][0]
'z^{1} = W^{1} a^{0} + b^{1}'
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..derivation import RULES
from ..naming import fill, index_text
from .latex_escape import latex_text, math_name

__all__ = ["Form", "form_latex", "form_text", "rule_sentence"]


@dataclass(frozen=True)
class Form:
    """One general formula: plain text and LaTeX (math mode), templates of
    :func:`derive.naming.fill`."""

    text: str
    latex: str

    def filled(self, **values) -> "Form":
        return Form(fill(self.text, **values), fill(self.latex, **values))

    def __add__(self, other: "Form") -> "Form":
        return Form(self.text + other.text, self.latex + other.latex)


def rule_sentence(rule: str) -> str:
    """The sentence that justifies ``rule`` (a key of :data:`derive.derivation.RULES`)."""
    entry = RULES[rule]
    return entry if isinstance(entry, str) else entry.statement


# --- forward steps: shared by the per-neuron and the matrix form ----------------------------------

#: z^l = ψ(a^{l-1}, W^l, b^l) in each weight convention.
PRE_ACTIVATION = {
    "rows": Form("z^{l} = W^{l} a^{l-1} + b^{l}", r"z^{{l}} = W^{{l}} a^{{l-1}} + b^{{l}}"),
    "columns": Form("z^{l} = [W^{l}]^T a^{l-1} + b^{l}",
                    r"z^{{l}} = [W^{{l}}]^{T} a^{{l-1}} + b^{{l}}"),
    "augmented": Form("z^{l} = W~^{l} [1; a^{l-1}]",
                      r"z^{{l}} = \tilde{W}^{{l}} \begin{bmatrix} 1 \\ a^{{l-1}} \end{bmatrix}"),
}
ACTIVATION = Form("a^{l} = Phi(z^{l})", r"a^{{l}} = \Phi(z^{{l}})")
NOTHING = Form("", "")


def _layer_form(d, step) -> Form | None:
    if step.lhs.kind == "z":
        return PRE_ACTIVATION[_convention(d, step.lhs.layer)].filled(l=step.lhs.layer)
    if step.lhs.kind == "a":
        return ACTIVATION.filled(l=step.lhs.layer)
    return None


def _convention(d, layer) -> str:
    """The weight convention of layer ``layer``: one per network today."""
    return d.network.convention


# --- the Ensimag per-neuron recursion ----------------------------------------------------------

def _d(of: str, wrt: str) -> str:
    return rf"\frac{{\partial {of}}}{{\partial {wrt}}}"


_DPHI = _d(r"\Phi^{{l}}", "z^{{l}}")
_DF_DA, _DF_DW, _DF_DB = (_d("f^{{l}}", wrt) for wrt in ("a^{{l-1}}", "w_k^{{l}}", "b^{{l}}"))
_DPSI_DA, _DPSI_DW, _DPSI_DB = (_d(r"\psi^{{l}}", wrt)
                                for wrt in ("a^{{l-1}}", "w_k^{{l}}", "b^{{l}}"))

#: Backward steps of the per-neuron form, per label kind: (numerator, denominator layout).
NEURON_BACKWARD = {
    "df/da": (Form("df^{l}/da^{l-1} = dPhi^{l}/dz^{l} . dpsi^{l}/da^{l-1}",
                   f"{_DF_DA} = {_DPHI} {_DPSI_DA}"),
              Form("df^{l}/da^{l-1} = dpsi^{l}/da^{l-1} . dPhi^{l}/dz^{l}",
                   f"{_DF_DA} = {_DPSI_DA} {_DPHI}")),
    "df/dw": (Form("df^{l}/dw_k^{l} = dPhi^{l}/dz^{l} . dpsi^{l}/dw_k^{l}",
                   f"{_DF_DW} = {_DPHI} {_DPSI_DW}"),
              Form("df^{l}/dw_k^{l} = dpsi^{l}/dw_k^{l} . dPhi^{l}/dz^{l}",
                   f"{_DF_DW} = {_DPSI_DW} {_DPHI}")),
    "df/db": (Form("df^{l}/db^{l} = dPhi^{l}/dz^{l} . dpsi^{l}/db^{l}",
                   f"{_DF_DB} = {_DPHI} {_DPSI_DB}"),
              Form("df^{l}/db^{l} = dpsi^{l}/db^{l} . dPhi^{l}/dz^{l}",
                   f"{_DF_DB} = {_DPSI_DB} {_DPHI}")),
    "dE/dw": (Form("dE/dw_k^{l} = P^{l+1} . df^{l}/dw_k^{l}",
                   _d("E", "w_k^{{l}}") + " = P^{{l+1}} " + _DF_DW),
              Form("dE/dw_k^{l} = df^{l}/dw_k^{l} . P^{l+1}",
                   _d("E", "w_k^{{l}}") + f" = {_DF_DW} " + "P^{{l+1}}")),
    "dE/db": (Form("dE/db^{l} = P^{l+1} . df^{l}/db^{l}",
                   _d("E", "b^{{l}}") + " = P^{{l+1}} " + _DF_DB),
              Form("dE/db^{l} = df^{l}/db^{l} . P^{l+1}",
                   _d("E", "b^{{l}}") + f" = {_DF_DB} " + "P^{{l+1}}")),
    "P": (Form("P^{l} = P^{l+1} . df^{l}/da^{l-1}", "P^{{l}} = P^{{l+1}} " + _DF_DA),
          Form("P^{l} = df^{l}/da^{l-1} . P^{l+1}", "P^{{l}} = " + _DF_DA + " P^{{l+1}}")),
    "dC/dz": (Form("dC/dz^{l} = dC/da^{l} . dPhi^{l}/dz^{l}",
                   f"{_d('C', 'z^{{l}}')} = {_d('C', 'a^{{l}}')} {_DPHI}"),
              Form("dC/dz^{l} = dPhi^{l}/dz^{l} . dC/da^{l}",
                   f"{_d('C', 'z^{{l}}')} = {_DPHI} {_d('C', 'a^{{l}}')}")),
}
#: ∇ from ∂ (rule ``gradient_transpose``), per parameter letter: (numerator, denominator).
NEURON_GRADIENT = {
    "W": (Form("grad_{w_k} E = [dE/dw_k]^T, one per neuron, laid out as W",
               r"\nabla_{w_k} E = \left[\frac{\partial E}{\partial w_k}\right]^{T}"
               r"\text{, one per neuron, laid out as } W"),
          Form("grad_{w_k} E = dE/dw_k, one per neuron, laid out as W",
               r"\nabla_{w_k} E = \frac{\partial E}{\partial w_k}"
               r"\text{, one per neuron, laid out as } W")),
    "b": (Form("grad_b{l} E = [dE/db^{l}]^T",
               r"\nabla_{b^{{l}}} E = \left[\frac{\partial E}{\partial b^{{l}}}\right]^{T}"),
          Form("grad_b{l} E = dE/db^{l}",
               r"\nabla_{b^{{l}}} E = \frac{\partial E}{\partial b^{{l}}}")),
}
#: ∇W^l E from the column signal B^l, per weight convention; and ∇b^l E.
SIGNAL_GRADIENT = {
    "rows": Form("grad_W{l} E = B^{l} [a^{l-1}]^T",
                 r"\nabla_{W^{{l}}} E = B^{{l}} [a^{{l-1}}]^{T}"),
    "columns": Form("grad_W{l} E = a^{l-1} [B^{l}]^T",
                    r"\nabla_{W^{{l}}} E = a^{{l-1}} [B^{{l}}]^{T}"),
    "augmented": Form("grad_W{l} E = B^{l} [1; a^{l-1}]^T",
                      r"\nabla_{W^{{l}}} E = B^{{l}} "
                      r"\begin{bmatrix} 1 \\ a^{{l-1}} \end{bmatrix}^{T}"),
}
SIGNAL_BIAS_GRADIENT = Form("grad_b{l} E = B^{l}", r"\nabla_{b^{{l}}} E = B^{{l}}")
#: B^l from B^{l+1}, per weight convention.
SIGNAL_RECURSION = {
    "rows": Form("B^{l} = Phi'(z^{l}) (.) ([W^{l+1}]^T B^{l+1})",
                 r"B^{{l}} = \Phi'(z^{{l}}) \odot ([W^{{l+1}}]^{T} B^{{l+1}})"),
    "columns": Form("B^{l} = Phi'(z^{l}) (.) (W^{l+1} B^{l+1})",
                    r"B^{{l}} = \Phi'(z^{{l}}) \odot (W^{{l+1}} B^{{l+1}})"),
    "augmented": Form("B^{l} = Phi'(z^{l}) (.) ([W^{l+1} without its bias column]^T B^{l+1})",
                      r"B^{{l}} = \Phi'(z^{{l}}) \odot ([\bar{W}^{{l+1}}]^{T} B^{{l+1}})"),
}
NEURON_FORMS = {
    "loss": Form("C = sum_k l(a^L_k, y_k)", r"C = \sum_k \ell(a^L_k, y_k)"),
    "recursion_start": Form("P^{l} = dC/da^{l-1}", "P^{{l}} = " + _d("C", "a^{{l-1}}")),
    "elementwise": Form("dPhi^{l}/dz^{l} = diag(Phi'(z^{l}))",
                        _DPHI + r" = \operatorname{diag}(\Phi'(z^{{l}}))"),
    "softmax": Form("dPhi^{l}/dz^{l} = diag(s) - s s^T",
                    _DPHI + r" = \operatorname{diag}(s) - s s^{T}"),
    "signal_definition": Form("B^{l} = Phi'(z^{l}) (.) grad_a{l} C",
                              r"B^{{l}} = \Phi'(z^{{l}}) \odot \nabla_{a^{{l}}} C"),
}
#: E over a batch and its gradient, per reduction.
NEURON_REDUCTION = {
    "mean": Form("E = (1/N) sum_n C^(n);  grad E = (1/N) sum_n grad C^(n)",
                 r"E = \frac{1}{N} \sum_n C^{(n)};\quad \nabla E = \frac{1}{N} \sum_n "
                 r"\nabla C^{(n)}"),
    "sum": Form("E = sum_n C^(n);  grad E = sum_n grad C^(n)",
                r"E = \sum_n C^{(n)};\quad \nabla E = \sum_n \nabla C^{(n)}"),
}
#: The fused output signal ∂C/∂z^L: how it was simplified, on what targets, whether it is ŷ − y.
FUSED_WRITTEN_OUT = Form(" with a^{l} = Phi(z^{l}) written out",
                         r"\quad\text{with } a^{{l}} = \Phi(z^{{l}}) \text{ written out}")
FUSED_IN_OUTPUT = Form(" with Phi' written in a^{l}",
                       r"\quad\text{with } \Phi' \text{ written in } a^{{l}}")
SIMPLEX_TARGETS = Form(" using simplex targets: sum_k y_k = 1",
                       r"\text{, using simplex targets: } \sum_k y_k = 1")
RECOGNISED = Form("  =>  yhat - y (recognised)", r"\ \Rightarrow\ \hat{y} - y")


def _neuron_form(d, step) -> Form | None:
    label, rule = step.lhs, step.rule
    layout = 0 if d.layout == "numerator" else 1
    l = label.layer
    if rule == "layer":
        return _layer_form(d, step)
    if rule == "reduction":
        return NEURON_REDUCTION[d.network.reduction]
    if rule in ("loss", "recursion_start", "signal_definition"):
        return NEURON_FORMS[rule].filled(l=l)
    if rule == "activation_derivative":
        # Until the derivation exposes its explicit layer symbols: the network's layers.
        vector = d.network.layers[l - 1].activation.vector_valued
        return NEURON_FORMS["softmax" if vector else "elementwise"].filled(l=l)
    if rule in ("chain_rule", "weight_gradient", "bias_gradient", "recursion"):
        return NEURON_BACKWARD[label.kind][layout].filled(l=l)
    if rule == "gradient_transpose":
        return NEURON_GRADIENT[label.wrt[0]][layout].filled(l=l)
    if rule == "signal_gradient":
        if label.wrt.startswith("W"):
            return SIGNAL_GRADIENT[_convention(d, l)].filled(l=l)
        return SIGNAL_BIAS_GRADIENT.filled(l=l)
    if rule == "signal_recursion":
        return SIGNAL_RECURSION[_convention(d, l)].filled(l=l)
    if rule in ("simplify", "target_domain"):
        form = NEURON_BACKWARD["dC/dz"][layout]
        form += FUSED_WRITTEN_OUT if _written_out(d, step.check) else FUSED_IN_OUTPUT
        if d.network.loss.targets == "simplex":
            form += SIMPLEX_TARGETS
        if d.simplification:
            form += RECOGNISED
        return form.filled(l=l)
    return None


def _written_out(d, check) -> bool:
    """Whether the fused ∂C/∂z^L was shown to be a^L − y with a = Φ(z) written out (an
    activation whose derivative has no form in its output), rather than simplified in a^L."""
    activation = d.network.layers[-1].activation
    return not activation.vector_valued and \
        activation.derivative_in_output(sp.Symbol("a", real=True)) is None


# --- the matrix form ------------------------------------------------------------------------------

MATRIX_FORMS = {
    "loss": Form("C = sum_k l(a^L_k, y_k) = 1^T l(a^L, y)",
                 r"C = \sum_k \ell(a^L_k, y_k) = \mathbf{1}^{T} \ell(a^L, y)"),
    "loss_gradient": Form("dC/da^L = l'(a^L, y)", rf"{_d('C', 'a^L')} = \ell'(a^L, y)"),
    "output_signal": Form("B^{l} = grad_z C = (da/dz)^T grad_a C",
                          r"B^{{l}} = \nabla_{z} C = \left(\frac{\partial a}{\partial z}"
                          r"\right)^{T} \nabla_{a} C"),
    "signal_recursion": Form("B^{l} = Phi'(z) (.) grad_a C",
                             r"B^{{l}} = \Phi'(z) \odot \nabla_{a} C"),
    "fused": Form("Phi' written in a^L, fused with l'",
                  r"\Phi' \text{ written in } a^L \text{, fused with } \ell'"),
    "recognised": Form("  =>  a^L - y (recognised)", r"\ \Rightarrow\ a^L - y"),
    "gradient_transpose": Form("grad_{wrt} = [d/d{wrt}]^T",
                               r"\nabla_{{wrt}} = \left[\frac{\partial}{\partial {wrt}}"
                               r"\right]^{T}"),
    "parameter_gradient": Form("grad_{wrt} = (dz/d{wrt})^T B",
                               r"\nabla_{{wrt}} = \left(\frac{\partial z}{\partial {wrt}}"
                               r"\right)^{T} B"),
}
#: ∂C/∂θ (one sample) or ∂E/∂θ (a batch) from the gradient, in numerator layout.
MATRIX_DERIVATIVE = {False: Form("dC/d{wrt} = [grad]^T",
                                 r"\frac{\partial C}{\partial {wrt}} = [\nabla]^{T}"),
                     True: Form("dE/d{wrt} = [grad]^T",
                                r"\frac{\partial E}{\partial {wrt}} = [\nabla]^{T}")}
#: ∂C/∂a^l of a hidden layer: (numerator: the row signal P^{l+1}, denominator: the gradient).
MATRIX_HIDDEN = (Form("P^{l+1} = dC/da^{l}", "P^{{l+1}} = " + _d("C", "a^{{l}}")),
                 Form("grad_a{l} C", r"\nabla_{a^{{l}}} C"))
#: E over a batch, per reduction.
MATRIX_BATCH_LOSS = {
    "mean": Form("E = (1/N) sum_n C^(n) = (1/N) 1^T l(A^L, Y) 1",
                 r"E = \frac{1}{N} \sum_n C^{(n)} = \frac{1}{N} \mathbf{1}^{T} \ell(A^L, Y) "
                 r"\mathbf{1}"),
    "sum": Form("E = sum_n C^(n) = 1^T l(A^L, Y) 1",
                r"E = \sum_n C^{(n)} = \mathbf{1}^{T} \ell(A^L, Y) \mathbf{1}"),
}
PER_SAMPLE_OF_MEAN = Form(" (per sample; grad_A E = (1/N) of it)",
                          r"\quad\text{(per sample; } \nabla_{A} E = \frac{1}{N} "
                          r"\text{ of it)}")


def _matrix_form(d, step) -> Form | None:
    label, rule = step.lhs, step.rule
    l, numerator = label.layer, d.layout == "numerator"
    if rule == "layer":
        return _layer_form(d, step)
    if rule == "loss":
        return MATRIX_FORMS["loss"]
    if rule == "batch_loss":
        return MATRIX_BATCH_LOSS[d.network.reduction]
    if rule == "loss_gradient":
        mean = d.batch and d.network.reduction == "mean"
        return MATRIX_FORMS["loss_gradient"] + (PER_SAMPLE_OF_MEAN if mean else NOTHING)
    if rule in ("simplify", "target_domain"):
        return MATRIX_FORMS["fused"] + (MATRIX_FORMS["recognised"] if d.simplification
                                        else NOTHING)
    if rule == "gradient_transpose":
        return _parameter(MATRIX_FORMS["gradient_transpose"], label.wrt, l)
    if rule == "signal_recursion":
        return MATRIX_FORMS["signal_recursion"].filled(l=l)
    if rule != "vjp":
        return None
    if label.kind in ("B", "D"):
        return MATRIX_FORMS["output_signal"].filled(l=l)
    if label.kind in ("dE/dW", "dE/db"):
        return _parameter(MATRIX_DERIVATIVE[bool(d.batch)], label.kind[-1] + index_text(l), l)
    if label.kind == "grad":
        return _parameter(MATRIX_FORMS["parameter_gradient"], label.wrt, l)
    if label.kind == "dC/da":
        return MATRIX_HIDDEN[0 if numerator else 1].filled(l=l)
    return None


def _parameter(form: Form, name: str, layer) -> Form:
    """``form`` of parameter ``name`` (``W2``, ``bj``): its name in text, ``W^{l}`` in LaTeX."""
    latex = f"{name[0]}^{{{index_text(layer)}}}"
    return Form(fill(form.text, wrt=name), fill(form.latex, wrt=latex))


def _uses(step) -> str:
    """The identities a reverse-mode step applied, in order of first use, ``"; "``-joined."""
    names = []
    for use in step.uses:
        name = use if isinstance(use, str) else use.rule
        if name not in names:
            names.append(name)
    return "; ".join(names)


# --- computation graphs ---------------------------------------------------------------------------

def _graph_form(d, step) -> Form | None:
    label = step.lhs
    if label.kind == "node":
        text = dict(d.graph.nodes)[label.of]
        text = text if isinstance(text, str) else sp.sstr(text)
        return Form(f"{label.of} = {text}",
                    rf"{math_name(label.of)} = \text{{{latex_text(text)}}}")
    if label.kind != "partial":
        return None
    of, wrt = label.of, label.wrt
    if step.rule == "diff":
        child, parent = _unvec(of), _unvec(wrt)
        return Form(f"d{of}/d{wrt}: local Jacobian of {child} by its input {parent}",
                    rf"{_d(_graph_latex(of), _graph_latex(wrt))}\quad\text{{local Jacobian of }} "
                    rf"{math_name(child)} \text{{ by its input }} {math_name(parent)}")
    J = d.output
    adjoint = _d(math_name(J), math_name(wrt))
    if wrt == J:
        return Form(f"d{J}/d{J} = 1", f"{adjoint} = 1")
    children = d.children.get(wrt, [])
    if not children:
        return Form(f"d{J}/d{wrt} = 0: {J} does not depend on {wrt}",
                    rf"{adjoint} = 0\quad\text{{: }} {math_name(J)} \text{{ does not depend on }} "
                    rf"{math_name(wrt)}")
    texts, latex = [], []
    for child in children:
        c_of, c_wrt = _local_names(d, child, wrt)
        outer, inner = f"d{J}/d{c_of}", f"d{c_of}/d{c_wrt}"
        outer_tex = _d(math_name(J), _graph_latex(c_of))
        inner_tex = _d(_graph_latex(c_of), _graph_latex(c_wrt))
        if d.layout == "numerator":
            texts.append(f"{outer} · {inner}")
            latex.append(f"{outer_tex} {inner_tex}")
        else:
            texts.append(f"{inner} · {outer}")
            latex.append(f"{inner_tex} {outer_tex}")
    form = Form(f"d{J}/d{wrt} = " + " + ".join(texts), f"{adjoint} = " + " + ".join(latex))
    if d.variables[wrt].kind == "matrix":
        form += Form(f" (over vec({wrt}), arranged in the layout's shape)",
                     rf"\quad\text{{(over }} \operatorname{{vec}}({math_name(wrt)})"
                     r"\text{, arranged in the layout's shape)}")
    return form


def _unvec(name: str) -> str:
    return name[4:-1] if name.startswith("vec(") and name.endswith(")") else name


def _graph_latex(name: str) -> str:
    inner = _unvec(name)
    return rf"\operatorname{{vec}}({math_name(inner)})" if inner != name else math_name(name)


def _local_names(d, child: str, parent: str) -> tuple[str, str]:
    """How the local Jacobian ∂child/∂parent names its two sides: a matrix by vec, except a
    matrix differentiated from a scalar, which keeps its shape."""
    c, p = d.variables[child].kind, d.variables[parent].kind
    of = f"vec({child})" if c == "matrix" else child
    if p == "matrix" and c == "scalar":
        return of, parent
    return of, f"vec({parent})" if p == "matrix" else parent


# --- the entry points ----------------------------------------------------------------------------

#: Derivation class name → the function giving the form of one of its steps.
PRESENTATIONS = {"PerNeuronDerivation": _neuron_form,
                 "MatrixDerivation": _matrix_form, "GraphDerivation": _graph_form}


def _form(d, step) -> Form | None:
    for cls in type(d).__mro__:
        presentation = PRESENTATIONS.get(cls.__name__)
        if presentation is not None:
            return presentation(d, step)
    return None


def form_text(d, step) -> str:
    """The general formula ``step`` of derivation ``d`` instantiates, in plain text ("" when it
    has none); a matrix-form reverse-mode step ends with the identities it applied in
    brackets (``[product rule d(XY) = dX Y + X dY]``)."""
    form = _form(d, step)
    text = form.text if form is not None else ""
    uses = _uses(step)
    if uses and text:
        text += f"  [{uses}]"
    return text


def form_latex(d, step) -> str:
    """The same formula as LaTeX math ("" when it has none)."""
    form = _form(d, step)
    return form.latex if form is not None else ""
