"""Plain-text rendering of a derivation (what ``python -m derive mlp`` prints).

One printer per format (STYLE.md point 5): this one turns :class:`~derive.derivation.Step` data
into readable lines; it computes nothing.
"""

from __future__ import annotations

import json

import sympy as sp

from ..derivation import RULES

_FORWARD = {"z", "a", "C"}
_GRADIENT_KINDS = {"grad"}


def matrix_text(value: sp.Basic) -> str:
    """``[e11, e12; e21, e22]`` for a Matrix, ``sstr`` for anything else."""
    if isinstance(value, sp.MatrixBase):
        if value.shape == (1, 1):
            return sp.sstr(value[0, 0])
        rows = ["; ".join([]) or ", ".join(sp.sstr(e) for e in value.row(i))
                for i in range(value.rows)]
        return "[" + "; ".join(rows) + "]"
    return sp.sstr(value)


def render_text(derivation) -> str:
    """The whole derivation as plain text: header, forward pass, backward pass, gradients."""
    net = derivation.network
    lines = [f"symbackprop: backpropagation for a {net.describe()}",
             f"layout: {derivation.layout} (derivatives); gradients have the shape of their "
             "parameter",
             ""]
    sections = [("Forward pass: layer functions f^j = Phi(psi(a^{j-1}, W^j, b^j))", _FORWARD),
                ("Backward pass (seed 003): P^j = dC/da^{j-1}, B^j = Phi'(z^j) (.) [P^{j+1}]^T",
                 None)]
    numbered = 0
    for title, kinds in sections:
        lines.append(title)
        for step in derivation.steps:
            in_section = step.lhs.kind in _FORWARD if kinds else step.lhs.kind not in _FORWARD
            if not in_section:
                continue
            numbered += 1
            head = step.form or str(step.lhs)
            lines.append(f"  ({numbered}) {head}")
            lines.append(f"      {step.lhs} = {matrix_text(step.rhs)}")
            note = RULES[step.rule] + (f"; checked: {step.check}" if step.check else "")
            lines.append(f"      by {note}")
        lines.append("")
    reduction = "mean" if net.reduction == "mean" else "sum"
    lines.append(f"Gradients of the per-sample cost C (the batch cost E is the {reduction} over "
                 "samples, and so is its gradient)")
    for name, value in derivation.gradients.items():
        lines.append(f"  grad_{name} = {matrix_text(value)}")
    if derivation.simplification:
        lines.append("")
        lines.append(f"Recognised simplification: {derivation.simplification}")
    return "\n".join(lines) + "\n"


def derivation_dict(derivation) -> dict:
    """A JSON-able dict: network, steps with rules, gradients and definitions as SymPy strings."""
    net = derivation.network
    return {
        "network": {"sizes": list(net.sizes),
                    "activations": [layer.activation.name for layer in net.layers],
                    "loss": net.loss.name, "convention": net.convention,
                    "reduction": net.reduction},
        "layout": derivation.layout,
        "simplification": derivation.simplification,
        "steps": [step.as_dict() for step in derivation.steps],
        "definitions": {sp.sstr(s): sp.sstr(v) for s, v in derivation.program.definitions},
        "gradients": {name: [[sp.sstr(e) for e in value.row(i)] for i in range(value.rows)]
                      for name, value in derivation.gradients.items()},
    }


def render_json(derivation) -> str:
    return json.dumps(derivation_dict(derivation), indent=1, ensure_ascii=False)
